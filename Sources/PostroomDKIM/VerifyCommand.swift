import Glibc
import PostroomCore

/// `verify [FILE]`: checks a message's DKIM signatures and ARC chain (postroom-verify(8)).
///
/// Prints two lines that `route` reads (and people can): the Authentication-Results resinfo
/// (`dkim=pass header.d=example.org header.s=s1 header.b=AbCdEf12; arc=none`), preceded by
/// `ID; ` with `--authserv-id`, then `arc-instance=N cv=none|pass|fail`.
public struct VerifyCommand {
    /// The usage text.
    public static let usage = """
        usage: verify [--authserv-id ID] [--dns-server IP[:PORT]] [--dns-timeout SECONDS] [--config FILE] [FILE]
        Checks the DKIM signatures and the ARC chain of the message in FILE or on standard input
        (see postroom-verify(8)). Prints the Authentication-Results resinfo, then the ARC chain:
            dkim=pass header.d=example.org header.s=s1 header.b=AbCdEf12; arc=none
            arc-instance=0 cv=none
        Exit: 0 results printed (also when signatures fail), 65 not a message, 75 try again later.

        """

    /// The message file, or nil for standard input.
    public var file: String?
    /// `--authserv-id`.
    public var authservID: String?
    /// `--dns-server`.
    public var dnsServer: String?
    /// `--dns-timeout`, in milliseconds.
    public var dnsTimeoutMilliseconds: Int?
    /// `--config`.
    public var config: String?
    /// `-h`, `--help`.
    public var help = false

    /// Parses `arguments` (without the program name).
    public init(arguments: [String]) throws(PostroomError) {
        var options = OptionScanner(arguments)
        while let option = options.next() {
            switch option {
            case "--authserv-id":
                let id = try options.value()
                guard !id.isEmpty, id.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ";") }) else {
                    throw .usage("--authserv-id takes a name without spaces or ';', such as mail.example.org")
                }
                authservID = id
            case "--dns-server": dnsServer = try options.value()
            case "--dns-timeout": dnsTimeoutMilliseconds = try Self.milliseconds(try options.value())
            case "--config": config = try options.value()
            case "-h", "--help": help = true
            default:
                guard !option.hasPrefix("-") || option == "-", file == nil else { throw options.unknown }
                file = option == "-" ? nil : option
            }
        }
    }

    /// `SECONDS` (decimals allowed), between 0.001 and 60, as milliseconds.
    static func milliseconds(_ text: String) throws(PostroomError) -> Int {
        guard let seconds = Double(text), seconds >= 0.001, seconds <= 60 else {
            throw .usage("--dns-timeout takes seconds between 0.001 and 60, such as 2 or 0.5, not \"\(text)\"")
        }
        return Int((seconds * 1000).rounded())
    }

    /// Runs the command with the process's arguments and standard streams; returns the exit status.
    public static func main(arguments: [String], environment: [String: String]) -> Int32 {
        do throws(PostroomError) {
            let command = try VerifyCommand(arguments: arguments)
            if command.help {
                OutputStream.writeAll(Array(usage.utf8), to: 1)
                return 0
            }
            let output = try command.run(environment: environment)
            OutputStream.writeAll(Array(output.utf8), to: 1)
            return 0
        } catch {
            var status = error.exitStatus
            // Anything but bad usage or a bad message is the site's to fix: the caller retries.
            if status != .usage && status != .dataError && status != .noInput { status = .tempFail }
            let text = "verify: \(error.description)\n" + (status == .usage ? usage : "")
            OutputStream.writeAll(Array(text.utf8), to: 2)
            return status.rawValue
        }
    }

    /// Reads the message, checks it and returns the two output lines.
    public func run(environment: [String: String]) throws(PostroomError) -> String {
        let configuration = try Configuration(path: config, environment: environment)
        let configured = try DNSResolver.configured(configuration)
        let server = try dnsServer.map { (text) throws(PostroomError) in try DNSResolver.Server(parsing: text) }
        let resolver = DNSResolver(
            server: server ?? configured.server,
            timeoutMilliseconds: dnsTimeoutMilliseconds ?? configured.timeoutMilliseconds)
        let source = file ?? "standard input"
        let bytes: [UInt8]
        if let file {
            bytes = try MessageFile.read(file)
        } else {
            bytes = try MessageFile.readStandardInput()
        }
        let message = try Message(parsing: bytes, source: source)
        guard !message.fields.isEmpty else {
            throw .malformed(what: "message", location: source, reason: "it has no header fields")
        }
        let verifier = DKIMVerifier(resolver: resolver, now: Timestamp.now().seconds)
        return Self.report(
            dkim: verifier.verify(message), arc: ARCValidator(verifier: verifier).validate(message),
            authservID: authservID)
    }

    /// The two output lines.
    public static func report(dkim: [DKIMCheck], arc: ARCValidation, authservID: String?) -> String {
        var results = dkim.isEmpty ? [AuthenticationResult(method: "dkim", result: "none")] : dkim.map(\.resinfo)
        results.append(arc.resinfo)
        let resinfo = (authservID.map { "\($0); " } ?? "") + AuthenticationResults.text(results)
        return resinfo + "\n" + "arc-instance=\(arc.instance) cv=\(arc.chain.rawValue)\n"
    }
}
