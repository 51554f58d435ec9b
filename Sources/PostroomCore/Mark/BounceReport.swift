/// Placeholder until its helper lands (issue 10): refuses so nothing is recorded wrongly.
public struct BounceReport: MarkRecord {
    public init(message: IncomingMessage, configuration: Configuration) throws(PostroomError) {
        throw .configuration(location: nil, reason: "BounceReport is not built yet")
    }
    public var summary: String { "" }
    public func record(in spool: Spool, configuration: Configuration, log: SpoolLog) throws(PostroomError) -> MarkResult
    {
        MarkResult(status: .tempFail, detail: "not built yet")
    }
}
