/// The `expand` stage: requests in `request/` become one job per envelope recipient in `expanded/`.
///
/// Crash-exact: all of a request's jobs are staged in `expanded/tmp/` and made durable,
/// then the claimed request is flagged `P` (publishing), then the jobs are renamed into
/// `expanded/new/`, then the request is flagged `S` (done). A run that finds a request
/// without `P` stages it again under the same names; one with `P` only publishes what is
/// still staged. Either way each job exists exactly once.
public final class Expander {
    /// The counts for one request, printed when it is done.
    public struct Summary: Sendable, CustomStringConvertible {
        /// The request's name.
        public var request: String
        /// Copies that had an address.
        public var candidates = 0
        /// Jobs written.
        public var expanded = 0
        /// Copies skipped for the suppression list.
        public var suppressed = 0
        /// Copies dropped because the recipient already had a copy at that address.
        public var duplicates = 0
        /// Guardian or emergency copies with no address.
        public var missingContacts = 0
        /// Invalid addresses, with their lines.
        public var invalid: [(line: Int, address: String)] = []

        /// `expanded 9,998 of 10,000: 1 suppressed, 1 invalid address at line 17`.
        public var description: String {
            var notes: [String] = []
            if suppressed > 0 { notes.append("\(Self.group(suppressed)) suppressed") }
            if !invalid.isEmpty {
                let lines =
                    invalid.prefix(5).map { String($0.line) }.joined(separator: ", ")
                    + (invalid.count > 5 ? ", ..." : "")
                notes.append(
                    "\(Self.group(invalid.count)) invalid address\(invalid.count == 1 ? "" : "es") at line\(invalid.count == 1 ? "" : "s") \(lines)"
                )
            }
            if duplicates > 0 {
                notes.append("\(Self.group(duplicates)) duplicate\(duplicates == 1 ? "" : "s") dropped")
            }
            if missingContacts > 0 {
                notes.append(
                    "\(Self.group(missingContacts)) contact\(missingContacts == 1 ? "" : "s") without an address")
            }
            return "expanded \(Self.group(expanded)) of \(Self.group(candidates))"
                + (notes.isEmpty ? "" : ": " + notes.joined(separator: ", "))
        }

        /// `12,345`.
        static func group(_ number: Int) -> String {
            let digits = String(number)
            var out = ""
            for (index, character) in digits.enumerated() {
                if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
                out.append(character)
            }
            return out
        }
    }

    /// The flag a request carries while its staged jobs are being published.
    public static let publishingFlag = Claim.publishingFlag

    private let spool: Spool
    private let log: SpoolLog
    private let suppression: SuppressionList
    /// Called as jobs are staged: (jobs so far, request name).
    public var progress: ((Int, String) -> Void)?
    /// A request whose messages would be over these limits is refused.
    public var limits = MessageLimits.defaults
    /// The requests this expander moved to `failed/`, with the reasons.
    public private(set) var rejected: [(request: String, reason: String)] = []

    /// An expander over `spool`, logging to `log`.
    public init(spool: Spool, log: SpoolLog) throws(PostroomError) {
        self.spool = spool
        self.log = log
        suppression = try SuppressionList(path: spool.suppressPath)
    }

    /// Expands every request waiting in `request/new/` (after recovering dead claims).
    public func run() throws(PostroomError) -> [Summary] {
        let requests = spool.maildir(.request)
        for removed in spool.sweepTemporaryFiles() {
            log.record(nil, status: "swept", detail: "removed \(removed), left by a stopped writer")
        }
        for (name, _) in try requests.recoverAbandonedClaims() {
            log.record(name, status: "recovered", detail: "claim of a stopped expand returned to new/")
        }
        var summaries: [Summary] = []
        for fileName in try requests.names(in: .new).checked() {
            guard let claim = try requests.claim(fileName) else { continue }
            if let summary = try expand(claim) { summaries.append(summary) }
        }
        try log.sync()
        return summaries
    }

