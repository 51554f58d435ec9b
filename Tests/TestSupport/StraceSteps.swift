import Foundation
import Glibc

/// The crash harness's steps for a static executable, which ignores the preloaded shim: the same
/// steps (files created, written, synced, truncated, renamed, unlinked; directories made), taken
/// from `strace`, and a kill just before a step delivered by strace's syscall injection, as a
/// reviewer times `kill -9` by hand. Used for `route` and `mark` when `POSTROOM_STATIC_BIN` names
/// their release (static) build.
enum StraceSteps {
    /// One step: the system call, which call of that name it is (1-based), and what it touched.
    struct Step: CustomStringConvertible {
        var call: String
        var ordinal: Int
        var description: String
    }

    static let calls = [
        "open", "openat", "creat", "write", "pwrite64", "fsync", "fdatasync", "ftruncate", "rename", "renameat",
        "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "link", "linkat", "rmdir",
    ]

    /// Whether `command` runs a static build that the shim cannot reach.
    static func applies(to command: Command) -> Bool {
        ProcessInfo.processInfo.environment["POSTROOM_STATIC_BIN"] != nil
            && (command.program == "route" || command.program == "mark")
    }

    typealias Command = CrashHarness.Command

    /// Runs `command` under strace and returns its steps in order.
    static func trace(_ command: Command, in directory: String) throws -> (ProcessResult, [Step]) {
        let trace = directory + "/strace.\(UUID().uuidString)"
        defer { unlink(trace) }
        let result = try Run.program(
            "/usr/bin/strace",
            ["-qq", "-y", "-o", trace, "-e", "trace=" + calls.joined(separator: ","), Run.binary(command.program)]
                + command.arguments, input: command.input, environment: command.environment)
        let text = (try? String(contentsOfFile: trace, encoding: .utf8)) ?? ""
        return (result, steps(in: text))
    }

    /// Runs `command` killed by SIGKILL on entering its `step`th step.
    static func run(_ command: Command, killedAt step: Int, in directory: String) throws -> (ProcessResult, String) {
        let (_, steps) = try trace(command, in: directory)
        guard steps.indices.contains(step - 1) else {
            throw CrashHarness.HarnessError(description: "no step \(step): the run took \(steps.count)")
        }
        let target = steps[step - 1]
        let result = try Run.program(
            "/usr/bin/strace",
            [
                "-qq", "-o", "/dev/null", "-e", "trace=\(target.call)",
                "-e", "inject=\(target.call):signal=KILL:when=\(target.ordinal)", Run.binary(command.program),
            ] + command.arguments, input: command.input, environment: command.environment)
        return (result, target.description)
    }

    /// The steps in strace's output (`-y`: descriptors shown with their paths).
    static func steps(in trace: String) -> [Step] {
        var seen: [String: Int] = [:]
        var steps: [Step] = []
        for line in trace.split(separator: "\n") {
            guard let open = line.firstIndex(of: "(") else { continue }
            let call = String(line[..<open])
            guard calls.contains(call) else { continue }
            let ordinal = (seen[call] ?? 0) + 1
            seen[call] = ordinal
            let arguments = line[line.index(after: open)...]
            switch call {
            case "open", "openat", "creat":
                guard call == "creat" || arguments.contains("O_CREAT") else { continue }
            case "write", "pwrite64":
                // Only writes to files: not to standard error or a pipe.
                guard let start = arguments.firstIndex(of: "<"),
                    arguments[arguments.index(after: start)...].hasPrefix("/"),
                    !arguments[arguments.index(after: start)...].hasPrefix("/dev/")
                else { continue }
            default: break
            }
            steps.append(Step(call: call, ordinal: ordinal, description: "\(call) \(arguments.prefix(160))"))
        }
        return steps
    }
}
