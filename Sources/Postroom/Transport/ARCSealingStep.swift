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
            warn("ARC control fields unusable (\(error.reason))", once: "malformed", name: name, log: log)
            return nil
        }
        let outcome =
            try signer.map { (signer) throws(PostroomError) in
                try ARCSealer(signer: signer).seal(header: &header, request: request, timestamp: timestamp) {
                    (consume) throws(PostroomError) in
                    try stored.forEachBodyChunk({ (piece) throws(PostroomError) in consume(piece) }, unreadable: { $0 })
                }
            } ?? .noKey(domain: request.domain, onlyEd25519: false)
        switch outcome {
        case .sealed: return request
        case .noKey(let domain, let onlyEd25519):
            let which = onlyEd25519 ? "only an Ed25519 key (ARC validators check RSA)" : "no DKIM key"
            warn("\(which) for the ARC sealing domain \(domain)", once: "key \(domain)", name: name, log: log)
        case .mismatch(let error):
            warn("ARC request does not fit the message (\(error.reason))", once: "mismatch", name: name, log: log)
        }
        return nil
    }

    private func warn(_ problem: String, once kind: String, name: MessageName, log: SpoolLog) {
        guard warned.withLock({ $0.insert(kind).inserted }) else { return }
        log.record(
            name, status: "warning",
            detail: "\(problem); sent unsealed (further ones this pass too); see ARC sealing in postroom-deliver(8)")
    }
}
