import Glibc

/// `list FILE [options]`: a mailing list whose members are the addresses in FILE.
///
/// A post becomes one outgoing copy per member (the poster left out unless `self=yes`), each
/// with its own envelope: the list's VERP bounce address for that member as sender, the member
/// as recipient. The copies share one rewritten header (see `ListHeaders`) and the post's body.
/// A missing FILE means there is no such list: the next rule is tried. Null-sender mail
/// (bounces, auto-replies) is dropped; a post the posting policy refuses is held.
public struct ListHandler: RouteHandler {
    public static let name = "list"
    public static let argumentCount: ClosedRange<Int> = 1...1
    public static var optionNames: Set<String> { ListSettings.optionNames }

    /// The rule's options.
    public let settings: ListSettings

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {
        settings = try ListSettings(arguments)
    }

    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] {
        let settings: ListSettings
        do {
            settings = try ListSettings(arguments)
        } catch {
            return [error.description]
        }
        var problems: [String] = []
        func checkFile(_ argument: String, _ path: String, required: Bool, what: String) {
            guard !argument.contains("$") else {
                problems += checkTemplated(path)
                return
            }
            do {
                if let file = try ListMembers.load(path) {
                    problems += file.problems.map(\.text)
                } else if required {
                    problems.append(
                        "rule table line \(arguments.line): \(what) \(path) does not exist"
                            + " (posters= takes anyone, members, or a file of the addresses that may post)")
                } else {
                    problems.append(
                        "rule table line \(arguments.line): member file \(path) does not exist, so the rule never applies"
                    )
                }
            } catch {
                problems.append("rule table line \(arguments.line): \(error.description)")
            }
        }
        checkFile(settings.memberFile, settings.memberPath, required: false, what: "member file")
        if case .file(let path) = settings.posters, let argument = arguments.options["posters"] {
            checkFile(argument, path, required: true, what: "posters file")
        }
        // A list that may seal or requires signatures runs verify for each post.
        let mayVerify = settings.arc ?? (context.configuration.value(Configuration.dkim) != nil)
        if mayVerify || settings.requireSignature {
            do {
                _ = try VerifyProgram.locate()
            } catch {
                problems.append("rule table line \(arguments.line): \(error.description)")
            }
        }
        return problems
    }

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        try route(message, context: context, checkingPosters: true)
    }

    /// Routes `message`; with `checkingPosters` false the posting policy is skipped, for a held
    /// post a moderator released (a decision that must come from the operator, never from the
    /// message's own fields).
    public func route(
        _ message: IncomingMessage, context: RouteContext, checkingPosters: Bool
    ) throws(PostroomError) -> RouteDecision {
        guard let members = try ListMembers.load(settings.memberPath) else {
            return .pass(reason: "no member file \(settings.memberPath)")
        }
        let list = message.recipient
        guard let sender = message.sender else {
            return .drop(reason: "null-sender mail (a bounce or auto-reply) to the list \(list) is not posted")
        }
        let poster = ListPoster(message, envelopeSender: sender)
        let listName = settings.name ?? IncomingMessage.split(list).local

        // `told` is what the poster's bounce says, when `reason` names what only the site should see.
        func refuse(_ reason: String, told: String? = nil) throws(PostroomError) -> RouteDecision {
            if settings.rejectsRefusedPosts {
                return .refuse(
                    .noPermission, "\(list): \(told ?? reason); the list does not take posts from this address")
            }
            let held = try HeldPost(
                message: message, list: list, poster: poster, reason: reason, notify: settings.notify,
                listName: listName, context: context)
            let notice = held.copies.count > 1 ? ", poster notified" : ""
            return .deliver(
                RoutePlan(copies: held.copies, summary: "list \(settings.memberFile): held (\(reason))\(notice)"))
        }
        if checkingPosters, let refused = try refusal(of: poster, members: members) {
            return try refuse(refused.reason, told: refused.told)
        }

        // Only a list that seals or requires signatures runs verify; a released post was
        // already judged by its moderator, so only sealing needs the report then.
        let authentication = try ListAuthentication(
            settings: settings, list: list, configuration: context.configuration)
        var arcControls: [(ControlHeader, String)] = []
        var arcNote: String?
        if authentication.seals || (checkingPosters && authentication.requiresSignature) {
            let report = try context.verifyReport(message)
            if checkingPosters && authentication.requiresSignature {
                let signature = try report.alignedSignature(
                    fromDomain: poster.fromDomain, publicSuffixList: try context.publicSuffixList())
                if signature.temporary { throw .temporary("\(list): \(signature.reason); a key lookup failed") }
                if !signature.aligned { return try refuse(signature.reason) }
            }
            if authentication.seals {
                (arcControls, arcNote) = try authentication.sealControls(
                    report: report, message: message, configuration: context.configuration)
            }
        }

        let rewriteFrom = try FromRewritePolicy.rewrites(settings.fromRewrite, poster: poster, context: context)
        let headers = try ListHeaders(
            message: message, list: list, settings: settings, poster: poster, rewriteFrom: rewriteFrom,
            loopID: context.loopID, unsubscribe: try context.unsubscribe(), issued: context.now)
        let posterKeys = Set(poster.addresses.map(ListMembers.key))
        // Read once per post: members who unsubscribed from this list, or from all mail, get no copy.
        let suppressed = try SuppressionList(path: context.spool.suppressPath)
        var skipped = 0
        let body = message.body
        var copies: [RouteCopy] = []
        copies.reserveCapacity(members.members.count)
        for (index, member) in members.members.enumerated() {
            if !settings.sendToSelf && posterKeys.contains(ListMembers.key(member.address)) { continue }
            if suppressed.contains(member.address, list: list) {
                skipped += 1
                continue
            }
            copies.append(
                RouteCopy(
                    destination: .outgoing,
                    envelope: try Envelope(
                        sender: VERP.encode(member: member.address, list: list), recipients: [member.address]),
                    control: arcControls, header: try headers.header(for: member.address), body: body,
                    note: "member \(index + 1) of \(settings.memberFile)"))
        }
        let suppressedNote = skipped > 0 ? "; \(skipped) suppressed" : ""
        guard !copies.isEmpty else {
            return .drop(
                reason: "the list \(settings.memberFile) has no member to send \(list)'s post to\(suppressedNote)")
        }
        var summary =
            "list \(settings.memberFile): \(copies.count) cop\(copies.count == 1 ? "y" : "ies")" + suppressedNote
        if rewriteFrom { summary += ", From rewritten" }
        if let arcNote { summary += ", \(arcNote)" }
        if !members.problems.isEmpty { summary += "; \(members.problems.count) unreadable lines skipped" }
        return .deliver(RoutePlan(copies: copies, summary: summary))
    }

    /// The problems of every file a member path with captures (`lists/$1-$2`) can name: the files
    /// of its directory whose names fit it (`*-*`). A directory that is itself named through a
    /// capture is not looked into.
    static func checkTemplated(_ path: String) -> [String] {
        guard let slash = path.lastIndex(of: "/"), !path[..<slash].contains("$") else { return [] }
        let directory = String(path[..<slash])
        // Every group as `*`, substituted as routing substitutes them.
        let glob = RuleTable.Rule.substitute(
            String(path[path.index(after: slash)...]), Array(repeating: "*", count: 10))
        var problems: [String] = []
        for name in DirectoryStream(path: directory).sorted()
        where !name.hasPrefix(".") && fnmatch(glob, name, FNM_PERIOD) == 0 {
            do throws(PostroomError) {
                problems += try ListMembers.load("\(directory)/\(name)")?.problems.map(\.text) ?? []
            } catch {
                problems.append(error.description)
            }
        }
        return problems
    }

    /// Why the posting policy refuses `poster`, or nil when it may post: the reason for the held
    /// queue and the log (which file), and what the poster is told (no path of this machine).
    func refusal(of poster: ListPoster, members: ListMembers) throws(PostroomError) -> (reason: String, told: String)? {
        let allowed: ListMembers
        switch settings.posters {
        case .anyone:
            return nil
        case .members:
            allowed = members
        case .file(let path):
            guard let file = try ListMembers.load(path) else {
                throw .configuration(
                    location: path, reason: "the posters file of \(settings.memberFile) does not exist")
            }
            allowed = file
        }
        if poster.addresses.contains(where: allowed.contains) { return nil }
        let who = (poster.from?.address ?? poster.envelopeSender).escapingControls
        let whom = settings.posters == .members ? "a member" : "one of its posters"
        return ("\(who) may not post: not in \(allowed.path)", "\(who) may not post: not \(whom)")
    }
}
