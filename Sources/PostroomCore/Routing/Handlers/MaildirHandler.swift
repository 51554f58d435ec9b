/// `maildir DIR`: delivery into a local maildir (an archive), with `Return-Path` and
/// `Delivered-To`, as durable as every spool write. DIR and its tmp/new/cur are created if missing.
public struct MaildirHandler: RouteHandler {
    public static let name = "maildir"
    public static let argumentCount = 1...1

    private let path: String

    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] {
        guard let directory = arguments.positional.first, !directory.contains("$") else { return [] }
        let path = arguments.path(directory)
        var parent = path
        while parent.hasSuffix("/") && parent.count > 1 { parent.removeLast() }
        parent = parent.lastIndex(of: "/").map { String(parent[..<$0]) } ?? "."
        if FileSystem.exists(path) || FileSystem.exists(parent.isEmpty ? "/" : parent) { return [] }
        return ["the maildir \(path) cannot be created: \(parent) does not exist"]
    }

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {
        path = arguments.path(arguments.positional[0])
    }

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        let header = try message.header(below: [("Delivered-To", message.recipient)])
        let copy = RouteCopy(
            destination: .maildir(path),
            envelope: try Envelope(sender: message.sender, recipients: [message.recipient]),
            header: header, body: message.body, note: "maildir \(path)")
        return .deliver(RoutePlan(copies: [copy], summary: "maildir \(path)"))
    }
}
