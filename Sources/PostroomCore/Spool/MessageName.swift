import Glibc
import Synchronization

/// A message's file name in the spool: a unique base plus the maildir info suffix.
///
/// The base never changes from expansion to `sent/` (its lineage); only the flags after
/// `:2,` do. A base looks like `1732265888.M123456P4242Q7.host`, and fan-out appends
/// `.R<index>` so each job can be traced back to its request by name alone.
public struct MessageName: Hashable, Sendable, CustomStringConvertible {
    /// The unique part, without the info suffix.
    public private(set) var base: String
    /// Maildir flags (the letters after `:2,`), sorted and without repeats.
    public private(set) var flags: String
    /// Whether the file name carries an info suffix at all.
    public private(set) var hasInfo: Bool
    /// Info that is not of the `2,` kind, kept verbatim so an unknown name round-trips.
    private var foreignInfo: String?

    /// Parses a file name as found in `new/` or `cur/`.
    public init(fileName: String) {
        guard let colon = fileName.lastIndex(of: ":") else {
            self.init(base: fileName)
            return
        }
        let info = fileName[fileName.index(after: colon)...]
        let isStandard = info.hasPrefix("2,")
        self.init(
            base: String(fileName[..<colon]), flags: isStandard ? Self.normalize(info.dropFirst(2)) : "",
            hasInfo: true, foreignInfo: isStandard ? nil : String(info))
    }

    /// A name with flags (and a `:2,` suffix when there are any).
    public init(base: String, flags: String = "") {
        self.init(base: base, flags: Self.normalize(flags[...]), hasInfo: !flags.isEmpty, foreignInfo: nil)
    }

    private init(base: String, flags: String, hasInfo: Bool, foreignInfo: String?) {
        self.base = base
        self.flags = flags
        self.hasInfo = hasInfo
        self.foreignInfo = foreignInfo
    }

    /// The name as it is written on disk.
    public var fileName: String {
        if let foreignInfo { return "\(base):\(foreignInfo)" }
        return hasInfo ? "\(base):2,\(flags)" : base
    }

    public var description: String { fileName }

    /// Whether `flag` is set.
    public func has(_ flag: Character) -> Bool { flags.contains(flag) }

    /// This name with `flag` added (maildir keeps flags in ASCII order).
    public func adding(_ flag: Character) -> MessageName {
        var copy = self
        copy.flags = Self.normalize((flags + String(flag))[...])
        copy.hasInfo = true
        copy.foreignInfo = nil
        return copy
    }

    /// This name with `flag` removed.
    public func removing(_ flag: Character) -> MessageName {
        var copy = self
        copy.flags = flags.filter { $0 != flag }
        return copy
    }

    /// This name with an empty `:2,` suffix, as messages in `cur/` carry it.
    public func withInfo() -> MessageName {
        var copy = self
        copy.hasInfo = true
        return copy
    }

    /// The name of the job for the `index`th envelope recipient of this request.
    public func child(recipientIndex index: Int) -> MessageName {
        MessageName(base: "\(base).R\(index)")
    }

    /// The recipient index appended by fan-out, if this is a job's name.
    public var recipientIndex: Int? {
        guard let dot = base.lastIndex(of: "."), base[base.index(after: dot)...].first == "R" else {
            return nil
        }
        return Int(base[base.index(dot, offsetBy: 2)...])
    }

    /// The request a job's name came from (`BASE` for `BASE.R7`), or nil if this is no job's name.
    public var parent: MessageName? {
        guard let dot = base.lastIndex(of: "."), let index = recipientIndex, base[dot...] == ".R\(index)" else {
            return nil
        }
        return MessageName(base: String(base[..<dot]))
    }

    /// The Unix time at which the name was made, when it starts with one.
    public var createdAt: Int? {
        let digits = base.utf8.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !digits.isEmpty, digits.count < 19 else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Maildir readers skip names starting with a dot; so does the spool.
    public static func isMessageFile(_ fileName: String) -> Bool {
        guard let first = fileName.utf8.first else { return false }
        return first != UInt8(ascii: ".")
    }

    private static func normalize(_ flags: Substring) -> String {
        String(Set(flags.filter { $0.isASCII && !$0.isWhitespace }).sorted())
    }
}

extension MessageName {
    /// The local part of the Message-ID derived from this name.
    ///
    /// Bytes that are not `atext` (and `=`, the escape) become `=XX`, and a dot that would
    /// break dot-atom rules is escaped too, so the mapping is reversible with `init(messageIDLocalPart:)`.
    public var messageIDLocalPart: String {
        var out: [UInt8] = []
        let bytes = Array(base.utf8)
        for (i, byte) in bytes.enumerated() {
            let dotAllowed =
                byte == UInt8(ascii: ".") && i > 0 && i < bytes.count - 1
                && bytes[i - 1] != UInt8(ascii: ".")
            if (Self.isAtext(byte) && byte != UInt8(ascii: "=")) || dotAllowed {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "="))
                out.append(contentsOf: Self.hex(byte))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Recovers a name from the local part of a Message-ID made by `messageIDLocalPart`.
    public init?(messageIDLocalPart: String) {
        var out: [UInt8] = []
        var bytes = messageIDLocalPart.utf8.makeIterator()
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "=") {
                guard let high = bytes.next(), let low = bytes.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                out.append(value)
            } else {
                out.append(byte)
            }
        }
        guard !out.isEmpty, let text = String(validating: out, as: UTF8.self) else { return nil }
        self.init(base: text)
    }

    /// RFC 5322 `atext`: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    private static func hex(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }
}

/// Makes unique maildir names: `seconds.M<usec>P<pid>Q<counter>.host`.
///
/// The counter makes names from one process unique even within one microsecond;
/// the pid and host keep several processes and several hosts on one NFS spool apart.
public final class MessageNameGenerator: Sendable {
    /// The generator for this process, with the machine's host name.
    public static let shared = MessageNameGenerator(host: MessageNameGenerator.systemHostName())

    /// The host part, already escaped.
    public let host: String
    private let processID: Int32
    private let counter = Atomic<Int>(0)

    /// Creates a generator for `host` (escaped here as maildir requires).
    public init(host: String) {
        self.host = Self.escape(host)
        self.processID = getpid()
    }

    /// A new name, never returned before by this process.
    public func next(at time: Timestamp = .now()) -> MessageName {
        let sequence = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return MessageName(base: "\(time.seconds).M\(time.microseconds)P\(processID)Q\(sequence).\(host)")
    }

    /// The machine's host name, or "localhost" when it cannot be read.
    public static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Maildir's escapes: `/` becomes `\057` and `:` becomes `\072`.
    static func escape(_ host: String) -> String {
        var out = ""
        for character in host {
            switch character {
            case "/": out += "\\057"
            case ":": out += "\\072"
            default: out.append(character)
            }
        }
        return out
    }
}
