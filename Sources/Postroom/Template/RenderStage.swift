/// The `render` stage: jobs in `expanded/` become finished messages in `outgoing/`.
///
/// Each request's template is parsed once per run, however many jobs it has. Messages
/// are written and synced in batches (see `StagingBatch`); a job is removed only after its
/// message is durable in `outgoing/new/`. A job that cannot be rendered goes to
/// `failed/` with the reason, and the rest keep flowing.
public final class RenderStage {
    /// What one run did.
    public struct Summary: Sendable, Equatable {
        /// Messages written to `outgoing/`.
        public var rendered = 0
        /// Jobs moved to `failed/`.
        public var failed = 0
        /// Recovered jobs whose message already existed downstream (not rendered twice).
        public var alreadyRendered = 0

        /// A summary with these counts.
        public init(rendered: Int = 0, failed: Int = 0, alreadyRendered: Int = 0) {
            self.rendered = rendered
            self.failed = failed
            self.alreadyRendered = alreadyRendered
        }
    }

    /// A request loaded for rendering, or why it cannot be.
    private enum LoadedRequest {
        case ready(template: MessageTemplate, variables: [(name: String, value: String)], attachments: [Message], isBulk: Bool)
        case broken(String)
    }

    private let spool: Spool
    private let log: SpoolLog
    private let renderer: Renderer
    private let extraVariables: [(name: String, value: String)]
    private var requests: [String: LoadedRequest] = [:]
    /// Messages per shared sync.
    public var batchSize = 256
    /// Called after each batch with the number rendered so far.
    public var progress: ((Int) -> Void)?

    /// A stage over `spool`; `extraVariables` (from `--var`) win over the request's.
    public init(spool: Spool, log: SpoolLog, renderer: Renderer, extraVariables: [(name: String, value: String)] = []) {
        self.spool = spool
        self.log = log
        self.renderer = renderer
        self.extraVariables = extraVariables
    }

    /// Renders every job waiting in `expanded/new/`.
    public func run() throws(PostroomError) -> Summary {
        var summary = Summary()
        let expanded = spool.maildir(.expanded)
        for name in try expanded.recoverAbandonedClaims() {
            if try existsDownstream(name.base) {
                // Published before the crash, not yet removed: rendering again would send twice.
                try FileSystem.removeFile(expanded.path(of: name, in: .new))
                log.record(name, status: "dropped", detail: "recovered job was already rendered")
                summary.alreadyRendered += 1
            } else {
                log.record(name, status: "recovered", detail: "claim of a stopped render returned to new/")
            }
        }
        let batch = StagingBatch()
        for fileName in try expanded.names(in: .new).checked() {
            guard let claim = try expanded.claim(fileName) else { continue }
            do throws(PostroomError) {
                let message = try render(claim)
                try batch.stage(message.bytes, as: MessageName(base: claim.name.base), in: spool.maildir(.outgoing))
                batch.consume(claim)
                summary.rendered += 1
                log.record(claim.name, ["to": "<\(message.control(.envelopeTo) ?? "")>"], status: "rendered", echo: false)
            } catch {
                try claim.fail(into: spool, reason: error.description, stage: "render", log: log)
                summary.failed += 1
            }
            if batch.count >= batchSize {
                try batch.commit()
                progress?(summary.rendered)
            }
        }
        try batch.commit()
        progress?(summary.rendered)
        spool.maildir(.outgoing).removeStaleTemporaryFiles()
        try log.sync()
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
                name: MessageName(base: claim.name.base), envelopeTo: job.envelopeTo, toName: job.toName, copy: job.copy,
                recipient: job.recipient, variables: variables + extraVariables, attachments: attachments, isBulk: isBulk,
                request: job.request)
            return try renderer.render(template, input)
        }
    }

    /// Loads and compiles a request once per run.
    private func loadRequest(_ base: String) throws(PostroomError) -> LoadedRequest {
        if let loaded = requests[base] { return loaded }
        if requests.count >= 16 { requests.removeAll() }
        let loaded: LoadedRequest
        do throws(PostroomError) {
            guard let path = try findRequest(base) else {
                throw .missingInput(path: spool.maildir(.request).path(of: .cur) + "/" + base, reason: "the request was removed before all its jobs were rendered")
            }
            let request = try Request(parsing: try FileSystem.readFile(path), source: path)
            let template = try MessageTemplate(request.template, source: "template of \(base)")
            let attachments = try request.attachments.map { (file) throws(PostroomError) in
                try MIMEWriter.leaf(
                    contentType: MediaType(file.mediaType, parameters: [("name", file.fileName)]), body: file.content, encoding: .base64,
                    extraFields: [("Content-Disposition", MediaType("attachment", parameters: [("filename", file.fileName)]).description)])
            }
            loaded = .ready(template: template, variables: request.variables, attachments: attachments, isBulk: request.isBulk)
        } catch {
            loaded = .broken(error.description)
        }
        requests[base] = loaded
        return loaded
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

    /// Whether a message called `base` is already in a queue after `expanded/`.
    private func existsDownstream(_ base: String) throws(PostroomError) -> Bool {
        for queue in [Spool.Queue.outgoing, .deferred, .sent, .failed] {
            let maildir = spool.maildir(queue)
            for folder in [Maildir.Folder.new, .cur] {
                for fileName in try maildir.names(in: folder).checked() where MessageName(fileName: fileName).base == base {
                    return true
                }
            }
        }
        return false
    }
}
