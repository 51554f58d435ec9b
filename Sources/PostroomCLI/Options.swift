@_exported import ArgumentParser
import Postroom

/// `--spool` and `--config`, accepted by every command.
public struct SpoolOptions: ParsableArguments {
    /// The spool directory (default: `$POSTROOM_SPOOL`, then `spool` in the configuration).
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The spool directory.",
            discussion: "Default: $POSTROOM_SPOOL, then 'spool' in postroom.conf, then /var/spool/postroom.",
            valueName: "dir"))
    public var spool: String?

    /// The configuration file (default: `$POSTROOM_CONFIG`, then /etc/postroom/postroom.conf).
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The configuration file.",
            discussion: "Default: $POSTROOM_CONFIG, then /etc/postroom/postroom.conf if it exists.", valueName: "file"))
    public var config: String?

    public init() {}

    /// The loaded configuration.
    public func configuration() throws(PostroomError) -> Configuration {
        try Configuration(path: config)
    }

    /// The spool these options point at, checked to exist.
    public func openSpool() throws(PostroomError) -> Spool {
        try Spool.open(configuration().spool(flag: spool).root)
    }
}

/// Runs a command body, turning a `PostroomError` into a message on stderr and its sysexits code.
///
/// ArgumentParser would exit 1 for any thrown error; mail software needs the exact code
/// (75 tells the MTA to retry), so every command goes through here.
public func runReportingErrors(_ program: String, _ body: () throws(PostroomError) -> Void) throws(ExitCode) {
    do {
        try body()
    } catch {
        printError("\(program): \(error.description)")
        throw ExitCode(error.exitStatus.rawValue)
    }
}

/// Checks a numeric option against `range`: a usage error (exit 64) names the option and the range.
public func checkRange(_ option: String, _ value: Int, _ range: ClosedRange<Int>) throws(PostroomError) {
    guard !range.contains(value) else { return }
    let bounds =
        range.upperBound == Int.max ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
    throw .usage("\(option) must be \(bounds), not \(value)")
}

/// Writes one line to standard error.
public func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    StandardStream.write(text, to: 2)
}

/// Unbuffered writes to the standard streams, without Foundation.
public enum StandardStream {
    /// Writes `text` to file descriptor `fd` (1 for stdout, 2 for stderr).
    public static func write(_ text: String, to fd: Int32) {
        OutputStream.writeAll(Array(text.utf8), to: fd)
    }
}
