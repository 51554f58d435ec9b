/// `bounce`: the address is a bounce address (`bounces+NAME@`, `LIST-bounces+member=domain@`,
/// `bounces@`); the message is recorded as `mark --bounce` would (see `BounceReport`): a flag
/// on the sent file, a log line, and for a bounce about the address the bounce history and
/// perhaps `suppress`. Nothing is delivered anywhere.
public struct BounceHandler: RouteHandler {
    public static let name = "bounce"
    public static let argumentCount = 0...0

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {}

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        .record(try BounceReport(message: message, configuration: context.configuration, now: context.now))
    }
}
