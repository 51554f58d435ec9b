import Glibc
import Synchronization

/// The `deliver` stage: messages in `outgoing/` and due ones in `deferred/` go to a transport.
///
/// 2xx moves the file, unchanged and keeping its name, to `sent/` (with flag `L` when a
/// loopback copy went with it, in the same rename); 4xx or no answer moves
/// it to `deferred/` with the attempt count, the reply and the next attempt (also the
/// file's mtime); 5xx or an expired lifetime moves it to `failed/` with the reply. After
/// several connection failures in a row the pass stops, leaving the rest where it is,
/// rather than deferring the whole queue one message at a time. With several connections,
/// each worker has its own transport and they share one stream of names.
public final class DeliverStage: @unchecked Sendable {
    /// What one pass did.
    public struct Summary: Sendable, Equatable {
        /// Accepted messages.
        public var sent = 0
        /// Messages to try again later.
        public var deferred = 0
        /// Messages that failed for good.
        public var failed = 0
        /// Why the pass stopped early, if it did.
        public var stoppedEarly: String?

        /// An empty summary.
        public init() {}
    }

    private let spool: Spool
    private let log: SpoolLog
    private let makeTransport: @Sendable () throws(PostroomError) -> Transport
    /// When refusals at RCPT count against an address (`bounce_days`, `bounce_window`).
    public var bouncePolicy = BounceHistory.Policy()
    /// Addresses unsubscribed or dead since their message was queued are not mailed.
    private let suppression: SuppressionWatch
    /// Connections (workers) used at once.
    public var connections = 1
    /// Retry timing.
    public var retry = RetryPolicy()
    /// The envelope sender when a message names none (else From is used), VERP, the loopback recipient.
    public var envelopes = SendingEnvelope()
    /// Connection failures in a row that stop the pass.
    public var maximumConnectionFailures = 5
    /// Moves to `sent/` per directory sync on each connection: a power cut (never a kill) can
    /// send up to this many messages of each connection a second time. 1 syncs every move.
    public var sentSyncInterval = 64
    /// Messages per pass at most (nil: all that are due).
    public var maximumMessages: Int?
    /// Messages per second at most, over all connections (nil: no limit).
    public var rate: Double?
    /// Queue an RFC 3464 report to the sender of each message that fails for good.
    public var failureReports = false
    /// The host named in failure reports.
    public var reportingHost = MessageNameGenerator.systemHostName()
    /// The clock.
    public var now: () -> Timestamp = { .now() }
    /// Messages over these limits go to `failed/` unsent.
    public var limits = MessageLimits.defaults
    /// Signs each message with the DKIM keys of its From domain (nil: sent unsigned).
    public var dkim: DKIMSigner?
    /// From domains without a key, warned about in this pass (once each).
    private let unsignedDomains = Mutex<Set<String>>([])
    /// Seals list copies that ask for it (ARC), warning once per pass about those it cannot.
    private let arcSealing = ARCSealingStep()

    /// A stage sending through transports that `makeTransport` opens, one per connection.
    public init(spool: Spool, log: SpoolLog, makeTransport: @escaping @Sendable () throws(PostroomError) -> Transport) {
        self.suppression = SuppressionWatch(path: spool.suppressPath)
        self.spool = spool
        self.log = log
        self.makeTransport = makeTransport
    }

