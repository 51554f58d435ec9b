/// Decides what becomes of one incoming message and makes it so.
///
/// Invariant: every outcome is one of route's answers to the MTA: copies durable (0), a
/// deliberate drop with a log line (0), no rule (67), not a message (65), refused by policy
/// (77), or a local failure that the MTA must retry (75, any thrown error).
public struct Router {
    /// The compiled rule table.
    public let table: RuleTable
    /// The spool, configuration and clock.
    public let context: RouteContext

    /// A router over `table`.
    public init(table: RuleTable, context: RouteContext) {
        self.table = table
        self.context = context
    }

    /// What happened to a message.
    public enum Outcome: Sendable {
        /// Copies were made (or had been, by an interrupted run).
        case delivered(FanOut.Result, rule: Int, summary: String)
        /// Dropped on purpose (a loop, a bounce to a list): exit 0 with a log line.
        case dropped(String)
        /// Refused: 67 (reject, no such user), 65 (a loop, when so configured) or 77 (policy).
        case refused(Sysexit, String)
        /// No rule took the address: 67.
        case noRule(String)
        /// A handler's record was written (a confirmation, a bounce, an unsubscribe).
        case recorded(MarkResult, rule: Int)

        /// The exit code the MTA gets.
        public var exitStatus: Sysexit {
            switch self {
            case .delivered, .dropped: .ok
            case .recorded(let result, _): result.status
            case .refused(let status, _): status
            case .noRule: .noUser
            }
        }
    }

    /// What is wrong with the settings route reads as a fixed choice, or nil: a typo in one must be
    /// an error, not a silent fall back to the default.
    public static func settingsProblem(_ configuration: Configuration) -> String? {
        let loop = configuration.value(Configuration.mailLoop) ?? "drop"
        guard loop == "drop" || loop == "bounce" else { return "mail_loop is drop or bounce, not \"\(loop)\"" }
        return nil
    }

    /// Settings only some messages need (DMARC lookups), for `route --check`: routing sets them up
    /// when a list first asks, so that a redirect never waits on them.
    public static func lookupSettingsProblem(_ configuration: Configuration) -> String? {
        do {
            _ = try DNSDMARCPolicySource.configured(configuration)
        } catch {
            return "DMARC lookups: \(error.description)"
        }
        return nil
    }

    /// The decision for `message` and the line of the rule that made it (nil: none did).
    public func decide(
        _ message: IncomingMessage
    ) throws(PostroomError) -> (
        decision: RouteDecision?, line: Int?, passes: [String]
    ) {
        if let loop = loop(in: message) {
            let bounce = context.configuration.value(Configuration.mailLoop) == "bounce"
            return (bounce ? .refuse(.dataError, "mail loop detected: \(loop)") : .drop(reason: loop), nil, [])
        }
        var passes: [String] = []
        var after = -1
        while let (index, arguments) = try table.firstMatch(message.recipient, after: after) {
            let rule = table.rules[index]
            let handler = try rule.handler.init(arguments, context: context)
            let decision = try handler.route(message, context: context)
            if case .pass(let reason) = decision {
                passes.append("line \(rule.line) \(rule.handler.name): \(reason)")
                after = index
                continue
            }
            return (decision, rule.line, passes)
        }
        return (nil, nil, passes)
    }

    /// Routes `message`: decides, then makes every copy durable in one crash-exact fan-out.
    ///
    /// A `.delivered` outcome leaves its queue directories unsynced (`FanOut.Result.unsyncedQueues`):
    /// the caller logs, then syncs them together with the log, before it reports success.
    public func route(_ message: IncomingMessage, log: SpoolLog) throws(PostroomError) -> Outcome {
        let fanOut = FanOut(spool: context.spool, key: message.identity)
        // A retry of a message already committed only finishes its publishing.
        if fanOut.isCommitted {
            let result = try fanOut.commit(
                [], syncingQueues: false, name: { _ in MessageNameGenerator.shared.next() })
            logCopies(result, copies: [], message: message, log: log)
            return .delivered(result, rule: 0, summary: "routed before (an MTA retry)")
        }
        let (decision, line, passes) = try decide(message)
        switch decision {
        case nil:
            let why = passes.isEmpty ? "no rule matches" : passes.joined(separator: "; ")
            return .noRule("<\(message.recipient)>: no such address here (\(why))")
        case .pass?:
            return .noRule("<\(message.recipient)>: no such address here")
        case .refuse(let status, let text)?:
            return .refused(status, text)
        case .drop(let reason)?:
            return .dropped(reason)
        case .record(let record)?:
            let result = try record.record(in: context.spool, configuration: context.configuration, log: log)
            return .recorded(result, rule: line ?? 0)
        case .deliver(let plan)?:
            let parent = MessageNameGenerator.shared.next(at: context.now)
            let count = plan.copies.count
            let result = try fanOut.commit(plan.copies, syncingQueues: false) {
                count == 1 ? parent : parent.child(recipientIndex: $0 + 1)
            }
            logCopies(result, copies: plan.copies, message: message, log: log)
            return .delivered(result, rule: line ?? 0, summary: plan.summary)
        }
    }

    /// One log line per copy published (also for a held post's release).
    func logCopies(_ result: FanOut.Result, copies: [RouteCopy], message: IncomingMessage, log: SpoolLog) {
        let queues = [
            (context.spool.maildir(.outgoing).path, "queued"), (context.spool.maildir(.held).path, "held"),
        ]
        for (name, directory) in result.published {
            let status = queues.first { $0.0 == directory }?.1 ?? "delivered"
            let index = copies.count == 1 ? 0 : (name.recipientIndex ?? 0) - 1
            let copy = copies.indices.contains(index) ? copies[index] : nil
            let to = copy?.envelope.recipients.first.map { "<\($0)>" } ?? "?"
            log.record(
                name,
                [
                    "to": to, "orig_to": "<\(message.recipient)>", "from": "<\(copy?.envelope.sender ?? "")>",
                    "via": copy?.note ?? "an interrupted run",
                ], status: status, detail: directory, echo: false)
        }
    }

    /// Why `message` is a loop for the address being routed, or nil: it carries our `X-Loop`
    /// for this address, or a `Delivered-To` naming it. The first `Delivered-To`, when it is among
    /// the trace fields at the very top, is the delivering MTA's own (Postfix's local(8) and
    /// pipe(8) with flag D add it just before they run route), so only one below another
    /// `Delivered-To`, or further down, is a loop.
    func loop(in message: IncomingMessage) -> String? {
        let address = context.loopID
        for value in message.message.values(of: "X-Loop") where Self.normalized(value) == address {
            return "X-Loop: \(address) is already in the message"
        }
        var inTopTrace = true
        var isFirstDeliveredTo = true
        for field in message.message.fields {
            let isTrace = ["Return-Path", "Delivered-To", "X-Original-To", "Envelope-To", "Delivery-date"].contains {
                field.hasName($0)
            }
            inTopTrace = inTopTrace && isTrace
            guard field.hasName("Delivered-To") else { continue }
            defer { isFirstDeliveredTo = false }
            guard Self.normalized(field.value) == address, !(inTopTrace && isFirstDeliveredTo) else { continue }
            return "Delivered-To: \(address) is already in the message"
        }
        return nil
    }

    private static func normalized(_ value: String) -> String {
        var text = value.trimmingSpaces.lowercased()
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        return text
    }
}
