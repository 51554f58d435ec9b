import Glibc

/// An operator's change to one queued message: `postroom hold`, `release`, `requeue`, `delete`.
public enum QueueAction: String, Sendable, CaseIterable {
    /// From `outgoing/` or `deferred/` into `held/`, where nothing expires or sends it.
    case hold
    /// From `held/`: a post held for a list goes to the list's members, anything else back to
    /// `outgoing/new`.
    case release
    /// From `deferred/`, `failed/` or `held/` back to `outgoing/new`, attempts and errors reset;
    /// a request or job that failed in `expand` or `render` back to that stage's `new/`.
    case requeue
    /// Removed from whichever queue holds it.
    case delete

    /// The queues the action takes messages from.
    public var sources: [Spool.Queue] {
        switch self {
        case .hold: [.outgoing, .deferred]
        case .release: [.held]
        case .requeue: [.deferred, .failed, .held]
        case .delete: Spool.Queue.allCases
        }
    }

    /// The queues where a message already is when the action has nothing left to do, so that
    /// running the same command again (`postroom release - < held-names`) succeeds.
    var alreadyDoneIn: [Spool.Queue] {
        switch self {
        case .hold: [.held]
        case .release: [.outgoing]
        case .requeue: [.outgoing, .expanded, .request]
        case .delete: []
        }
    }

    /// The queue a requeued message goes to: the input of the stage it failed in, so that a
    /// request is expanded and a job rendered again (never sent as it is); `outgoing/` otherwise.
    static func requeueTarget(failedIn stage: String?) -> Spool.Queue {
        switch stage {
        case "expand": .request
        case "render": .expanded
        default: .outgoing
        }
    }
}

/// What an action did to one name: a line for the operator and the exit status it counts as.
public struct QueueOutcome: Sendable, Equatable {
    /// 0, or the sysexits code of the failure.
    public var status: Sysexit
    /// `NAME: held (from outgoing/new)`, or why nothing was done.
    public var text: String

    /// An outcome from parts.
    public init(_ status: Sysexit, _ text: String) {
        self.status = status
        self.text = text
    }
}

/// Carries out queue actions, each as one rename of one file, durable, with a log line.
///
/// The directories a batch of names changed are synced once for the batch (up to
/// `batchSize` names); only then is each change logged and reported, so nothing is reported
/// done that a crash could undo. A message claimed by a running worker (a live `flock` on its file in `cur/`) is never moved
/// from under it. A message waiting in `new/` is taken by the same rename a worker would claim
/// it with, so exactly one of the two wins; an abandoned claim in `cur/` is locked first.
public final class QueueOperator {
    /// The spool acted on.
    public let spool: Spool
    /// Where each change is logged.
    public let log: SpoolLog
    private let makeRelease: () throws(PostroomError) -> HeldPostRelease
    private var loadedRelease: HeldPostRelease?
    /// Directories changed since the last sync.
    private var unsynced = Set<String>()
    /// Outcomes waiting for that sync, with their log lines.
    private var unreported: [(name: MessageName, outcome: QueueOutcome, logged: LogLine?)] = []
    /// The log line of the change the current name made, if it made one.
    private var change: LogLine?

    /// How many names share one round of directory syncs.
    public static let batchSize = 256

    private struct LogLine {
        var name: MessageName
        var status: String
        var detail: String
    }

    /// An operator over `spool`; `release` is asked for (once) when a post held for a list is released.
    public init(spool: Spool, log: SpoolLog, release: @escaping () throws(PostroomError) -> HeldPostRelease) {
        self.spool = spool
        self.log = log
        self.makeRelease = release
    }

    /// Applies `action` to each name in order, calling `report` with each outcome once the batch
    /// it belongs to is synced.
    public func perform(
        _ action: QueueAction, on names: [MessageName], report: (MessageName, QueueOutcome) -> Void
    ) throws(PostroomError) {
        let locations = try spool.locate(names)
        for name in names {
            change = nil
            let outcome = perform(action, on: name, at: locations[name.base])
            unreported.append((name, outcome, outcome.status == .ok ? change : nil))
            if unreported.count >= Self.batchSize { flush(report) }
        }
        flush(report)
    }

    /// Syncs the directories changed, then logs and reports each outcome of the batch. A failed
    /// sync turns the batch's changes into failures: they may not survive a crash.
    private func flush(_ report: (MessageName, QueueOutcome) -> Void) {
        var failure: PostroomError?
        for directory in unsynced.sorted() where failure == nil {
            do throws(PostroomError) {
                try FileSystem.syncDirectory(directory)
            } catch {
                failure = error
            }
        }
        unsynced.removeAll()
        for var entry in unreported {
            if let line = entry.logged {
                if let failure {
                    entry.outcome = QueueOutcome(
                        failure.exitStatus,
                        "\(line.name.base): \(line.status), but it may not survive a crash: \(failure.description)")
                } else {
                    log.record(line.name, status: line.status, detail: line.detail)
                }
            }
            report(entry.name, entry.outcome)
        }
        unreported.removeAll()
    }

