import Foundation
import Postroom
import PostroomCore
import Synchronization
import Testing

/// The thread that prepares messages ahead of the sender: results in order, a failure in its
/// place, never more than its depth ahead, and what was not taken handed back at the stop.
@Suite(.timeLimit(.minutes(1))) struct LookaheadTests {
    /// Counts up to `limit`, then ends (or fails at `failAt`); records what it made and discarded.
    final class Source: @unchecked Sendable {
        let made = Mutex(0)
        let discarded = Mutex<[Int]>([])
        let limit: Int
        let failAt: Int?
        init(limit: Int, failAt: Int? = nil) { (self.limit, self.failAt) = (limit, failAt) }

        func lookahead(depth: Int) -> Lookahead<Int> {
            Lookahead(
                depth: depth,
                produce: { () throws(PostroomError) -> Int? in
                    let next = self.made.withLock { made -> Int? in
                        guard made < self.limit else { return nil }
                        made += 1
                        return made
                    }
                    if let next, next == self.failAt {
                        throw .io(operation: "read", path: "message \(next)", errno: 5)
                    }
                    return next
                }, discard: { value in self.discarded.withLock { $0.append(value) } })
        }
    }

    @Test func everyResultComesOnceInOrderAndPeekShowsTheNext() throws {
        let source = Source(limit: 100)
        let ahead = source.lookahead(depth: 3)
        defer { ahead.stop() }
        var taken: [Int] = []
        while let next = try ahead.take() {
            taken.append(next)
            if let peeked = ahead.peek() { #expect(peeked == next + 1) } else { #expect(next == 100) }
        }
        #expect(taken == Array(1...100))
        #expect(try ahead.take() == nil)
    }

    @Test func aFailureComesInItsPlaceAndStays() throws {
        let source = Source(limit: 10, failAt: 4)
        let ahead = source.lookahead(depth: 2)
        #expect(try ahead.take() == 1)
        #expect(try ahead.take() == 2)
        #expect(ahead.peek() == 3)
        #expect(try ahead.take() == 3)
        #expect(ahead.peek() == nil)
        #expect(throws: PostroomError.self) { try ahead.take() }
        #expect(throws: PostroomError.self) { try ahead.take() }
        ahead.stop()
        // Nothing is produced after the failure.
        #expect(source.made.withLock { $0 } == 4)
    }

    @Test(arguments: [1, 3, 8])
    func itStaysWithinItsDepthAndHandsBackWhatWasNotTaken(depth: Int) throws {
        let source = Source(limit: 1000)
        let ahead = source.lookahead(depth: depth)
        #expect(try ahead.take() == 1)
        #expect(try ahead.take() == 2)
        // Let the thread fill its room, then check it went no further.
        _ = ahead.peek()
        var settled = 0
        while settled < 1000 {
            let before = source.made.withLock { $0 }
            for _ in 0..<100 { _ = ahead.peek() }
            settled = source.made.withLock { $0 } == before ? settled + 1 : 0
        }
        #expect(source.made.withLock { $0 } <= 2 + depth)
        ahead.stop()
        let made = source.made.withLock { $0 }
        #expect(source.discarded.withLock { $0 } == Array(3...made))
    }

    @Test func whatIsBeingMadeWhenStopComesIsHandedBackAndNothingAfter() throws {
        let started = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let made = Mutex(0)
        let discarded = Mutex<[Int]>([])
        let ahead = Lookahead<Int>(
            depth: 3,
            produce: { () throws(PostroomError) -> Int? in
                let number = made.withLock { made -> Int in
                    made += 1
                    return made
                }
                if number == 1 {
                    started.signal()
                    proceed.wait()
                }
                return number
            }, discard: { value in discarded.withLock { $0.append(value) } })
        started.wait()
        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            ahead.stop()
            stopped.signal()
        }
        // stop() waits for the element being made...
        #expect(stopped.wait(timeout: .now() + 0.3) == .timedOut)
        proceed.signal()
        stopped.wait()
        // ...and hands it back, with anything the thread made before it saw the stop.
        let count = made.withLock { $0 }
        #expect(count >= 1 && count <= 3)
        #expect(discarded.withLock { $0 } == Array(1...count))
        #expect(try ahead.take() == nil)
        #expect(made.withLock { $0 } == count)
    }
}
