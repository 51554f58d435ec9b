/// `loopback`: the address is `deliver --loopback`'s; each message is a copy of one it sent,
/// confirmed on its file in `sent/` as `mark --loopback` does (see `LoopbackConfirmation`).
public struct LoopbackHandler: RouteHandler {
    public static let name = "loopback"
    public static let argumentCount = 0...0

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {}

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        .record(try LoopbackConfirmation(message: message, configuration: context.configuration))
    }
}
