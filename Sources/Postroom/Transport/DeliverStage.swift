/// The `deliver` stage: messages in `outgoing/` and due ones in `deferred/` go to a transport.
///
/// 2xx moves the file, unchanged and keeping its name, to `sent/`; 4xx or no answer moves
/// it to `deferred/` with the attempt count, the reply and the next attempt (also the
/// file's mtime); 5xx or an expired lifetime moves it to `failed/` with the reply. After
/// several connection failures in a row the pass stops, leaving the rest where it is,
/// rather than deferring the whole queue one message at a time.
public final class DeliverStage {
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
    private let transport: Transport
    /// Retry timing.
    public var retry = RetryPolicy()
    /// The envelope sender when a message names none (else From is used).
    public var bounceAddress: String?
    /// Connection failures in a row that stop the pass.
    public var maximumConnectionFailures = 5
    /// Messages per pass at most (nil: all that are due).
    public var maximumMessages: Int?
    /// The clock.
    public var now: () -> Timestamp = { .now() }

    /// A stage sending through `transport`.
    public init(spool: Spool, log: SpoolLog, transport: Transport) {
        self.spool = spool
        self.log = log
        self.transport = transport
    }

    /// One pass over everything due.
    public func run() throws(PostroomError) -> Summary {
        var summary = Summary()
        defer { transport.close() }
        for queue in [Spool.Queue.outgoing, .deferred] {
            for name in try spool.maildir(queue).recoverAbandonedClaims() {
                log.record(name, status: "recovered", detail: "claim of a stopped deliver returned to \(queue.rawValue)/new")
            }
        }
        var failuresInARow = 0
        var handled = 0
        let start = now().seconds
        for queue in [Spool.Queue.outgoing, .deferred] {
            let maildir = spool.maildir(queue)
            for fileName in try maildir.names(in: .new).checked() {
                if let limit = maximumMessages, handled >= limit { break }
                if queue == .deferred {
                    guard let info = FileSystem.status(maildir.path(of: MessageName(fileName: fileName), in: .new)),
                        info.st_mtim.tv_sec <= start
                    else { continue }
                }
                guard let claim = try maildir.claim(fileName) else { continue }
                handled += 1
                let connectionFailed = try deliver(claim, summary: &summary)
                failuresInARow = connectionFailed ? failuresInARow + 1 : 0
                if failuresInARow >= maximumConnectionFailures {
                    summary.stoppedEarly = "\(failuresInARow) connection failures in a row"
                    log.record(nil, status: "stopped", detail: "pass stopped after \(failuresInARow) connection failures in a row; the rest waits for the next pass")
                    try log.sync()
                    return summary
                }
            }
        }
        try log.sync()
        return summary
    }

    /// Delivers one claimed message; returns whether the server could not be reached.
    private func deliver(_ claim: Claim, summary: inout Summary) throws(PostroomError) -> Bool {
        let bytes = try claim.read()
        let message: Message
        let envelope: Envelope
        do throws(PostroomError) {
            message = try Message(parsing: bytes, source: claim.path)
            envelope = try Envelope(of: message, bounceAddress: bounceAddress)
        } catch {
            try claim.fail(into: spool, reason: error.description, stage: "deliver", log: log)
            summary.failed += 1
            return false
        }
        var outbound = message
        outbound.removeInternalFields()
        let outcome = transport.deliver(outbound.bytes, envelope: envelope)
        let time = now()
        let created = claim.name.createdAt ?? time.seconds
        var fields: KeyValuePairs<String, String> {
            switch outcome {
            case .sent(let reply, let relay), .failed(let reply, let relay), .deferred(let reply, let relay, _):
                ["to": envelope.recipients.map { "<\($0)>" }.joined(separator: ","), "relay": relay,
                 "delay": String(max(0, time.seconds - created)), "dsn": Self.statusCode(reply, outcome)]
            }
        }
        switch outcome {
        case .sent(let reply, _):
            try claim.move(to: spool.maildir(.sent), folder: .cur)
            log.record(claim.name, fields, status: "sent", detail: reply, echo: false)
            summary.sent += 1
            return false
        case .failed(let reply, _):
            var failed = message
            failed.setControl(.lastError, reply)
            failed.setControl(.failure, reply)
            failed.setControl(.failedIn, "deliver")
            try claim.replace(with: failed.bytes, to: spool.maildir(.failed), folder: .cur)
            log.record(claim.name, fields, status: "bounced", detail: reply)
            summary.failed += 1
            return false
        case .deferred(let reply, _, let connectionFailed):
            let attempts = (Int(message.control(.attempts) ?? "") ?? 0) + 1
            var deferred = message
            deferred.setControl(.attempts, String(attempts))
            deferred.setControl(.lastError, reply)
            if time.seconds - created >= retry.lifetime {
                deferred.setControl(.failure, "gave up after \(attempts) attempts in \(SpoolStatus.duration(time.seconds - created)): \(reply)")
                deferred.setControl(.failedIn, "deliver")
                try claim.replace(with: deferred.bytes, to: spool.maildir(.failed), folder: .cur)
                log.record(claim.name, fields, status: "expired", detail: reply)
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
        if words.count > 1, words[1].split(separator: ".").count == 3, words[1].first.map({ "245".contains($0) }) == true {
            return String(words[1])
        }
        switch outcome {
        case .sent: return "2.0.0"
        case .deferred: return "4.0.0"
        case .failed: return "5.0.0"
        }
    }
}
