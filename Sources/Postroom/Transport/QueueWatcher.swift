import Glibc

/// Waits for work for `deliver --watch`: a new file in `outgoing/new/` (inotify), the next
/// deferred message coming due, or the interval passing.
///
/// `deferred/new/` is not watched: what arrives there is deliver's own deferrals, which are
/// not due (watching them made a pass stopped by an unreachable relay wake the next at once).
public final class QueueWatcher {
    private let spool: Spool
    private let fd: Int32

    /// Watches the queue that brings deliver new work.
    public init(spool: Spool) throws(PostroomError) {
        self.spool = spool
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw .io(operation: "watch (inotify_init1)", path: spool.root, errno: errno) }
        let path = spool.maildir(.outgoing).path(of: .new)
        guard inotify_add_watch(fd, path, UInt32(IN_MOVED_TO | IN_CLOSE_WRITE)) >= 0 else {
            let code = errno
            close(fd)
            throw .io(operation: "watch (inotify_add_watch)", path: path, errno: code)
        }
    }

    deinit { close(fd) }

    /// Seconds until the earliest deferred message is due (0 if one is due now), or nil if none waits.
    public func secondsUntilNextDue(now: Int = Timestamp.now().seconds) -> Int? {
        let maildir = spool.maildir(.deferred)
        var earliest: Int?
        for fileName in maildir.names(in: .new) {
            guard let info = FileSystem.status(maildir.path(of: MessageName(fileName: fileName), in: .new)) else {
                continue
            }
            earliest = min(earliest ?? info.st_mtim.tv_sec, info.st_mtim.tv_sec)
        }
        return earliest.map { max(0, $0 - now) }
    }

    /// Forgets the arrivals seen so far: a pass about to start reads the directory itself.
    public func discardArrivals() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Sleeps until a file arrives or `seconds` pass (at least one second: never a busy loop).
    /// With `wakingOnArrival` false it sleeps the whole time whatever arrives: with the relay
    /// down, a new message would only meet the same refusal.
    public func wait(seconds: Int, wakingOnArrival: Bool = true) {
        let deadline = Self.monotonicMilliseconds() + Int64(max(1, min(seconds, Int(Int32.max / 1000)))) * 1000
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = deadline - Self.monotonicMilliseconds()
            guard left > 0 else { break }
            let ready =
                wakingOnArrival ? poll(&poller, 1, Int32(clamping: left)) : poll(nil, 0, Int32(clamping: left))
            if ready > 0 { break }
            if ready < 0 && errno != EINTR { break }
        }
        // Which file arrived does not matter: the next pass reads the directory.
        discardArrivals()
    }

    private static func monotonicMilliseconds() -> Int64 {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        return Int64(clock.tv_sec) * 1000 + Int64(clock.tv_nsec) / 1_000_000
    }
}
