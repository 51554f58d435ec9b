/// Sends a post the list's posting policy held to the list's members, on an operator's word.
///
/// The post is routed again through the first `list` rule that takes its `X-Postroom-Held-For`
/// address, with the posting policy skipped (the decision is the operator's, never the
/// message's). Its copies are written by a `FanOut` whose key comes from the held file's name,
/// so a release killed at any step and run again makes each copy exactly once: the held file
/// is removed only after the fan-out committed, and a re-run publishes what is left.
public struct HeldPostRelease {
    /// The rule table the list rules come from.
    public let table: RuleTable
    /// The spool the copies go into.
    public let spool: Spool
    /// The configuration (unsubscribe links, DMARC lookups, size limits).
    public let configuration: Configuration

    /// A release through `table`.
    public init(table: RuleTable, spool: Spool, configuration: Configuration) {
        self.table = table
        self.spool = spool
        self.configuration = configuration
    }

    /// Loads the rule table `route` uses (`rules` in the configuration, or `rulesFlag`).
    public init(spool: Spool, configuration: Configuration, rulesFlag: String?) throws(PostroomError) {
        guard let path = configuration.value(Configuration.rules, flag: rulesFlag) else {
            throw .configuration(
                location: configuration.path,
                reason: "releasing a post held for a list needs the rule table: set 'rules' or pass --rules")
        }
        let context = RouteContext(spool: spool, configuration: configuration, recipient: "release@localhost")
        self.init(table: try RuleTable(path: path, context: context), spool: spool, configuration: configuration)
    }

    /// What a release did.
    public struct Result: Sendable {
        /// The list address the post went to.
        public var list: String
        /// Copies published by this run.
        public var published: Int
        /// Whether an earlier, interrupted release had committed the copies already.
        public var wasCommittedBefore: Bool
        /// The list's words for the log (`list lists/staff: 31 copies`).
        public var summary: String
    }

    /// The fan-out of the release of the held file `name` (the same for every run).
    public static func fanOut(of name: MessageName, in spool: Spool) -> FanOut {
        let key = Digest.hex(Digest.hash(.sha256, Array("release\u{0}\(name.base)".utf8)))
        return FanOut(spool: spool, key: key)
    }

    /// Routes the held post `bytes` (file `name`) to its list's members and publishes the copies.
    /// The caller removes the held file once this returns.
    public func release(_ bytes: [UInt8], name: MessageName, log: SpoolLog) throws(PostroomError) -> Result {
        let held = try Message(parsing: bytes, source: name.base)
        guard let list = held.control(.heldFor), !list.isEmpty else {
            throw .malformed(what: "held post", location: name.base, reason: "it names no list (X-Postroom-Held-For)")
        }
        var sender: String?
        if let path = held.control(.envelopeFrom) { sender = try AddressParser.parsePath(path)?.address }
        let message = try IncomingMessage(bytes: bytes, recipient: list, sender: sender, limits: .none)
        let fanOut = Self.fanOut(of: name, in: spool)
        let context = RouteContext(spool: spool, configuration: configuration, recipient: list)
        let router = Router(table: table, context: context)
        if fanOut.isCommitted {
            let result = try fanOut.commit([], name: { _ in name })
            router.logCopies(result, copies: [], message: message, log: log)
            return Result(
                list: list, published: result.published.count, wasCommittedBefore: true,
                summary: "finished an interrupted release")
        }
        let plan = try plan(for: message, context: context, name: name)
        // The copies descend from the held file: NAME.R1, NAME.R2, ... (never NAME itself).
        let parent = MessageName(base: name.base)
        let result = try fanOut.commit(plan.copies) { parent.child(recipientIndex: $0 + 1) }
        router.logCopies(result, copies: plan.copies, message: message, log: log)
        return Result(
            list: list, published: result.published.count, wasCommittedBefore: result.wasCommittedBefore,
            summary: plan.summary)
    }

    /// The copies the first list rule that takes the address makes, its posting policy skipped.
    private func plan(
        for message: IncomingMessage, context: RouteContext, name: MessageName
    ) throws(PostroomError) -> RoutePlan {
        var after = -1
        var passes: [String] = []
        while let (index, arguments) = try table.firstMatch(message.recipient, after: after) {
            after = index
            let rule = table.rules[index]
            guard rule.handler == ListHandler.self else { continue }
            let handler = try ListHandler(arguments, context: context)
            switch try handler.route(message, context: context, checkingPosters: false) {
            case .deliver(let plan):
                return plan
            case .pass(let reason):
                passes.append("line \(rule.line): \(reason)")
            case .drop(let reason), .refuse(_, let reason):
                throw .unavailable("\(name.base): the list \(message.recipient) does not take it: \(reason)")
            case .record:
                throw .unavailable("\(name.base): rule table line \(rule.line) records mail rather than posting it")
            }
        }
        let why = passes.isEmpty ? "" : " (\(passes.joined(separator: "; ")))"
        throw .configuration(
            location: table.path,
            reason: "no list rule takes \(message.recipient) any more\(why); the post stays held: "
                + "restore the list, or delete the post with 'postroom delete \(name.base)'")
    }
}
