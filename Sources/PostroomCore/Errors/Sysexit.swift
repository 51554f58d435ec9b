/// The sysexits(3) codes every postroom command exits with.
///
/// MTAs read these from pipe transports: 75 makes Exim and Postfix retry later,
/// while 64–78 other than 75 bounce. Keep the numbers exactly as sysexits.h has them.
public enum Sysexit: Int32, Sendable, CaseIterable {
    /// Success.
    case ok = 0
    /// The command was used incorrectly: a wrong flag, a missing argument.
    case usage = 64
    /// The input data was malformed: a message or request that cannot be parsed.
    case dataError = 65
    /// An input file did not exist or was not readable.
    case noInput = 66
    /// The addressee is unknown: `route` found no rule for the recipient.
    case noUser = 67
    /// A service is unavailable: a permanent refusal by a remote server or program.
    case unavailable = 69
    /// An internal error: a bug in postroom.
    case software = 70
    /// An output file or directory could not be created.
    case cantCreate = 73
    /// An error while reading or writing a file.
    case ioError = 74
    /// A temporary failure: try again later (disk full, server down).
    case tempFail = 75
    /// Permission denied: `route`'s posting policy refuses the message.
    case noPermission = 77
    /// The configuration is wrong.
    case config = 78

    /// The symbolic name as in sysexits.h, for log lines and man pages.
    public var symbol: String {
        switch self {
        case .ok: "EX_OK"
        case .usage: "EX_USAGE"
        case .dataError: "EX_DATAERR"
        case .noInput: "EX_NOINPUT"
        case .noUser: "EX_NOUSER"
        case .unavailable: "EX_UNAVAILABLE"
        case .software: "EX_SOFTWARE"
        case .cantCreate: "EX_CANTCREAT"
        case .ioError: "EX_IOERR"
        case .tempFail: "EX_TEMPFAIL"
        case .noPermission: "EX_NOPERM"
        case .config: "EX_CONFIG"
        }
    }
}
