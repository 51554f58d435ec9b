import Foundation
import Postroom

/// A directory under /tmp removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory's path.
    public let path: String

    /// Creates a fresh, empty directory.
    public init(_ label: String = "postroom-test") {
        let template = FileManager.default.temporaryDirectory.path + "/\(label).XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        path = made.map { String(cString: $0) } ?? template
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// A new spool inside the directory.
    public func spool() throws -> Spool {
        let spool = Spool(root: file("spool"))
        try spool.create()
        return spool
    }
}

/// The outcome of running a program.
public struct ProcessResult: Sendable {
    /// The exit status (or 128 + signal).
    public var status: Int32
    /// Everything written to standard output.
    public var stdout: String
    /// Everything written to standard error.
    public var stderr: String
}

/// Runs built executables and system tools.
public enum Run {
    /// The directory holding the built executables (beside the test bundle).
    public static let binDirectory: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // The test runner lives in .build/<config>/; an .xctest bundle may sit in between.
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("postroom").path) {
                return url.path
            }
        }
        return ".build/debug"
    }()

    /// The path of a built executable. `POSTROOM_STATIC_BIN=DIR` takes `route`, `mark` and `verify`
    /// (which route runs from its own directory) from DIR (a release build, linked statically:
    /// see Package.swift), the rest from this build.
    public static func binary(_ name: String) -> String {
        if ["route", "mark", "verify"].contains(name),
            let directory = ProcessInfo.processInfo.environment["POSTROOM_STATIC_BIN"]
        {
            return "\(directory)/\(name)"
        }
        return "\(binDirectory)/\(name)"
    }

    /// Runs `executable` with `arguments`, feeding `input`, and waits for it.
    @discardableResult
    public static func program(
        _ executable: String, _ arguments: [String] = [], input: [UInt8] = [], environment: [String: String] = [:]
    ) throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "POSTROOM_SPOOL")
        env.removeValue(forKey: "POSTROOM_CONFIG")
        for (key, value) in environment { env[key] = value }
        return try ChildProcess.run(
            executable.contains("/") ? executable : binary(executable), arguments, input: input, environment: env)
    }

    /// Starts `executable` in the background; read its first output line with `firstLine(of:)`.
    public static func start(_ executable: String, _ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : binary(executable))
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        return (process, stdout)
    }

    /// Reads one line from a pipe (blocking until it arrives or the writer closes).
    public static func firstLine(of pipe: Pipe) -> String {
        var bytes: [UInt8] = []
        while true {
            let chunk = pipe.fileHandleForReading.readData(ofLength: 1)
            guard let byte = chunk.first, byte != 10 else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends SIGKILL and waits for the process to die.
    public static func kill9(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// Small file helpers for assertions.
public enum Files {
    /// The names in a directory, sorted.
    public static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// Writes bytes to a path (not durable; test setup only). The descriptor is close-on-exec, so
    /// a program another test spawns meanwhile cannot inherit it and make this file, when it is a
    /// script, fail to run with ETXTBSY.
    public static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            offset += written
        }
    }

    /// Writes text to a path.
    public static func write(_ path: String, _ text: String) throws {
        try write(path, Array(text.utf8))
    }

    /// Reads a file's bytes.
    public static func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Moves a file or directory (test setup: rebuilding a crash's state).
    public static func move(_ source: String, _ target: String) throws {
        try FileManager.default.moveItem(atPath: source, toPath: target)
    }

    /// Removes a file or directory.
    public static func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: path)
    }

    /// The script that reads messages with Python's email package and reports as JSON.
    public static var pythonEmailChecker: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/check_email.py").path
    }

    /// Reads a file as UTF-8 text.
    public static func text(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }
}