    /// Applies `action` to one message found at `location` (nil: nowhere).
    private func perform(_ action: QueueAction, on name: MessageName, at location: QueueLocation?) -> QueueOutcome {
        var location = location
        // A lost race (a worker claimed it, a worker's recovery moved it) is looked up again.
        for _ in 0..<3 {
            do throws(PostroomError) {
                guard let here = location else { return try missing(name, action) }
                if let outcome = try attempt(action, name, at: here) { return outcome }
                location = try spool.relocate(name)
            } catch {
                return QueueOutcome(error.exitStatus, "\(name.base): \(error.description)")
            }
        }
        return QueueOutcome(.tempFail, "\(name.base): the message keeps moving while workers handle it; try again")
    }

    private func missing(_ name: MessageName, _ action: QueueAction) throws(PostroomError) -> QueueOutcome {
        if action == .release && HeldPostRelease.fanOut(of: name, in: spool).isCommitted {
            return QueueOutcome(.ok, "\(name.base): already released")
        }
        return QueueOutcome(
            .noInput, "\(name.base): no such message in \(spool.root) (looked in every queue's new/ and cur/)")
    }

    /// Does `action` on the file at `location`; nil when the file moved meanwhile.
    private func attempt(
        _ action: QueueAction, _ name: MessageName, at location: QueueLocation
    ) throws(PostroomError) -> QueueOutcome? {
        let place = location.place
        guard action.sources.contains(location.queue) else {
            if action.alreadyDoneIn.contains(location.queue) {
                let already = action == .release ? "already released (in \(place))" : "already in \(place)"
                return QueueOutcome(.ok, "\(name.base): \(already); nothing to do")
            }
            let from = action.sources.map { "\($0.rawValue)/" }.joined(separator: ", ")
            return QueueOutcome(
                .noInput, "\(name.base): the message is in \(place); \(action.rawValue) takes it from \(from)")
        }
        switch action {
        case .hold:
            guard try move(location, to: .held) else { return nil }
            return done(location, status: "held", detail: "by operator, from \(place)")
        case .release:
            return try release(location)
        case .requeue:
            return try requeue(location)
        case .delete:
            return try delete(location)
        }
    }

    /// A change made, to be logged and reported once its directories are synced.
    private func done(_ location: QueueLocation, status: String, detail: String) -> QueueOutcome {
        change = LogLine(name: location.name, status: status, detail: detail)
        return QueueOutcome(.ok, "\(location.name.base): \(status) (\(detail))")
    }

    private func release(_ location: QueueLocation) throws(PostroomError) -> QueueOutcome? {
        let maildir = spool.maildir(location.queue)
        let path = maildir.path(of: location.name, in: location.folder)
        let header: Message?
        do {
            header = try StoredMessage.open(path, headerLimit: nil)?.header
        } catch {
            // Gone meanwhile: look again. Unparsable: no list named it, so it goes back as it is.
            if !FileSystem.exists(path) { return nil }
            header = nil
        }
        guard let list = header?.control(.heldFor), !list.isEmpty else {
            guard try move(location, to: .outgoing) else { return nil }
            return done(location, status: "released", detail: "by operator, to outgoing/new")
        }
        guard let claim = try claim(location) else { return nil }
        let release: HeldPostRelease
        let result: HeldPostRelease.Result
        do throws(PostroomError) {
            if let loadedRelease {
                release = loadedRelease
            } else {
                release = try makeRelease()
                loadedRelease = release
            }
            result = try release.release(try claim.read(), name: location.name, log: log)
        } catch {
            // Nothing was sent: the post waits in held/new as before. Past the commit, the claim
            // stays in held/cur and the next release finishes the fan-out.
            if !HeldPostRelease.fanOut(of: location.name, in: spool).isCommitted { _ = try? claim.release() }
            throw error
        }
        try FileSystem.removeFile(claim.path)
        try FileSystem.syncDirectory(maildir.path(of: .cur))
        claim.unlock()
        let copies = result.wasCommittedBefore ? "\(result.published) more copies" : "\(result.published) copies"
        return done(
            location, status: "released",
            detail: "by operator, to the list \(result.list): \(copies); \(result.summary)")
    }

