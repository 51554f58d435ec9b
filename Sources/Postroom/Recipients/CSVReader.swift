/// Reads CSV as RFC 4180 describes it: a header row, quoted fields with `""` escapes,
/// line breaks inside quotes, LF or CRLF rows, and an optional UTF-8 byte order mark.
public struct CSVReader: Sequence {
    /// One data row: its fields and the line it starts on (for error messages).
    public struct Row: Sendable {
        /// The fields in column order.
        public var fields: [String]
        /// The 1-based line number where the row starts.
        public var line: Int
    }

    private let bytes: [UInt8]
    private let source: String

    /// A reader over `bytes`; `source` names the file in errors.
    public init(bytes: [UInt8], source: String) {
        self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        self.source = source
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes, source: source) }

    /// Reads rows one at a time; a malformed row is returned as an error.
    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        let source: String
        var index = 0
        var line = 1

        public mutating func next() -> Result<Row, PostroomError>? {
            // Skip blank lines between rows.
            while index < bytes.count, bytes[index] == 10 || bytes[index] == 13 {
                if bytes[index] == 10 { line += 1 }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let start = line
            var fields: [String] = []
            var field: [UInt8] = []
            var quoted = false
            var wasQuoted = false
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                            field.append(byte)
                            index += 1
                        } else {
                            quoted = false
                        }
                    } else {
                        if byte == 10 { line += 1 }
                        field.append(byte)
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    guard field.allSatisfy({ $0 == 32 }) && !wasQuoted else {
                        return .failure(
                            fail(
                                line, "a quote inside an unquoted field; wrap the field in quotes and double the quote")
                        )
                    }
                    field.removeAll()
                    quoted = true
                    wasQuoted = true
                case UInt8(ascii: ","):
                    fields.append(text(field))
                    field.removeAll()
                    wasQuoted = false
                case 13 where index < bytes.count && bytes[index] == 10:
                    continue
                case 10, 13:
                    line += 1
                    fields.append(text(field))
                    return .success(Row(fields: fields, line: start))
                default:
                    if wasQuoted && byte != 32 {
                        return .failure(fail(line, "text after a closing quote"))
                    }
                    field.append(byte)
                }
            }
            if quoted { return .failure(fail(start, "a quoted field is never closed")) }
            fields.append(text(field))
            return .success(Row(fields: fields, line: start))
        }

        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

        func fail(_ line: Int, _ reason: String) -> PostroomError {
            .malformed(what: "CSV", location: "\(source) line \(line)", reason: reason)
        }
    }
}
