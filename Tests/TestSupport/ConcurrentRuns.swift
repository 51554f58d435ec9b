import Foundation
import Glibc

extension Run {
    /// Starts `executable` once per argument list, all before waiting for any, and returns each
    /// run's exit status and output (standard output and error together), in order. For tests of
    /// processes that change one file at once.
    public static func concurrently(
        _ executable: String, _ argumentLists: [[String]], environment: [String: String] = [:],
        outputDirectory: TemporaryDirectory
    ) throws -> [(status: Int32, output: String)] {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "POSTROOM_SPOOL")
        env.removeValue(forKey: "POSTROOM_CONFIG")
        for (key, value) in environment { env[key] = value }
        let path = executable.contains("/") ? executable : binary(executable)
        var started: [(pid: pid_t, output: String)] = []
        for (index, arguments) in argumentLists.enumerated() {
            let output = outputDirectory.file("run-\(index).out")
            started.append((try ChildProcess.spawn(path, arguments, environment: env, output: output), output))
        }
        return started.map { run in
            var status: Int32 = 0
            while waitpid(run.pid, &status, 0) < 0 && errno == EINTR {}
            let signal = status & 0x7f
            return (signal == 0 ? (status >> 8) & 0xff : 128 + signal, (try? Files.text(run.output)) ?? "")
        }
    }
}