    /// One pass over everything due.
    public func run() throws(PostroomError) -> Summary {
        unsignedDomains.withLock { $0.removeAll() }
        arcSealing.startPass()
        for removed in spool.sweepTemporaryFiles() {
            log.record(nil, status: "swept", detail: "removed \(removed), left by a stopped writer")
        }
        for queue in [Spool.Queue.outgoing, .deferred] {
            // A flag a file brought along (`:2,S` moved back by hand) does not make it done here.
            for (name, _) in try spool.maildir(queue).recoverAbandonedClaims(keepingDone: queue.marksDoneWithFlag) {
                log.record(
                    name, status: "recovered", detail: "claim of a stopped deliver returned to \(queue.rawValue)/new")
            }
        }
        let start = now().seconds
        let due = DueMessages(
            spool: spool, outgoing: try spool.maildir(.outgoing).names(in: .new).checked(),
            deferred: try spool.maildir(.deferred).names(in: .new).checked(), now: start, limit: maximumMessages,
            interval: rate.map { 1 / $0 })
        let shared = Mutex<(summary: Summary, failuresInARow: Int, error: PostroomError?)>((Summary(), 0, nil))
        let stopAfter = maximumConnectionFailures
        Workers.run(max(1, connections)) { [self] _ in
            do throws(PostroomError) {
                let transport = try makeTransport()
                defer { transport.close() }
                let syncs = PendingSyncs(limit: sentSyncInterval)
                defer { try? syncs.flush() }
                var mine = Summary()
                // When the transport can start on the next message early (SMTP pipelining), the
                // next ones are claimed and prepared (read, signed) on a thread of their own while
                // the current one is sent; under --rate each waits its turn.
                let refusedAhead = Mutex(0)
                let ahead =
                    rate == nil && transport.startsNextEarly
                    ? Lookahead<Prepared>(
                        depth: Self.preparedAhead(connections: connections),
                        produce: { () throws(PostroomError) in
                            var counts = Summary()
                            defer { refusedAhead.withLock { $0 += counts.failed } }
                            do throws(PostroomError) {
                                return try self.prepareNext(from: due, summary: &counts)
                            } catch {
                                // The pass stops now, not when the sender reaches the failure.
                                due.stop()
                                throw error
                            }
                        }, discard: { _ = try? $0.claim.release(syncing: false) }) : nil
                // Adds this worker's counts to the pass; true when the pass must stop.
                func merge(connectionFailed: Bool?) -> Bool {
                    shared.withLock { state -> Bool in
                        state.summary.sent += mine.sent
                        state.summary.deferred += mine.deferred
                        state.summary.failed += mine.failed
                        if let connectionFailed {
                            state.failuresInARow = connectionFailed ? state.failuresInARow + 1 : 0
                        }
                        if state.failuresInARow >= stopAfter && state.summary.stoppedEarly == nil {
                            state.summary.stoppedEarly = "\(state.failuresInARow) connection failures in a row"
                        }
                        mine = Summary()
                        return state.summary.stoppedEarly != nil
                    }
                }
                defer {
                    // What was claimed ahead goes back first; refusals found ahead count too.
                    // Nothing more is claimed meanwhile (at the end of the queue this changes nothing).
                    if ahead != nil { due.stop() }
                    ahead?.stop()
                    mine.failed += refusedAhead.withLock { $0 }
                    _ = merge(connectionFailed: nil)
                }
                while true {
                    let next: Prepared?
                    if let ahead { next = try ahead.take() } else { next = try prepareNext(from: due, summary: &mine) }
                    guard let current = next else { break }
                    // Prepared ahead, it was checked a few sends ago: an address that bounced
                    // or unsubscribed since is not mailed.
                    if ahead != nil, let refusal = try suppressed(current.outbound.envelope) {
                        try current.claim.fail(into: spool, reason: refusal, stage: "deliver", log: log)
                        mine.failed += 1
                        continue
                    }
                    let connectionFailed = try deliver(
                        current, announcing: ahead?.peek(), through: transport, summary: &mine, syncs: syncs)
                    if merge(connectionFailed: connectionFailed) {
                        due.stop()
                        break
                    }
                }
            } catch {
                due.stop()
                shared.withLock { $0.error = $0.error ?? error }
            }
        }
        let (summary, failure) = shared.withLock { ($0.summary, $0.error) }
        if let reason = summary.stoppedEarly {
            log.record(nil, status: "stopped", detail: "pass stopped after \(reason); the rest waits for the next pass")
        }
        try log.sync()
        if let failure { throw failure }
        return summary
    }

