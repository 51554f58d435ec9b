/// One row of a recipient list: the student (or employee) and their contacts.
///
/// `record` is what templates see as `user`: every column or key as given, plus
/// `guardian` and `emergency` objects with `name` and `email` however the list spelt them
/// (`guardian_email`, `guardian.email`, or a nested object in JSON Lines). Names are matched
/// in any case: a column `Email` or `Guardian_Email` is the address.
public struct Recipient: Sendable {
    /// A person to copy: guardian or emergency contact.
    public struct Contact: Sendable, Equatable {
        /// The contact's display name (may be empty).
        public var name: String
        /// The contact's address, as given.
        public var email: String

        /// A contact from parts.
        public init(name: String, email: String) {
            self.name = name
            self.email = email
        }
    }

    /// The record templates see as `user`.
    public var record: JSONValue
    /// Where the row starts in the list (line number), for messages.
    public var line: Int

    /// Builds a recipient from a record, normalising contact fields.
    public init(record: JSONValue, line: Int) {
        self.line = line
        guard case .object(var members) = record else {
            self.record = record
            return
        }
        for kind in ["guardian", "emergency"] {
            let nested = JSONValue.object(members)[ignoringCase: kind]
            let name = nested?[ignoringCase: "name"]?.text ?? Self.flat(members, kind, "name") ?? ""
            let email = nested?[ignoringCase: "email"]?.text ?? Self.flat(members, kind, "email") ?? ""
            if nested == nil && (!name.isEmpty || !email.isEmpty) {
                members.append((kind, .object([("name", .string(name)), ("email", .string(email))])))
            }
        }
        self.record = .object(members)
    }

    /// The recipient's own address.
    public var email: String { record[ignoringCase: "email"]?.text?.trimmingSpaces ?? "" }

    /// The display name for the recipient's own copy: `name`, else first and last name.
    public var displayName: String {
        if let name = record[ignoringCase: "name"]?.text?.trimmingSpaces, !name.isEmpty { return name }
        let parts = [record[ignoringCase: "first_name"]?.text, record[ignoringCase: "last_name"]?.text].compactMap {
            $0?.trimmingSpaces
        }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// The guardian, if the list gives an address.
    public var guardian: Contact? { contact("guardian") }

    /// The emergency contact, if the list gives an address.
    public var emergency: Contact? { contact("emergency") }

    private func contact(_ kind: String) -> Contact? {
        guard let object = record[ignoringCase: kind], let email = object[ignoringCase: "email"]?.text?.trimmingSpaces,
            !email.isEmpty
        else {
            return nil
        }
        return Contact(name: object[ignoringCase: "name"]?.text?.trimmingSpaces ?? "", email: email)
    }

    private static func flat(_ members: [(String, JSONValue)], _ kind: String, _ field: String) -> String? {
        let names = ["\(kind)_\(field)", "\(kind).\(field)"]
        return (members.last { names.contains($0.0) } ?? members.last { names.contains($0.0.lowercased()) })?.1.text
    }
}

/// A recipient list, CSV with a header row or JSON Lines, read one recipient at a time.
public struct RecipientList: Sequence, Sendable {
    /// The two accepted formats.
    public enum Format: String, Sendable {
        /// Comma-separated values with a header row.
        case csv
        /// One JSON object per line.
        case jsonLines = "jsonl"

        /// The MIME type used inside requests.
        public var mediaType: String { self == .csv ? "text/csv" : "application/x-ndjson" }

        /// Guesses from a file name, then from the content (`{` first means JSON Lines).
        public static func detect(fileName: String?, bytes: [UInt8]) -> Format {
            if let name = fileName?.lowercased() {
                if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || name.hasSuffix(".json") {
                    return .jsonLines
                }
                if name.hasSuffix(".csv") { return .csv }
            }
            let first = bytes.drop { [32, 9, 10, 13, 0xEF, 0xBB, 0xBF].contains($0) }.first
            return first == UInt8(ascii: "{") ? .jsonLines : .csv
        }
    }

    /// The raw list.
    public let bytes: [UInt8]
    /// How to read it.
    public let format: Format
    /// The list's name in error messages.
    public let source: String

    /// A list over `bytes`.
    public init(bytes: [UInt8], format: Format, source: String) {
        self.bytes = bytes
        self.format = format
        self.source = source
    }

    /// Checks the header row (CSV) before anything is expanded: an `email` column must exist.
    public func validateHeader() throws(PostroomError) {
        guard format == .csv else { return }
        var rows = CSVReader(bytes: bytes, source: source).makeIterator()
        guard let first = rows.next() else {
            throw .malformed(
                what: "recipient list", location: source, reason: "it is empty; the first row must name the columns")
        }
        let header = try first.get()
        let names = header.fields.map { $0.trimmingSpaces.lowercased() }
        guard names.contains("email") || names.contains("guardian_email") || names.contains("emergency_email") else {
            throw .malformed(
                what: "recipient list", location: "\(source) line \(header.line)",
                reason: "the header row has no 'email' column (found: \(header.fields.joined(separator: ", ")))")
        }
    }

    public func makeIterator() -> AnyIterator<Result<Recipient, PostroomError>> {
        switch format {
        case .csv: return csvRecipients()
        case .jsonLines: return jsonRecipients()
        }
    }

    private func csvRecipients() -> AnyIterator<Result<Recipient, PostroomError>> {
        var rows = CSVReader(bytes: bytes, source: source).makeIterator()
        var header: [String]?
        return AnyIterator {
            while let next = rows.next() {
                switch next {
                case .failure(let error): return .failure(error)
                case .success(let row):
                    guard let columns = header else {
                        header = row.fields.map(\.trimmingSpaces)
                        continue
                    }
                    guard row.fields.count <= columns.count || row.fields.dropFirst(columns.count).allSatisfy(\.isEmpty)
                    else {
                        return .failure(
                            .malformed(
                                what: "CSV", location: "\(source) line \(row.line)",
                                reason: "\(row.fields.count) fields but the header names \(columns.count) columns"))
                    }
                    let members = zip(columns, row.fields).map { ($0.0, JSONValue.string($0.1)) }
                    return .success(Recipient(record: .object(members), line: row.line))
                }
            }
            return nil
        }
    }

    private func jsonRecipients() -> AnyIterator<Result<Recipient, PostroomError>> {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 0
        return AnyIterator {
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 10 { end += 1 }
                let slice = bytes[start..<end]
                start = end + 1
                line += 1
                if slice.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
                do throws(PostroomError) {
                    let value = try JSONValue.parse(slice, location: "\(source) line \(line)")
                    guard case .object = value else {
                        return .failure(
                            .malformed(
                                what: "JSON Lines", location: "\(source) line \(line)",
                                reason: "each line must be one JSON object"))
                    }
                    return .success(Recipient(record: value, line: line))
                } catch {
                    return .failure(error)
                }
            }
            return nil
        }
    }
}
