import Synchronization

/// `deliver`'s ARC step: seals list copies whose control fields ask for it, and logs a
/// warning, once per pass and kind, for a copy that goes out unsealed. Never fails a message.
final class ARCSealingStep: Sendable {
    /// The warnings given in this pass.
    private let warned = Mutex<Set<String>>([])

    /// A step with nothing warned yet.
    init() {}

    /// Forgets the warnings given: a new pass warns again.
    func startPass() {
        warned.withLock { $0.removeAll() }
    }

    /// Seals `header` (as it goes on the wire) when `controls` (the stored header, control
    /// fields included) asks for it; `signer` holds the keys (nil: none configured). Returns the
    /// request when it sealed, for sealing a converted form of the message again.
    @discardableResult
    func seal(
        _ header: inout Message, controls: Message, body stored: StoredMessage, signer: DKIMSigner?,
        timestamp: Int, name: MessageName, log: SpoolLog
    ) throws(PostroomError) -> ARCSealRequest? {
        let request: ARCSealRequest
        do {
            guard let asked = try ARCSealRequest(controls: controls) else { return nil }
            request = asked
        } catch {
            warn("the ARC control fields are unusable (\(error.reason))", once: "malformed", name: name, log: log)
            return nil
        }
        let outcome = try ARCSealer.seal(header: &header, request: request, timestamp: timestamp, signer: signer) {
            (consume) throws(PostroomError) in
            try stored.forEachBodyChunk({ (piece) throws(PostroomError) in consume(piece) }, unreadable: { $0 })
        }
        guard let reason = outcome.unsealedReason else { return request }
        // One warning per pass for each domain without a key, and one for all mismatches.
        let kind: String
        if case .noKey(let domain, _) = outcome { kind = "key \(domain)" } else { kind = "mismatch" }
        warn(reason, once: kind, name: name, log: log)
        return nil
    }

    private func warn(_ problem: String, once kind: String, name: MessageName, log: SpoolLog) {
        guard warned.withLock({ $0.insert(kind).inserted }) else { return }
        log.record(
            name, status: "warning",
            detail: "\(problem); sent unsealed (further ones this pass too); see ARC sealing in postroom-deliver(8)")
    }
}
