import Glibc
import PostroomCore

/// Runs `produce` on a thread of its own, up to `depth` results ahead of the caller, so that
/// preparing the next messages (claiming, reading, DKIM signing) overlaps sending the current
/// one instead of waiting for it.
///
/// Invariant: every element produced is either returned by `take()` or handed to `discard` by
/// `stop()`, which returns only after the thread has ended; so a claim made ahead is never left
/// behind. Results come out in the order they were produced, a failure in its place. The owner
/// must call `stop()`: until then the thread keeps the object alive. After it, nothing more is
/// produced and `take()` gives nil.
package final class Lookahead<Element>: @unchecked Sendable {
    private enum Item {
        case element(Element)
        case end
        case failure(PostroomError)
    }

    private let depth: Int
    private let produce: () throws(PostroomError) -> Element?
    private let discard: (Element) -> Void
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// What was produced and not yet taken, oldest first; guarded by `mutex`.
    private var items: [Item] = []
    private var stopped = false
    /// Who waits on `changed`: the caller (nothing to take) or the thread (no room). Never both,
    /// since the buffer cannot be empty and full at once; so a signal wakes the right one, and
    /// only when someone waits.
    private var callerWaits = false
    private var threadWaits = false
    private var thread: pthread_t?

    /// Starts producing at once. Without a thread to be had, `take()` and `peek()` produce on
    /// the caller's thread instead: the same results, one after another.
    package init(
        depth: Int, produce: @escaping () throws(PostroomError) -> Element?, discard: @escaping (Element) -> Void
    ) {
        self.depth = max(1, depth)
        self.produce = produce
        self.discard = discard
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        thread = Workers.startThread { self.run() }
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// The next result, waiting for it: nil at the end; a failure is thrown (again on each call).
    package func take() throws(PostroomError) -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        switch nextItem() {
        case .element(let element):
            items.removeFirst()
            if threadWaits { pthread_cond_signal(changed) }
            return element
        case .end: return nil
        case .failure(let error): throw error
        }
    }

    /// What `take()` returns next, waiting for it; nil at the end or when it is a failure.
    package func peek() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard case .element(let element) = nextItem() else { return nil }
        return element
    }

    /// Ends production, waits for the thread and discards what was produced and not taken.
    package func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        for case .element(let element) in items { discard(element) }
        items.removeAll()
    }

    /// The oldest item, waiting for the thread (or producing it here when there is none).
    /// Called with `mutex` held.
    private func nextItem() -> Item {
        while items.isEmpty {
            if stopped { return .end }
            if thread == nil {
                items.append(Self.attempt(produce))
            } else {
                callerWaits = true
                pthread_cond_wait(changed, mutex)
                callerWaits = false
            }
        }
        return items[0]
    }

    /// The thread: produces while there is room, until the end, a failure or `stop()`.
    private func run() {
        while true {
            pthread_mutex_lock(mutex)
            while items.count >= depth && !stopped {
                threadWaits = true
                pthread_cond_wait(changed, mutex)
                threadWaits = false
            }
            let stop = stopped
            pthread_mutex_unlock(mutex)
            if stop { return }
            // Produced outside the lock: the caller takes what is ready meanwhile.
            let item = Self.attempt(produce)
            pthread_mutex_lock(mutex)
            // Kept even when stopped meanwhile: `stop()` discards it after the join.
            items.append(item)
            if callerWaits { pthread_cond_signal(changed) }
            pthread_mutex_unlock(mutex)
            guard case .element = item else { return }
        }
    }

    private static func attempt(_ produce: () throws(PostroomError) -> Element?) -> Item {
        do throws(PostroomError) {
            return try produce().map(Item.element) ?? .end
        } catch {
            return .failure(error)
        }
    }
}
