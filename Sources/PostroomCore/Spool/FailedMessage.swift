/// Moving what cannot be processed into `failed/`, with the reason, losing nothing.
extension Claim {
    /// Moves the claimed message to `failed/cur/` with `X-Postroom-Failure` and
    /// `X-Postroom-Failed-In` set, and logs the failure.
    ///
    /// If the message cannot be parsed, the two fields are put in front of the original
    /// bytes, which stay otherwise untouched, so `mv` back after a fix still works.
    public func fail(into spool: Spool, reason: String, stage: String, log: SpoolLog) throws(PostroomError) {
        let original = try read()
        var bytes: [UInt8]
        if var message = try? Message(parsing: original) {
            message.setControl(.failure, reason)
            message.setControl(.failedIn, stage)
            bytes = message.bytes
        } else {
            var header = Message()
            header.setControl(.failure, reason)
            header.setControl(.failedIn, stage)
            bytes = header.fields.flatMap(\.raw) + original
        }
        try replace(with: bytes, to: spool.maildir(.failed), folder: .cur)
        log.record(name, status: "failed", detail: reason)
    }
}
