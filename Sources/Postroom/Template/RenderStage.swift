import Glibc
import Synchronization

/// The `render` stage: jobs in `expanded/` become finished messages in `outgoing/`.
///
/// Each request's template is parsed once per run, however many jobs it has. Jobs are
/// rendered by one worker per processor; each writes and syncs its messages in batches
/// (see `StagingBatch`). A job becomes its message in one file: the durable message is
/// renamed over the claimed job, then moved to `outgoing/new/`, so a crash leaves the claim
/// holding one or the other, and recovery, still holding the claim, sends each on its way.
/// A job that cannot be rendered goes to `failed/` with the reason, and the rest keep
/// flowing; a request that cannot be read for a passing reason (EIO, EMFILE) stops the run
/// and its jobs wait in `expanded/new/` for the next.
public final class RenderStage: Sendable {
    /// What one run did.
    public struct Summary: Sendable, Equatable {
        /// Messages written to `outgoing/`.
        public var rendered = 0
        /// Jobs moved to `failed/`.
        public var failed = 0
        /// Recovered claims that already held their rendered message (moved on, not rendered twice).
        public var alreadyRendered = 0

        /// A summary with these counts.
        public init(rendered: Int = 0, failed: Int = 0, alreadyRendered: Int = 0) {
            self.rendered = rendered
            self.failed = failed
            self.alreadyRendered = alreadyRendered
        }
    }

    /// A request loaded for rendering, or why it cannot be.
    private enum LoadedRequest: Sendable {
        case ready(template: MessageTemplate, variables: [Variable], attachments: [Message], isBulk: Bool)
        case broken(String)
    }

    private struct Variable: Sendable {
        let name: String
        let value: String
    }

    private let spool: Spool
    private let log: SpoolLog
    private let renderer: Renderer
    private let extraVariables: [Variable]
    private let limits: MessageLimits
    private let lint: MessageLint?
    private let requests = Mutex<[String: LoadedRequest]>([:])
    private let settings: Mutex<(batchSize: Int, workers: Int, progress: (@Sendable (Int) -> Void)?)>

