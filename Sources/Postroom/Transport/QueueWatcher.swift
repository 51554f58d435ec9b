import Glibc

/// Waits for work for `deliver --watch`: a new file in `outgoing/new/` or `deferred/new/`
/// (inotify), the next deferred message coming due, or the interval passing.
public final class QueueWatcher {
    private let spool: Spool
    private let fd: Int32

    /// Watches the spool's queues that deliver reads.
    public init(spool: Spool) throws(PostroomError) {
        self.spool = spool
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw .io(operation: "watch (inotify_init1)", path: spool.root, errno: errno) }
        for queue in [Spool.Queue.outgoing, .deferred] {
            let path = spool.maildir(queue).path(of: .new)
            guard inotify_add_watch(fd, path, UInt32(IN_MOVED_TO | IN_CLOSE_WRITE)) >= 0 else {
                let code = errno
                close(fd)
                throw .io(operation: "watch (inotify_add_watch)", path: path, errno: code)
            }
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

    /// Sleeps until a file arrives or `seconds` pass (at least one second: never a busy loop).
    public func wait(seconds: Int) {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: max(1, seconds) * 1000)
        while poll(&poller, 1, milliseconds) < 0 && errno == EINTR {}
        // Drain the events: which file arrived does not matter, the next pass reads the directory.
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