    /// Writes a request into `request/new/` durably and returns its name.
    public func submit(_ request: Request) throws(PostroomError) -> MessageName {
        try limits.check(request, source: "the submitted request")
        let name = MessageNameGenerator.shared.next()
        try spool.maildir(.request).add(try request.encoded(seed: name.messageIDLocalPart), as: name)
        log.record(
            name, ["recipients": request.recipients.source, "send_to": request.sendTo.description], status: "submitted")
        return name
    }

    /// Expands one claimed request; a malformed one goes to `failed/` (and nil is returned).
    public func expand(_ claim: Claim) throws(PostroomError) -> Summary? {
        let base = claim.name.base
        if claim.name.has(Self.publishingFlag) && !claim.name.has(Claim.doneFlag) {
            return try finishPublishing(claim)
        }
        let request: Request
        do throws(PostroomError) {
            request = try Request(parsing: try claim.read(), source: claim.path)
            try request.recipients.validateHeader()
            try limits.check(request, source: claim.path)
        } catch {
            try reject(claim, reason: error.description)
            return nil
        }
        let expanded = spool.maildir(.expanded)
        let batch = StagingBatch()
        var summary = Summary(request: base)
        // Only what the log lines need: a job's record can be large, and there may be 100,000.
        var published: [(index: Int, address: String, copy: SendTo.Copy, line: Int)] = []
        for event in request.expansion(name: base, suppression: suppression) {
            switch event {
            case .failure(let error):
                batch.discard()
                try reject(claim, reason: error.description)
                return nil
            case .success(.job(let job)):
                summary.candidates += 1
                summary.expanded += 1
                let name = MessageName(base: base).child(recipientIndex: summary.expanded)
                try batch.stage(job.message.bytes, as: name, in: expanded)
                published.append((summary.expanded, job.envelopeTo, job.copy, job.line))
                progress?(summary.expanded, base)
            case .success(.skipped(let line, let copy, let address, let reason)):
                switch reason {
                case .suppressed:
                    summary.candidates += 1
                    summary.suppressed += 1
                case .invalidAddress:
                    summary.candidates += 1
                    summary.invalid.append((line, address))
                case .duplicate: summary.duplicates += 1
                case .noContact: summary.missingContacts += 1
                }
                log.recordSkipped(request: base, line: line, copy: copy, address: address, reason: reason)
            }
        }
        if summary.expanded == 0 && !summary.invalid.isEmpty {
            batch.discard()
            let error = Request.noValidAddress(summary.invalid, source: request.recipients.source)
            try reject(claim, reason: error.description)
            return nil
        }
        try batch.makeDurable()
        try claim.addFlag(Self.publishingFlag)
        try batch.publish()
        let requestName = MessageName(base: base)
        for job in published {
            log.record(
                requestName.child(recipientIndex: job.index),
                ["to": "<\(job.address)>", "copy": job.copy.rawValue, "line": String(job.line)],
                status: "expanded", echo: false)
        }
        try claim.markDone()
        log.record(MessageName(base: base), status: "done", detail: summary.description)
        return summary
    }

    /// Moves a request that cannot be expanded to `failed/`, remembering it for the exit status.
    private func reject(_ claim: Claim, reason: String) throws(PostroomError) {
        try claim.fail(into: spool, reason: reason, stage: "expand", log: log)
        rejected.append((claim.name.base, reason))
    }

    /// After a crash between flagging and finishing: publish the jobs still staged.
    private func finishPublishing(_ claim: Claim) throws(PostroomError) -> Summary {
        let expanded = spool.maildir(.expanded)
        var count = 0
        for fileName in try expanded.names(in: .tmp).checked()
        where MessageName(fileName: fileName).parent?.base == claim.name.base && !fileName.contains(":") {
            let name = MessageName(fileName: fileName)
            try expanded.publish(name)
            log.record(name, status: "expanded", detail: "published after an interrupted run", echo: false)
            count += 1
        }
        try FileSystem.syncDirectory(expanded.path(of: .new))
        try claim.markDone()
        var summary = Summary(request: claim.name.base)
        summary.expanded = count
        summary.candidates = count
        log.record(
            MessageName(base: claim.name.base), status: "done",
            detail: "published \(count) staged jobs of an interrupted run")
        return summary
    }
}
