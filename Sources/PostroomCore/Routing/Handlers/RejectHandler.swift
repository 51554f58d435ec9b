/// `reject [TEXT]`: refuses the address; route exits 67 and the MTA puts TEXT in its bounce.
public struct RejectHandler: RouteHandler {
    public static let name = "reject"
    public static let argumentCount = 0...Int.max

    private let text: String

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {
        let joined = arguments.positional.joined(separator: " ")
        // One line: the MTA copies it into a bounce.
        text = joined.isEmpty ? "no such address here" : HeaderWriter.sanitized(joined)
    }

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        .refuse(.noUser, text)
    }
}
