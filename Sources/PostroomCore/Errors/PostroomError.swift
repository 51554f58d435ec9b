#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every failure postroom reports, each mapped to one sysexits code.
///
/// Messages follow one shape: what failed, where (file and line when known),
/// and what to do about it. Commands print `description` and exit with `exitStatus`.
public enum PostroomError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command line is wrong.
    case usage(String)
    /// Input that cannot be parsed: `what` names the input, `location` the file and line.
    case malformed(what: String, location: String?, reason: String)
    /// An input file that does not exist or cannot be read.
    case missingInput(path: String, reason: String)
    /// No routing rule accepts the recipient.
    case unknownRecipient(String)
    /// A remote server or program refused permanently.
    case unavailable(String)
    /// A file or directory could not be created.
    case cannotCreate(path: String, errno: Int32)
    /// A read, write, sync or rename failed for a reason other than lack of space.
    case io(operation: String, path: String, errno: Int32)
    /// A condition that may clear by itself: disk full, server down.
    case temporary(String)
    /// The configuration is wrong: `location` is the file and line when known.
    case configuration(location: String?, reason: String)

    /// The sysexits code the command should exit with.
    public var exitStatus: Sysexit {
        switch self {
        case .usage: .usage
        case .malformed: .dataError
        case .missingInput: .noInput
        case .unknownRecipient: .noUser
        case .unavailable: .unavailable
        case .cannotCreate(_, let code): Self.isTransient(code) ? .tempFail : .cantCreate
        case .io(_, _, let code): Self.isTransient(code) ? .tempFail : .ioError
        case .temporary: .tempFail
        case .configuration: .config
        }
    }

    /// Out of space or quota, or too many open files: the MTA or cron should retry later.
    static func isTransient(_ code: Int32) -> Bool {
        code == ENOSPC || code == EDQUOT || code == EMFILE || code == ENFILE || code == EAGAIN
            || code == EINTR
    }

    /// A one-paragraph explanation a person can act on.
    public var description: String {
        switch self {
        case .usage(let text):
            return "\(text) (see --help)"
        case .malformed(let what, let location, let reason):
            let place = location.map { " at \($0)" } ?? ""
            return "malformed \(what)\(place): \(reason)"
        case .missingInput(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unknownRecipient(let address):
            return "no rule accepts recipient \(address): add a rule to the route table or fix the address"
        case .unavailable(let text):
            return text
        case .cannotCreate(let path, ENOENT):
            // Not the file but its directory is missing: a key file's as often as a spool's.
            return "cannot create \(path): \(Self.describe(ENOENT)); \(Self.directory(of: path)) does not exist: "
                + "create it (for a spool, 'postroom init'), or check the path"
        case .cannotCreate(let path, let code):
            return "cannot create \(path): \(Self.describe(code))\(Self.advice(code, path: path))"
        case .io(let operation, let path, let code):
            return "cannot \(operation) \(path): \(Self.describe(code))\(Self.advice(code, path: path))"
        case .temporary(let text):
            return "\(text); try again later"
        case .configuration(let location, let reason):
            let place = location.map { "\($0): " } ?? ""
            return "configuration error: \(place)\(reason)"
        }
    }

    /// The C library's text for an errno value.
    public static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// The directory `path` is in, as written (`.` for a bare name).
    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func advice(_ code: Int32, path: String) -> String {
        switch code {
        case ENOSPC, EDQUOT: "; free space on the file system, then run the command again"
        case EACCES, EPERM: "; check the owner and mode of \(path) and its directory"
        case ENOENT: "; run 'postroom init' to create the spool, or check the path"
        case EEXIST: "; it exists already and is never written over: choose another name or remove it first"
        case EMFILE, ENFILE: "; too many open files, raise the limit (ulimit -n) or try again"
        default: ""
        }
    }
}
