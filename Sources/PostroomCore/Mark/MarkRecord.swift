/// Something learnt about mail already sent, to be written down: a loopback copy came back, a
/// bounce arrived, an address unsubscribed. `mark` records one per run; `route`'s `loopback`,
/// `bounce` and `unsubscribe` handlers decide on one and `Router` records it.
///
/// Invariant: recording is idempotent (the MTA may deliver the same message twice, or retry
/// after a kill), and each change to the spool is one rename of one file: a flag on a file in
/// `sent/`, or a new `suppress` (see `LockedTextFile`).
public protocol MarkRecord: Sendable {
    /// What would be recorded, for `route --explain` (nothing is written to find out).
    var summary: String { get }

    /// Records it, and says what happened: the status is 0, or 77 for a refused request (a
    /// forged or expired unsubscribe token). A thrown error is a local failure (exit 75).
    func record(in spool: Spool, configuration: Configuration, log: SpoolLog) throws(PostroomError) -> MarkResult
}

/// What recording did.
public struct MarkResult: Sendable, Equatable {
    /// The exit status: `.ok`, or `.noPermission` for a refused request.
    public var status: Sysexit
    /// A few words for the log line and the terminal: `confirmed NAME after 2.1s`.
    public var detail: String

    /// A result from parts.
    public init(status: Sysexit = .ok, detail: String) {
        self.status = status
        self.detail = detail
    }
}