    /// Queues a failure report for `message` when enabled and it had a sender.
    private func report(
        _ message: Message, envelope: Envelope, reply: String, relay: String, name: MessageName, arrival: Int
    )
        throws(PostroomError)
    {
        guard failureReports else { return }
        let reportName = MessageNameGenerator.shared.next()
        guard
            let report = try FailureReport.make(
                original: message, envelope: envelope, reply: reply, relay: relay, reportingHost: reportingHost,
                name: reportName,
                arrival: arrival, now: now().seconds)
        else { return }
        try spool.maildir(.outgoing).add(report.bytes, as: reportName)
        log.record(
            name, ["to": "<\(envelope.sender ?? "")>"], status: "reported",
            detail: "failure report queued as \(reportName.base)")
    }

    /// A refusal about the address itself (`550 5.1.1`) counts as a bounce would (see
    /// `BounceHistory`): a dead address is suppressed before the next bulk mail, not retried.
    private func countAgainstAddress(
        _ reply: String, envelope: Envelope, name: MessageName, at time: Timestamp
    ) throws(PostroomError) {
        let classification = BounceClassification(smtpReply: reply)
        guard classification.counts, let recipient = envelope.recipients.first else { return }
        let list = envelope.sender.flatMap { VERP.decode($0)?.list }
        let entry = BounceHistory.Entry(
            date: BounceHistory.date(time), address: recipient,
            status: classification.status.map(\.description) ?? "-",
            what: list.map { "list=\($0)" } ?? "name=\(name.base)", key: "deliver-\(name.base)")
        let outcome = try BounceHistory(spool: spool).count(
            entry, policy: bouncePolicy, atOnce: classification.suppressesAtOnce, reason: reply)
        if case .suppressed(let note, let added) = outcome {
            log.record(nil, ["to": "<\(recipient)>"], status: "suppressed", detail: added ? note : "already suppressed")
        }
    }

    /// Removes records from `sent/` that arrived there more than `age` seconds ago
    /// (by mtime, which deliver sets to the time it sent them). `failed/` is never pruned.
    @discardableResult
    public func pruneSent(olderThan age: Int) throws(PostroomError) -> Int {
        let directory = spool.maildir(.sent).path(of: .cur)
        let limit = now().seconds - age
        var removed = 0
        for fileName in try DirectoryStream(path: directory).checked() {
            let path = directory + "/" + fileName
            guard let info = FileSystem.status(path), info.st_mtim.tv_sec <= limit else { continue }
            try FileSystem.removeFile(path)
            removed += 1
        }
        if removed > 0 {
            try FileSystem.syncDirectory(directory)
            log.record(
                nil, status: "pruned",
                detail: "removed \(removed) records older than \(SpoolStatus.duration(age)) from sent/")
        }
        return removed
    }

    /// A claimed message ready to send: its header in memory, its body left in the file
    /// (read in pieces as it is sent), so a message ahead costs little.
    /// A class: it is handed between threads and buffered, one reference rather than its fields.
    private final class Prepared {
        let claim: Claim
        /// The header as stored, control fields and all; its body is empty.
        let header: Message
        let outbound: Outbound

        init(claim: Claim, header: Message, outbound: Outbound) {
            (self.claim, self.header, self.outbound) = (claim, header, outbound)
        }

        /// The whole message as stored, read again to be rewritten into `deferred/` or `failed/`.
        func message() throws(PostroomError) -> Message {
            try Message(parsing: try claim.read(), source: claim.path)
        }
    }

    /// Claims and reads the header of the next due message; one that cannot be read, has no
    /// envelope or is over the limits goes to `failed/` and the next is taken.
    private func prepareNext(from due: DueMessages, summary: inout Summary) throws(PostroomError) -> Prepared? {
        while let (maildir, fileName) = due.next() {
            guard let claim = try maildir.claim(fileName) else { continue }
            let reason: String
            do throws(PostroomError) {
                switch try prepare(claim) {
                case .ready(let prepared): return prepared
                case .refused(let refusal): reason = refusal
                }
            } catch {
                // What the message says is its own fault; the rest (I/O) is the system's and stops the pass.
                guard case .malformed = error else { throw error }
                reason = error.description
            }
            try claim.fail(into: spool, reason: reason, stage: "deliver", log: log)
            summary.failed += 1
        }
        return nil
    }

