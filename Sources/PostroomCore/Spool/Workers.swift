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
            if let thread = startThread({ body(index) }) {
                threads.append(thread)
            } else {
                // No thread to be had: do the work here rather than lose it.
                body(index)
            }
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Starts a joinable thread running `body`; nil when none can be had (the caller then does
    /// the work itself). The one place a thread is started: `body` travels in a box, since the
    /// entry point is a C function that can capture nothing.
    package static func startThread(_ body: @escaping () -> Void) -> pthread_t? {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Task(body)).toOpaque()
        let started = pthread_create(
            &thread, nil,
            { context in
                if let context { Unmanaged<Task>.fromOpaque(context).takeRetainedValue().body() }
                return nil
            }, context)
        guard started == 0 else {
            Unmanaged<Task>.fromOpaque(context).release()
            return nil
        }
        return thread
    }

    private final class Task: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
}