    /// A stage over `spool`; `extraVariables` (from `--var`) win over the request's; a message
    /// over `limits` is not written, and its job goes to `failed/`. With `lint` (`render --lint`),
    /// a message with lint errors is not written either, and its warnings go to the log.
    public init(
        spool: Spool, log: SpoolLog, renderer: Renderer, extraVariables: [(name: String, value: String)] = [],
        limits: MessageLimits = .defaults, lint: MessageLint? = nil
    ) {
        self.spool = spool
        self.limits = limits
        self.lint = lint
        self.log = log
        self.renderer = renderer
        self.extraVariables = extraVariables.map { Variable(name: $0.name, value: $0.value) }
        settings = Mutex((256, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))), nil))
    }

    /// Messages per shared sync.
    public var batchSize: Int {
        get { settings.withLock { $0.batchSize } }
        set { settings.withLock { $0.batchSize = newValue } }
    }

    /// Parallel workers (default: one per online processor).
    public var workers: Int {
        get { settings.withLock { $0.workers } }
        set { settings.withLock { $0.workers = max(1, newValue) } }
    }

    /// Called with the number rendered so far (from one worker at a time).
    public var progress: (@Sendable (Int) -> Void)? {
        get { settings.withLock { $0.progress } }
        set { settings.withLock { $0.progress = newValue } }
    }

    /// Renders every job waiting in `expanded/new/`.
    public func run() throws(PostroomError) -> Summary {
        var summary = try recover()
        let names = SharedNames(try spool.maildir(.expanded).names(in: .new).checked())
        let outcome = Mutex<(summary: Summary, error: PostroomError?)>((Summary(), nil))
        let (batchSize, workers, progress) = settings.withLock { ($0.batchSize, $0.workers, $0.progress) }
        Workers.run(workers) { [self] worker in
            var mine = Summary()
            do throws(PostroomError) {
                try drain(names, into: &mine, batchSize: batchSize) { count in
                    if worker == 0 { progress?(count * workers) }
                }
            } catch {
                outcome.withLock { $0.error = $0.error ?? error }
            }
            outcome.withLock {
                $0.summary.rendered += mine.rendered
                $0.summary.failed += mine.failed
            }
        }
        let (total, failure) = outcome.withLock { ($0.summary, $0.error) }
        if let failure { throw failure }
        summary.rendered += total.rendered
        summary.failed += total.failed
        progress?(summary.rendered)
        try log.sync()
        return summary
    }

    /// One worker: claims names from the shared stream until it runs dry.
    private func drain(
        _ names: SharedNames, into summary: inout Summary, batchSize: Int, progress: (Int) -> Void
    )
        throws(PostroomError)
    {
        let expanded = spool.maildir(.expanded)
        let batch = StagingBatch()
        while let fileName = names.next() {
            guard let claim = try expanded.claim(fileName) else { continue }
            do throws(PostroomError) {
                let message = try render(claim)
                try limits.check(message, source: "the message rendered from \(claim.path)")
                if let lint {
                    let warnings = try lint.enforce(on: message, source: "the message rendered from \(claim.path)")
                    if !warnings.isEmpty { log.record(claim.name, status: "lint", detail: warnings, echo: false) }
                }
                try batch.stage(message.bytes, replacing: claim, into: spool.maildir(.outgoing))
                summary.rendered += 1
                log.record(
                    claim.name, ["to": "<\(message.control(.envelopeTo) ?? "")>"], status: "rendered", echo: false)
            } catch {
                guard Self.isPermanent(error) else {
                    // Nothing wrong with the job: it waits for the next run, with what is staged.
                    try batch.commit()
                    try claim.release(syncing: true)
                    throw error
                }
                try claim.fail(into: spool, reason: error.description, stage: "render", log: log)
                summary.failed += 1
            }
            if batch.count >= batchSize {
                try batch.commit()
                progress(summary.rendered)
            }
        }
        try batch.commit()
    }

    /// Whether an error is about the job or its request's content (the job fails for good),
    /// rather than the machine (a full table of descriptors, an I/O error: try again later).
    static func isPermanent(_ error: PostroomError) -> Bool {
        switch error {
        case .malformed, .missingInput, .unknownRecipient, .usage, .configuration: true
        case .io, .cannotCreate, .temporary, .unavailable: false
        }
    }

    /// Returns dead claims: a job to `new/`, a claim that already holds its rendered message
    /// (killed between the two renames) on to `outgoing/new/`. Decided while the claim is held.
    private func recover() throws(PostroomError) -> Summary {
        var summary = Summary()
        for removed in spool.sweepTemporaryFiles() {
            log.record(nil, status: "swept", detail: "removed \(removed), left by a stopped writer")
        }
        let expanded = spool.maildir(.expanded)
        let outgoing = spool.maildir(.outgoing)
        let recovered = try expanded.recoverAbandonedClaims(keepingDone: false) { claim throws(PostroomError) in
            let message = try? Message(parsing: try claim.read(), source: claim.path)
            return message.map(Job.isJob) ?? true ? expanded : outgoing
        }
        for (name, target) in recovered {
            if target.path == outgoing.path {
                log.record(
                    name, status: "rendered", detail: "recovered claim already held its message: moved to outgoing/new")
                summary.alreadyRendered += 1
            } else {
                log.record(name, status: "recovered", detail: "claim of a stopped render returned to new/")
            }
        }
        return summary
    }

    /// Renders one claimed job.
    private func render(_ claim: Claim) throws(PostroomError) -> Message {
        let job = try Job(try Message(parsing: try claim.read(), source: claim.path), source: claim.path)
        switch try loadRequest(job.request) {
        case .broken(let reason):
            throw .malformed(what: "request", location: job.request, reason: reason)
        case .ready(let template, let variables, let attachments, let isBulk):
            let input = RenderInput(
                name: MessageName(base: claim.name.base), envelopeTo: job.envelopeTo, toName: job.toName,
                copy: job.copy,
                recipient: job.recipient, variables: (variables + extraVariables).map { ($0.name, $0.value) },
                attachments: attachments, isBulk: isBulk, request: job.request)
            return try renderer.render(template, input)
        }
    }

    /// Loads and compiles a request once per run, whichever worker asks first.
    ///
    /// A request whose content is broken is remembered as such (its jobs fail); a passing
    /// error is thrown and not remembered, so the next run tries again.
    private func loadRequest(_ base: String) throws(PostroomError) -> LoadedRequest {
        if let loaded = requests.withLock({ $0[base] }) { return loaded }
        let loaded: LoadedRequest
        do throws(PostroomError) {
            guard let path = try findRequest(base) else {
                throw .missingInput(
                    path: spool.maildir(.request).path(of: .cur) + "/" + base,
                    reason: "the request was removed before all its jobs were rendered")
            }
            let request = try Request(parsing: try FileSystem.readFile(path), source: path)
            let template = try MessageTemplate(request.template, source: "template of \(base)")
            let attachments = try request.attachments.map { (file) throws(PostroomError) in
                try MIMEWriter.leaf(
                    contentType: MediaType(file.mediaType, parameters: [("name", file.fileName)]), body: file.content,
                    encoding: .base64,
                    extraFields: [
                        (
                            "Content-Disposition",
                            MediaType("attachment", parameters: [("filename", file.fileName)]).description
                        )
                    ])
            }
            loaded = .ready(
                template: template, variables: request.variables.map { Variable(name: $0.name, value: $0.value) },
                attachments: attachments, isBulk: request.isBulk)
        } catch {
            guard Self.isPermanent(error) else { throw error }
            loaded = .broken(error.description)
        }
        return requests.withLock { cache in
            // Another worker may have loaded it meanwhile: keep one, so it is compiled once.
            if let existing = cache[base] { return existing }
            if cache.count >= 16 { cache.removeAll() }
            cache[base] = loaded
            return loaded
        }
    }

    /// The request file for `base` in `request/cur/` (normally `BASE:2,PS`).
    private func findRequest(_ base: String) throws(PostroomError) -> String? {
        let requests = spool.maildir(.request)
        for flags in ["PS", "S", "P", ""] {
            let path = requests.path(of: MessageName(base: base, flags: flags).withInfo(), in: .cur)
            if FileSystem.exists(path) { return path }
        }
        for fileName in try requests.names(in: .cur).checked() where MessageName(fileName: fileName).base == base {
            return requests.path(of: .cur) + "/" + fileName
        }
        return nil
    }
}

/// A directory stream shared by workers: each name goes to exactly one of them.
final class SharedNames: @unchecked Sendable {
    private let lock = Mutex(())
    private let stream: DirectoryStream.Iterator

    init(_ stream: DirectoryStream.Iterator) {
        self.stream = stream
    }

    func next() -> String? {
        lock.withLock { _ in stream.next() }
    }
}
