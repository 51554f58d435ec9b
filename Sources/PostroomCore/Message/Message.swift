/// An RFC 5322 message: header fields and a body, kept as the bytes they were read from.
///
/// Parsing and writing back an unedited message gives the same bytes. Edits regenerate
/// only the fields they touch, folded and encoded as RFC 5322 and RFC 2047 require,
/// using the line ending the message already had.
public struct Message: Sendable, Equatable {
    /// An mbox `From ` line found before the header (procmail and some pipes add one).
    public var envelopeLine: [UInt8]?
    /// The header fields in order.
    public private(set) var fields: [HeaderField]
    /// The empty line between header and body as found (`\n`, `\r\n`), or empty when there is no body.
    public var separator: [UInt8]
    /// The body bytes after the separator.
    public var body: [UInt8]
    /// The line ending new fields are written with: the message's own.
    public var lineEnding: LineEnding

    /// The two line endings a message on disk or on the wire may use.
    public enum LineEnding: Sendable, Equatable {
        /// `\n`, as maildir and the spool store messages.
        case lf
        /// `\r\n`, as SMTP sends them.
        case crlf

        /// The bytes of the line ending.
        public var bytes: [UInt8] { self == .lf ? [10] : [13, 10] }
    }

    /// Parses `bytes`; see `MessageParser` for what is accepted.
    public init(parsing bytes: [UInt8], source: String? = nil) throws(PostroomError) {
        self = try MessageParser.parse(bytes, source: source)
    }

    /// A message from parts; fields are written with `lineEnding`.
    public init(
        fields: [HeaderField] = [], body: [UInt8] = [], lineEnding: LineEnding = .lf
    ) {
        self.envelopeLine = nil
        self.fields = fields
        self.separator = lineEnding.bytes
        self.body = body
        self.lineEnding = lineEnding
    }

    init(envelopeLine: [UInt8]?, fields: [HeaderField], separator: [UInt8], body: [UInt8], lineEnding: LineEnding) {
        self.envelopeLine = envelopeLine
        self.fields = fields
        self.separator = separator
        self.body = body
        self.lineEnding = lineEnding
    }

    /// The whole message as bytes, identical to the input when nothing was edited.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(body.count + 2) { $0 + $1.raw.count })
        if let envelopeLine { out.append(contentsOf: envelopeLine) }
        for field in fields { out.append(contentsOf: field.raw) }
        out.append(contentsOf: separator)
        out.append(contentsOf: body)
        return out
    }

    // MARK: Reading fields

    /// The unfolded value of the first field called `name`, if any.
    public func value(of name: String) -> String? {
        fields.first { $0.hasName(name) }?.value
    }

    /// The value of the first field called `name` with encoded words decoded.
    public func decodedValue(of name: String) -> String? {
        fields.first { $0.hasName(name) }?.decodedValue
    }

    /// The unfolded values of every field called `name`, in order.
    public func values(of name: String) -> [String] {
        fields.filter { $0.hasName(name) }.map(\.value)
    }

    /// Whether a field called `name` is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { $0.hasName(name) }
    }

    // MARK: Editing fields

    /// Appends a field after the existing ones.
    public mutating func append(_ name: String, _ value: String) throws(PostroomError) {
        fields.append(try makeField(name, value))
    }

    /// Inserts a field before all others (trace fields such as Received and Return-Path go there).
    public mutating func prepend(_ name: String, _ value: String) throws(PostroomError) {
        fields.insert(try makeField(name, value), at: 0)
    }

    /// Inserts `new`, in order, before all other fields (signatures go there, like trace fields).
    public mutating func prepend(fields new: [HeaderField]) {
        fields.insert(contentsOf: new, at: 0)
    }

    /// Replaces every field called `name` by one field, at the first one's place (or at the end).
    public mutating func set(_ name: String, _ value: String) throws(PostroomError) {
        replaceFields(named: name, with: [try makeField(name, value)])
    }

    /// Replaces every field called `name` by `replacement`, at the first one's place (or at the end).
    public mutating func replaceFields(named name: String, with replacement: [HeaderField]) {
        guard let first = fields.firstIndex(where: { $0.hasName(name) }) else {
            fields.append(contentsOf: replacement)
            return
        }
        var kept = Array(fields[..<first])
        kept.append(contentsOf: replacement)
        kept.append(contentsOf: fields[first...].filter { !$0.hasName(name) })
        fields = kept
    }

    /// Removes every field called `name`; returns how many there were.
    @discardableResult
    public mutating func remove(_ name: String) -> Int {
        let before = fields.count
        fields.removeAll { $0.hasName(name) }
        return before - fields.count
    }

    /// Removes every field for which `predicate` holds.
    public mutating func removeAll(where predicate: (HeaderField) -> Bool) {
        fields.removeAll(where: predicate)
    }

    /// Appends a field whose value is already in header syntax, folded here.
    ///
    /// Use for structured fields built by postroom (addresses, Message-ID, Content-Type).
    public mutating func append(field: HeaderField) {
        fields.append(field)
    }

    /// Appends a MIME entity's fields (Content-Type and the like) and makes its body this message's.
    public mutating func append(entity: Message) {
        fields.append(contentsOf: entity.fields)
        body = entity.body
    }

    /// Builds a field folded for this message's line ending.
    public func makeField(_ name: String, _ value: String) throws(PostroomError) -> HeaderField {
        try HeaderWriter.field(name, value, lineEnding: lineEnding)
    }
}