    private enum Preparation {
        case ready(Prepared)
        case refused(String)
    }

    /// Reads a claimed message's header and measures it against the limits.
    private func prepare(_ claim: Claim) throws(PostroomError) -> Preparation {
        // Control fields do not count towards header_size_limit, but they take memory too.
        guard let stored = try StoredMessage.open(claim.path, headerLimit: limits.headerSize.map { $0 + 65_536 }) else {
            return .refused(Self.oversize("header size exceeds header_size_limit \(limits.headerSize ?? 0)"))
        }
        let envelope = try envelopes.envelope(of: stored.header, name: claim.name)
        if let refusal = try suppressed(envelope) { return .refused(refusal) }
        var header = stored.header
        header.removeInternalFields()
        var resigning: Outbound.Resigning?
        let timestamp = now().seconds
        let unsigned = header
        if let dkim { try sign(&header, body: stored, name: claim.name, with: dkim, timestamp: timestamp) }
        let sealed = try arcSealing.seal(
            &header, controls: stored.header, body: stored, signer: dkim, timestamp: timestamp, name: claim.name,
            log: log)
        if let dkim {
            // Kept unsigned too: a relay without 8BITMIME gets a 7-bit form, signed and sealed anew.
            resigning = Outbound.Resigning(signer: dkim, unsignedHeader: unsigned, timestamp: timestamp, arc: sealed)
        }
        let headerSize = header.bytes.count
        if let problem = limits.violation(size: headerSize + stored.bodyLength, headerSize: headerSize) {
            return .refused(Self.oversize(problem))
        }
        let outbound = try Outbound(header: header, body: stored, envelope: envelope, resigning: resigning)
        return .ready(Prepared(claim: claim, header: stored.header, outbound: outbound))
    }

    /// Why `envelope`'s recipient is not to be mailed, when the suppress file names it. A list
    /// copy's VERP sender names its list: a member who left only that list is skipped too.
    private func suppressed(_ envelope: Envelope) throws(PostroomError) -> String? {
        guard let recipient = envelope.recipients.first,
            let entry = try suppression.current().entry(
                for: recipient, list: envelope.sender.flatMap { VERP.decode($0)?.list })
        else { return nil }
        return "550 5.7.1 <\(recipient)> is in the suppress file, not sent: \(entry.line)"
    }

    /// Signs the header as it will be sent over the body in its file; warns once per pass and
    /// domain when there is no key.
    private func sign(
        _ header: inout Message, body stored: StoredMessage, name: MessageName, with signer: DKIMSigner,
        timestamp: Int
    ) throws(PostroomError) {
        let outcome = try signer.sign(header: &header, timestamp: timestamp) { (consume) throws(PostroomError) in
            try stored.forEachBodyChunk({ (piece) throws(PostroomError) in consume(piece) }, unreadable: { $0 })
        }
        guard case .noKey(let domain) = outcome, let reason = outcome.unsignedReason,
            unsignedDomains.withLock({ $0.insert(domain ?? "").inserted })
        else { return }
        log.record(
            name, status: "warning",
            detail: "\(reason); sent unsigned (further ones this pass too); see --dkim in postroom-deliver(8)")
    }

    /// Messages claimed and prepared ahead of the one being sent, on each connection: three,
    /// fewer with many connections, since each holds two open files (its claim and its body).
    static func preparedAhead(connections: Int) -> Int { max(1, min(3, 192 / max(1, connections))) }

