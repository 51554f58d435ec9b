import Glibc

/// Runs work on a fixed number of threads and waits for all of them.
///
/// Dispatch's `concurrentPerform` stops at the number of processors, which suits CPU work
/// but not connections that mostly wait on a server; these are real threads.
package enum Workers {
    /// Calls `body(index)` for `index` in `0..<count`, each on its own thread.
    package static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 1 else {
            body(0)
            return
        }
        var threads: [pthread_t] = []
        for index in 0..<count {
            let task = Unmanaged.passRetained(Task { body(index) }).toOpaque()
            var thread = pthread_t()
            let result = pthread_create(
                &thread, nil,
                { context in
                    if let context { Unmanaged<Task>.fromOpaque(context).takeRetainedValue().body() }
                    return nil
                }, task)
            if result == 0 {
                threads.append(thread)
            } else {
                // No thread to be had: do the work here rather than lose it.
                Unmanaged<Task>.fromOpaque(task).takeRetainedValue().body()
            }
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    private final class Task: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
}