    private func requeue(_ location: QueueLocation) throws(PostroomError) -> QueueOutcome? {
        guard let claim = try claim(location) else { return nil }
        let message: Message
        do throws(PostroomError) {
            message = try Message(parsing: try claim.read(), source: location.place + "/" + location.name.fileName)
        } catch {
            try putBack(claim, location)
            return QueueOutcome(
                .dataError,
                "\(location.name.base): \(error.description); fix the file ('postroom inspect' shows why), "
                    + "then move it into outgoing/new")
        }
        if let list = message.control(.heldFor) {
            try putBack(claim, location)
            return QueueOutcome(
                .dataError,
                "\(location.name.base): a post held for the list \(list): 'postroom release' sends it to the "
                    + "list's members (requeue would send it to the list's own address)")
        }
        let target = QueueAction.requeueTarget(failedIn: message.control(.failedIn))
        let detail: String
        if target == .outgoing {
            var fresh = message
            for field in [
                ControlHeader.attempts, .firstAttempt, .lastError, .nextAttempt, .failure, .failedIn, .heldReason,
            ] {
                _ = fresh.remove(field.rawValue)
            }
            try claim.replace(with: fresh.bytes, to: spool.maildir(target), folder: .new, syncing: false)
            detail = "by operator, from \(location.place), attempts reset"
        } else {
            // A request or job goes back as it is, by one rename: its stage replaces the failure
            // fields if it fails again, and makes nothing of them if it succeeds. (Rewritten, a
            // kill between the rewrite and the move would leave no record of where it belongs.)
            try refuseToReplace(spool.maildir(target).path(of: MessageName(base: location.name.base), in: .new))
            try claim.move(to: spool.maildir(target), folder: .new, syncing: false)
            detail =
                "by operator, from \(location.place) to \(target.rawValue)/new for \(Self.worker(of: target)) to do again"
        }
        changed(spool.maildir(target), .new)
        changed(spool.maildir(location.queue), .cur)
        if location.folder == .new { changed(spool.maildir(location.queue), .new) }
        return done(location, status: "requeued", detail: detail)
    }

    private func delete(_ location: QueueLocation) throws(PostroomError) -> QueueOutcome? {
        let maildir = spool.maildir(location.queue)
        if location.folder == .new {
            // The unlink and a worker's claim are both one operation on the name: one wins.
            let path = maildir.path(of: location.name, in: .new)
            if unlink(path) != 0 {
                if errno == ENOENT { return nil }
                throw .io(operation: "delete", path: path, errno: errno)
            }
            changed(maildir, .new)
        } else {
            guard let claim = try claim(location) else { return nil }
            try FileSystem.removeFile(claim.path)
            changed(maildir, .cur)
            claim.unlock()
        }
        return done(location, status: "deleted", detail: "by operator, from \(location.place)")
    }

    /// Undoes `claim(_:)`: a file taken from `new/` goes back there, one found in `cur/` stays.
    private func putBack(_ claim: Claim, _ location: QueueLocation) throws(PostroomError) {
        if location.folder == .new { try claim.release() } else { claim.unlock() }
    }

    /// Moves the file unchanged into `queue`'s `new/`: one rename (the directories synced with the batch).
    private func move(_ location: QueueLocation, to queue: Spool.Queue) throws(PostroomError) -> Bool {
        let source = spool.maildir(location.queue)
        let target = spool.maildir(queue)
        guard location.folder == .new else {
            guard let claim = try claim(location) else { return false }
            // In new/ the name has no info (see Claim.move).
            try refuseToReplace(target.path(of: MessageName(base: location.name.base), in: .new))
            try claim.move(to: target, folder: .new, syncing: false)
            changed(target, .new)
            changed(source, .cur)
            return true
        }
        let destination = target.path(of: location.name, in: .new)
        try refuseToReplace(destination)
        guard try FileSystem.rename(source.path(of: location.name, in: .new), destination) else { return false }
        changed(target, .new)
        changed(source, .new)
        return true
    }

    /// Notes a directory to sync before the batch is reported.
    private func changed(_ maildir: Maildir, _ folder: Maildir.Folder) {
        unsynced.insert(maildir.path(of: folder))
    }

    private func refuseToReplace(_ path: String) throws(PostroomError) {
        if FileSystem.exists(path) { throw .cannotCreate(path: path, errno: EEXIST) }
    }

    /// The file claimed for this process: `new/` renamed into `cur/`, or an abandoned claim in
    /// `cur/` locked. Nil when it moved meanwhile; a live worker's claim is refused (exit 75).
    private func claim(_ location: QueueLocation) throws(PostroomError) -> Claim? {
        let maildir = spool.maildir(location.queue)
        if location.folder == .new { return try maildir.claim(location.name.fileName) }
        if let claim = try Claim.lock(maildir: maildir, name: location.name) { return claim }
        let path = maildir.path(of: location.name, in: .cur)
        guard Claim.isHeld(path) else { return nil }
        throw .temporary(
            "\(location.name.base) is claimed by a running \(Self.worker(of: location.queue)) (\(location.place) "
                + "is locked); it is not moved from under it")
    }

    /// The program whose claim a file in the queue's `cur/` is.
    static func worker(of queue: Spool.Queue) -> String {
        switch queue {
        case .request: "expand"
        case .expanded: "render"
        case .held: "postroom release"
        case .outgoing, .deferred, .sent, .failed: "deliver"
        }
    }
}