    /// Why an over-limit message fails, worded as a server's refusal (RFC 3463 5.3.4).
    static func oversize(_ problem: String) -> String { "552 5.3.4 \(problem) (postroom.conf(5)); not sent" }

    /// Delivers one claimed message; returns whether the server could not be reached.
    private func deliver(
        _ prepared: Prepared, announcing next: Prepared?, through transport: Transport, summary: inout Summary,
        syncs: PendingSyncs
    ) throws(PostroomError) -> Bool {
        let (claim, header, envelope) = (prepared.claim, prepared.header, prepared.outbound.envelope)
        let outcome = transport.deliver(prepared.outbound, announcing: next?.outbound)
        let time = now()
        let created = claim.name.createdAt ?? time.seconds
        var fields: KeyValuePairs<String, String> {
            switch outcome {
            case .sent(let reply, let relay, _), .failed(let reply, let relay), .deferred(let reply, let relay, _):
                [
                    "to": envelope.recipients.map { "<\($0)>" }.joined(separator: ","), "relay": relay,
                    "delay": String(max(0, time.seconds - created)), "dsn": Self.statusCode(reply, outcome),
                ]
            }
        }
        switch outcome {
        case .sent(let reply, _, let loopback):
            // `L` says a copy is coming back: `mark --loopback` will add `C`.
            let flagged = loopback == .sent ? claim.name.adding(LoopbackConfirmation.sentFlag) : nil
            // The mtime is the time it was sent from now on (mark's flags change the ctime).
            try claim.stampSentTime()
            try claim.move(to: spool.maildir(.sent), folder: .cur, renamedTo: flagged, syncing: false)
            try syncs.add([spool.maildir(.sent).path(of: .cur), claim.maildir.path(of: .cur)])
            var sentFields = Array(fields)
            switch loopback {
            case .none: break
            case .sent: sentFields.append(("loopback", "<\(envelope.loopback ?? "")>"))
            case .refused(let refusal):
                sentFields.append(("loopback", "<\(envelope.loopback ?? "")> refused: \(refusal)"))
            }
            log.record(claim.name, fieldList: sentFields, status: "sent", detail: reply, echo: false)
            summary.sent += 1
            return false
        case .failed(let reply, let relay):
            var failed = try prepared.message()
            // Moved back by hand later, it starts a new lifetime.
            _ = failed.remove(ControlHeader.firstAttempt.rawValue)
            failed.setControl(.lastError, reply)
            failed.setControl(.failure, reply)
            failed.setControl(.failedIn, "deliver")
            try claim.replace(with: failed.bytes, to: spool.maildir(.failed), folder: .cur)
            log.record(claim.name, fields, status: "bounced", detail: reply)
            try report(header, envelope: envelope, reply: reply, relay: relay, name: claim.name, arrival: created)
            try countAgainstAddress(reply, envelope: envelope, name: claim.name, at: time)
            summary.failed += 1
            return false
        case .deferred(let reply, _, let connectionFailed):
            // Counts from files are input: saturate rather than trap.
            let attempts = min(Int(header.control(.attempts) ?? "").map { max($0, 0) } ?? 0, Int.max - 1) + 1
            let firstAttempt = header.control(.firstAttempt).flatMap(MessageDate.parse).map { min($0, time.seconds) }
            var deferred = try prepared.message()
            deferred.setControl(.attempts, String(attempts))
            deferred.setControl(.firstAttempt, MessageDate.format(firstAttempt ?? time.seconds))
            deferred.setControl(.lastError, reply)
            let age = time.seconds - (firstAttempt ?? time.seconds)
            if age >= retry.lifetime {
                let reason = "gave up after \(attempts) attempts in \(SpoolStatus.duration(age)): \(reply)"
                // Moved back by hand later, it starts a new lifetime.
                _ = deferred.remove(ControlHeader.firstAttempt.rawValue)
                deferred.setControl(.failure, reason)
                deferred.setControl(.failedIn, "deliver")
                try claim.replace(with: deferred.bytes, to: spool.maildir(.failed), folder: .cur)
                log.record(claim.name, fields, status: "expired", detail: reply)
                if case .deferred(_, let relay, _) = outcome {
                    try report(
                        header, envelope: envelope, reply: "500 5.4.7 \(reason)", relay: relay, name: claim.name,
                        arrival: created)
                }
                summary.failed += 1
                return connectionFailed
            }
            let next = time.seconds + retry.delay(afterAttempts: attempts)
            deferred.setControl(.nextAttempt, MessageDate.format(next))
            try claim.replace(with: deferred.bytes, to: spool.maildir(.deferred), folder: .new, modificationTime: next)
            log.record(claim.name, fields, status: "deferred", detail: reply)
            summary.deferred += 1
            return connectionFailed
        }
    }

