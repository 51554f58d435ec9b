import Foundation
import Glibc
import Postroom

/// Kills (or freezes) a stage at every step that changes the spool, then checks what is left.
///
/// The steps are counted by the `CrashPoint` shim, preloaded into the stage: each open with
/// O_CREAT, write to a file, fsync, fdatasync, rename, unlink. Trial N stops the stage just
/// before its Nth step. A trial is replayed with `POSTROOM_CRASH_REPLAY=SCENARIO:N`.
public enum CrashHarness {
    /// One program run: which executable, its arguments and extra environment.
    public struct Command: Sendable {
        public var program: String
        public var arguments: [String]
        public var environment: [String: String]
        /// Standard input (route reads its message there).
        public var input: [UInt8]

        public init(
            _ program: String, _ arguments: [String] = [], environment: [String: String] = [:], input: [UInt8] = []
        ) {
            self.program = program
            self.arguments = arguments
            self.environment = environment
            self.input = input
        }
    }

    /// Whether `route` and `mark` are taken from a static build (`POSTROOM_STATIC_BIN`), where
    /// strace, not the shim, finds and kills at the steps.
    public static var isStaticBuild: Bool { ProcessInfo.processInfo.environment["POSTROOM_STATIC_BIN"] != nil }

    /// The shim's path beside the built executables.
    public static var shim: String { Run.binary("libCrashPoint.so") }

    /// Whether `make crash-test` asked for every trial (else the short form: a sample).
    public static var isFull: Bool { ProcessInfo.processInfo.environment["POSTROOM_CRASH_FULL"] == "1" }

    /// The trials to run for `scenario` out of `count`: all with `make crash-test`, one replayed
    /// trial with POSTROOM_CRASH_REPLAY, else every `stride`th and the last few (the short form).
    public static func trials(_ scenario: String, count: Int, shortStride: Int = 3) -> [Int] {
        if let replay = ProcessInfo.processInfo.environment["POSTROOM_CRASH_REPLAY"] {
            let parts = replay.split(separator: ":")
            guard parts.count == 2, parts[0] == scenario, let number = Int(parts[1]) else { return [] }
            return [number]
        }
        guard count > 0 else { return [] }
        if isFull { return Array(1...count) }
        let sample = Set(Swift.stride(from: 1, through: count, by: shortStride)).union(max(1, count - 2)...count)
        return sample.sorted()
    }

