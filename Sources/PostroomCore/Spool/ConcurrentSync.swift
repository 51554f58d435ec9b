import Glibc

/// Flushes independent files and directories to stable storage at the same time.
///
/// Invariant: `run` returns only when every target is durable (or throws the first failure), so
/// a caller's ordering rules are unchanged; what changes is that targets with no order between
/// them wait for one journal commit together instead of one after another. Each group but the
/// first is synced on its own thread; the targets inside a group keep their order.
package enum ConcurrentSync {
    /// Something to make durable.
    package enum Target {
        /// An open file: `fdatasync` when `dataOnly` (its size and blocks, not its times), else `fsync`.
        case file(fd: Int32, path: String, dataOnly: Bool)
        /// The entries of a directory (opened, fsynced, closed).
        case directory(String)
    }

    /// Syncs `groups` concurrently, each group's targets in order.
    package static func run(_ groups: [[Target]]) throws(PostroomError) {
        let groups = groups.filter { !$0.isEmpty }
        guard let first = groups.first else { return }
        let others = groups.dropFirst().map { Group(targets: $0) }
        var threads: [pthread_t] = []
        for group in others {
            if let thread = Workers.startThread({ group.sync() }) {
                threads.append(thread)
            } else {
                // No thread to be had: the same work, one after another.
                group.sync()
            }
        }
        let inline = Group(targets: first)
        inline.sync()
        for thread in threads { pthread_join(thread, nil) }
        for group in [inline] + others {
            if let failure = group.failure { throw failure }
        }
    }

    /// One group's targets and what syncing them found; read only after its thread is joined.
    private final class Group: @unchecked Sendable {
        let targets: [Target]
        var failure: PostroomError?

        init(targets: [Target]) { self.targets = targets }

        func sync() {
            do throws(PostroomError) {
                for target in targets {
                    switch target {
                    case .file(let fd, let path, let dataOnly):
                        if (dataOnly ? fdatasync(fd) : fsync(fd)) != 0 {
                            throw .io(operation: dataOnly ? "fdatasync" : "fsync", path: path, errno: errno)
                        }
                    case .directory(let path):
                        try FileSystem.syncDirectory(path)
                    }
                }
            } catch {
                failure = error
            }
        }
    }
}
