/// `deliver --dry-run`: what a server would receive for one message file, signed and sealed as
/// `deliver` would, and what it would warn about (no key for the From domain, a list copy left
/// unsealed), said beside the bytes rather than only in a log the dry run never writes.
public struct DryRun {
    /// The SMTP transcript (envelope, then the message as it goes on the wire).
    public var transcript: [UInt8]
    /// One line for each warning `deliver` would log for this message.
    public var warnings: [String]

    /// The dry run of the message in `bytes`; `name` is its spool name (nil for standard input).
    public init(
        bytes: [UInt8], source: String, name: MessageName?, envelopes: SendingEnvelope, signer: DKIMSigner?,
        timestamp: Int
    ) throws(PostroomError) {
        var message = try Message(parsing: bytes, source: source)
        let envelope = try envelopes.envelope(of: message, name: name)
        let controls = message
        message.removeInternalFields()
        warnings = []
        let body = message.body
        if let signer {
            let outcome = try signer.sign(header: &message, timestamp: timestamp) { $0(body) }
            if let reason = outcome.unsignedReason { warnings.append("not DKIM-signed: \(reason)") }
        } else {
            warnings.append("not DKIM-signed: no DKIM key is configured (--dkim, dkim in postroom.conf)")
        }
        let request: ARCSealRequest?
        do {
            request = try ARCSealRequest(controls: controls)
        } catch {
            request = nil
            warnings.append("not ARC-sealed: the ARC control fields are unusable (\(error.reason))")
        }
        if let request {
            let outcome = try ARCSealer.seal(header: &message, request: request, timestamp: timestamp, signer: signer) {
                $0(body)
            }
            if let reason = outcome.unsealedReason { warnings.append("not ARC-sealed: \(reason)") }
        }
        transcript = WireFormat.smtpTranscript(message.bytes, envelope: envelope)
    }
}