    /// Runs `command` under the shim with a trace: the steps it took, one line each.
    public static func steps(of command: Command, in directory: String) throws -> (ProcessResult, [String]) {
        if StraceSteps.applies(to: command) {
            let (result, steps) = try StraceSteps.trace(command, in: directory)
            return (result, steps.map(\.description))
        }
        let trace = directory + "/crash-trace.\(UUID().uuidString)"
        defer { unlink(trace) }
        let result = try Run.program(
            command.program, command.arguments, input: command.input,
            environment: command.environment.merging(["LD_PRELOAD": shim, "POSTROOM_CRASH_TRACE": trace]) { $1 })
        let lines = ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init)
        return (result, lines)
    }

    /// Runs `command` killed by SIGKILL just before its `step`th step; returns its result
    /// (status 137 when the kill happened) and the last steps it took.
    public static func run(
        _ command: Command, killedAt step: Int, in directory: String
    ) throws -> (
        ProcessResult, String
    ) {
        if StraceSteps.applies(to: command) { return try StraceSteps.run(command, killedAt: step, in: directory) }
        let trace = directory + "/crash-trace.\(UUID().uuidString)"
        defer { unlink(trace) }
        let result = try Run.program(
            command.program, command.arguments, input: command.input,
            environment: command.environment.merging([
                "LD_PRELOAD": shim, "POSTROOM_CRASH_AT": String(step), "POSTROOM_CRASH_TRACE": trace,
            ]) { $1 })
        let lines = ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "").split(separator: "\n")
        return (result, lines.last.map(String.init) ?? "no step")
    }

    /// The crash test every stage gets: for each trial step (see `trials`), a copy of the spool
    /// at `template`, `command` on it killed just before that step, then run again whole (the
    /// MTA's or the operator's retry), and `check` on what is left. Returns one line per trial
    /// that went wrong, naming the step.
    public static func killAtEachStep(
        _ scenario: String, steps count: Int, shortStride: Int, template: Spool, in directory: String,
        command: (Spool) throws -> Command, check: (Spool) throws -> [String]
    ) throws -> [String] {
        var failures: [String] = []
        for trial in trials(scenario, count: count, shortStride: shortStride) {
            let spool = Spool(root: directory + "/\(scenario)-\(trial)")
            try copy(template.root, to: spool.root)
            let run = try command(spool)
            let (result, lastStep) = try self.run(run, killedAt: trial, in: directory)
            let again = try Run.program(run.program, run.arguments, input: run.input, environment: run.environment)
            var problems = try check(spool)
            if again.status != 0 { problems.append("run again, it exited \(again.status): \(again.stderr)") }
            if result.status != 137 && result.status != 0 { problems.append("the killed run exited \(result.status)") }
            if !problems.isEmpty {
                failures.append("\(scenario):\(trial) (killed at \(lastStep)): " + problems.joined(separator: "; "))
            }
            try? FileManager.default.removeItem(atPath: spool.root)
        }
        return failures
    }

    /// Starts `command` frozen (SIGSTOP) just before its `step`th step and returns once it is
    /// frozen or has exited: the process, to be killed by the caller, or nil if it finished first.
    public static func start(_ command: Command, frozenAt step: Int, in directory: String) throws -> FrozenProcess? {
        let output = directory + "/frozen-output.\(UUID().uuidString)"
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "POSTROOM_SPOOL")
        environment.removeValue(forKey: "POSTROOM_CONFIG")
        for (key, value) in command.environment { environment[key] = value }
        environment["LD_PRELOAD"] = shim
        environment["POSTROOM_CRASH_AT"] = String(step)
        environment["POSTROOM_CRASH_SIGNAL"] = "STOP"
        let path = command.program.contains("/") ? command.program : Run.binary(command.program)
        let input = directory + "/frozen-input.\(UUID().uuidString)"
        try Files.write(input, command.input)
        defer { unlink(input) }
        let pid = try ChildProcess.spawn(
            path, command.arguments, environment: environment, output: output, input: input)
        var status: Int32 = 0
        while waitpid(pid, &status, WUNTRACED) < 0 && errno == EINTR {}
        unlink(output)
        // Stopped: the low byte is 0x7f.
        return status & 0xff == 0x7f ? FrozenProcess(pid: pid) : nil
    }

    /// A stage frozen at a step; killing it is the crash.
    public struct FrozenProcess: Sendable {
        public let pid: pid_t

        /// SIGKILL, and wait for it to be gone.
        public func kill() {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    /// Copies a spool directory tree (names, contents and modification times) for one trial.
    public static func copy(_ source: String, to target: String) throws {
        let result = try Run.program("/bin/cp", ["-a", source, target])
        guard result.status == 0 else { throw HarnessError(description: "cp -a: \(result.stderr)") }
    }

    /// Where each message of the spool is: base name → ["outgoing/new", ...].
    public static func places(in spool: Spool, queues: [Spool.Queue] = Spool.Queue.allCases) -> [String: [String]] {
        var found: [String: [String]] = [:]
        for queue in queues {
            for folder in Maildir.Folder.allCases where folder != .tmp {
                for fileName in Files.list(spool.maildir(queue).path(of: folder)) {
                    found[MessageName(fileName: fileName).base, default: []].append("\(queue.rawValue)/\(folder)")
                }
            }
        }
        return found
    }

    /// The problems every stage must never leave: files in a `tmp/`, partial files in a `new/`.
    public static func commonViolations(in spool: Spool) -> [String] {
        var problems: [String] = []
        for queue in Spool.Queue.allCases {
            let maildir = spool.maildir(queue)
            for fileName in Files.list(maildir.path(of: .tmp)) { problems.append("left in \(queue)/tmp: \(fileName)") }
            for folder in [Maildir.Folder.new, .cur] {
                for fileName in Files.list(maildir.path(of: folder)) {
                    let path = maildir.path(of: folder) + "/" + fileName
                    guard let bytes = try? Files.read(path), (try? Message(parsing: bytes)) != nil,
                        bytes.last == 10
                    else {
                        problems.append("not a whole message: \(queue)/\(folder)/\(fileName)")
                        continue
                    }
                }
            }
        }
        return problems
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
    }
}