/// A real SMTP server (aiosmtpd) on 127.0.0.1, scripted by mode, stopped on release.
public final class SMTPTestServer: @unchecked Sendable {
    /// What the server does with messages.
    public enum Mode: String, Sendable {
        /// Accept and save every message.
        case accept
        /// Answer 451 to RCPT.
        case tempfail
        /// Answer 550 to RCPT.
        case permfail
        /// Answer 451 to RCPT for local parts starting "defer", 550 for "reject", else accept.
        case byrecipient
        /// Close the connection after the message data, before answering.
        case drop
        /// Wait 30 s before answering DATA.
        case slow
        /// Require STARTTLS (a self-signed certificate for 127.0.0.1) and AUTH postroom / s3cret.
        case secure
        /// Accept, without announcing PIPELINING (every other mode announces it); RCPT as `byrecipient`.
        case plain
        /// Accept messages up to 1,000 bytes (SIZE 1000).
        case small
        /// Accept, and close a connection that has been idle for a second.
        case idle
        /// Accept, announcing SMTPUTF8.
        case utf8
        /// Accept two messages a connection, then answer 421 to MAIL.
        case limit
        /// Accept over TLS from the first byte (SMTPS), with a self-signed certificate for 127.0.0.1.
        case implicit
        /// Answer DATA with 250 instead of 354.
        case confused
        /// Require AUTH (postroom / s3cret) without offering STARTTLS; `authentications` shows what AUTH carried.
        case cleartext
        /// Accept, without announcing 8BITMIME.
        case seven
        /// Answer 550 without naming the address to a recipient whose local part starts with "reject".
        case picky
        /// Accept two messages a connection, then answer 421 to MAIL and close at once.
        case cap
    }

    /// What the server recorded of one message's envelope.
    public struct ReceivedEnvelope {
        /// MAIL FROM.
        public var from: String
        /// RCPT TO, in order.
        public var to: [String]
        /// Whether STARTTLS was in force.
        public var tls: Bool
        /// The AUTH login, or "".
        public var login: String
        /// MAIL FROM parameters (`SIZE=1234`, `BODY=8BITMIME`).
        public var options: [String]
        /// Whether RCPT and DATA had already arrived when MAIL was read.
        public var pipelined: Bool
    }

    /// The port the OS gave it.
    public let port: Int
    /// Where messages are saved.
    public var directory: String { storage.path }
    private let storage = TemporaryDirectory("smtp")
    private let process: Process
    private let mode: Mode

    /// Starts a server in `mode`, saving into a fresh directory, on `port` (0: one the OS picks).
    public init(_ mode: Mode, port requested: Int = 0) throws {
        self.mode = mode
        if mode == .secure || mode == .implicit {
            let openssl = try Run.program(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", storage.file("key.pem"), "-out",
                    storage.file("cert.pem"),
                ])
            guard openssl.status == 0 else { throw TestServerError(description: "openssl: \(openssl.stderr)") }
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/smtp_server.py").path
        let (process, pipe) = try Run.start(
            "/usr/bin/python3", [script, mode.rawValue, storage.path, String(requested)])
        self.process = process
        let line = Run.firstLine(of: pipe)
        guard line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            Run.kill9(process)
            throw TestServerError(
                description:
                    "the SMTP test server did not start (\(line)); is python3-aiosmtpd installed? (make test-deps)")
        }
        self.port = port
    }

    // SIGKILL: the test runner may start children with SIGTERM ignored.
    deinit { Run.kill9(process) }

    /// `smtp://127.0.0.1:PORT`, or `smtps://` for mode `implicit`.
    public var url: String { "\(mode == .implicit ? "smtps" : "smtp")://127.0.0.1:\(port)" }

    /// The saved messages, in arrival order.
    public func messages() throws -> [String] {
        let count = Files.list(directory).filter { $0.hasSuffix(".eml") }.count
        return try (0..<count).map { try Files.text("\(directory)/\($0 + 1).eml") }
    }

    /// The envelope of the `index`th message (1-based).
    public func envelope(_ index: Int) throws -> ReceivedEnvelope {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(index).envelope"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return ReceivedEnvelope(
            from: object["from"] as? String ?? "", to: object["to"] as? [String] ?? [],
            tls: object["tls"] as? Bool ?? false,
            login: object["login"] as? String ?? "", options: object["options"] as? [String] ?? [],
            pipelined: object["pipelined"] as? Bool ?? false)
    }

    /// The server's self-signed certificate (modes `secure` and `implicit`).
    public var certificate: String { storage.file("cert.pem") }

    /// The login and password of each AUTH the server received (mode `cleartext`), as an
    /// eavesdropper would have read them; empty when none came.
    public var authentications: String { (try? Files.text("\(directory)/auth")) ?? "" }

    /// Connections accepted so far.
    public var connections: Int { Int((try? Files.text("\(directory)/connections")) ?? "0") ?? 0 }
}

/// A test fixture that could not be set up.
public struct TestServerError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// An error saying what went wrong.
    public init(description: String) { self.description = description }
}