    /// The enhanced status code of a reply (`2.0.0`), or one derived from its class.
    static func statusCode(_ reply: String, _ outcome: DeliveryOutcome) -> String {
        let words = reply.split(separator: " ")
        if words.count > 1, words[1].split(separator: ".").count == 3,
            words[1].first.map({ "245".contains($0) }) == true
        {
            return String(words[1])
        }
        switch outcome {
        case .sent: return "2.0.0"
        case .deferred: return "4.0.0"
        case .failed: return "5.0.0"
        }
    }
}

/// The names a pass works through: `outgoing/new/`, then `deferred/new/` entries that are due;
/// each handed to one worker.
private final class DueMessages: @unchecked Sendable {
    private let lock = Mutex(())
    private let spool: Spool
    private let outgoing: DirectoryStream.Iterator
    private let deferred: DirectoryStream.Iterator
    private let now: Int
    private var remaining: Int?
    private var stopped = false
    private let interval: Double?
    private var nextSlot = 0.0

    init(
        spool: Spool, outgoing: DirectoryStream.Iterator, deferred: DirectoryStream.Iterator, now: Int, limit: Int?,
        interval: Double?
    ) {
        self.spool = spool
        self.outgoing = outgoing
        self.deferred = deferred
        self.now = now
        remaining = limit
        self.interval = interval
    }

    /// Waits for the next send slot under `--rate` (called with the lock held, so slots are shared).
    private func pace() {
        guard let interval else { return }
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let current = Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
        if nextSlot > current {
            let wait = nextSlot - current
            var pause = timespec(tv_sec: Int(wait), tv_nsec: Int((wait - Double(Int(wait))) * 1e9))
            var left = timespec()
            while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        }
        nextSlot = max(nextSlot, current) + interval
    }

    func stop() { lock.withLock { _ in stopped = true } }

    func next() -> (Maildir, String)? {
        lock.withLock { _ -> (Maildir, String)? in
            guard !stopped, remaining.map({ $0 > 0 }) ?? true else { return nil }
            if let name = outgoing.next() {
                remaining? -= 1
                pace()
                return (spool.maildir(.outgoing), name)
            }
            let maildir = spool.maildir(.deferred)
            while let name = deferred.next() {
                // A deferred file's mtime is its next attempt.
                guard let info = FileSystem.status(maildir.path(of: MessageName(fileName: name), in: .new)),
                    info.st_mtim.tv_sec <= now
                else { continue }
                remaining? -= 1
                pace()
                return (maildir, name)
            }
            return nil
        }
    }
}

/// Directory fsyncs for moves to `sent/`, grouped: one per directory every `limit` moves and
/// at the end of the pass. A kill loses nothing (renames outlive the process); a power cut
/// could at most resend the last group, never lose a message.
private final class PendingSyncs {
    private var directories = Set<String>()
    private var moves = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func add(_ paths: [String]) throws(PostroomError) {
        directories.formUnion(paths)
        moves += 1
        if moves >= limit { try flush() }
    }

    func flush() throws(PostroomError) {
        for directory in directories.sorted() { try FileSystem.syncDirectory(directory) }
        directories.removeAll()
        moves = 0
    }
}
