/// Writes header fields folded as RFC 5322 section 2.2.3 asks.
///
/// Lines are folded at whitespace to stay within 78 characters where the text allows,
/// and never exceed 998. Unstructured fields (Subject, Comments, `X-` fields) carry
/// non-ASCII text and unbreakable runs as RFC 2047 encoded words; control fields
/// (`X-Postroom-`) are escaped so they can fold anywhere.
public enum HeaderWriter {
    /// Where lines are folded when the text allows it.
    public static let preferredLineLength = 78
    /// The longest line RFC 5322 permits, excluding the line ending.
    public static let maximumLineLength = 998

    /// How a field's value may be folded and encoded.
    public enum Style: Sendable {
        /// Free text: non-ASCII and unbreakable words become encoded words.
        case unstructured
        /// Syntax (addresses, IDs, parameters): folded at whitespace only.
        case structured
        /// `X-Postroom-` data: printable ASCII without spaces, folded anywhere.
        case control
    }

    /// The style RFC 5322 and RFC 2047 give a field name.
    public static func style(for name: String) -> Style {
        let lower = name.lowercased()
        if lower.hasPrefix(ControlHeader.prefix.lowercased()) { return .control }
        switch lower {
        case "subject", "comments", "content-description", "thread-topic": return .unstructured
        default: return lower.hasPrefix("x-") ? .unstructured : .structured
        }
    }

    /// Builds a folded field; `value` may contain any text, line breaks included (they become spaces).
    public static func field(
        _ name: String, _ value: String, lineEnding: Message.LineEnding = .lf, style: Style? = nil
    ) throws(PostroomError) -> HeaderField {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != 58 }) else {
            throw .malformed(
                what: "header field name", location: nil,
                reason: "\"\(name)\" must be printable ASCII without ':' or spaces")
        }
        let style = style ?? self.style(for: name)
        var writer = Lines(prefix: name + ":", lineEnding: lineEnding.bytes)
        switch style {
        case .control:
            writer.appendUnbroken(Array(sanitized(value).utf8))
        case .structured:
            for (space, word) in words(sanitized(value)) {
                if word.count + 1 > maximumLineLength {
                    throw .malformed(
                        what: "\(name) header", location: nil,
                        reason:
                            "a \(word.count)-character word has no space to fold at, so no line could stay within 998 characters"
                    )
                }
                writer.append(word, after: space)
            }
        case .unstructured:
            appendUnstructured(sanitized(value), to: &writer)
        }
        return HeaderField(name: name, raw: writer.finish())
    }

    /// Line breaks and other control characters in a value become spaces: never a new field.
    package static func sanitized(_ value: String) -> String {
        guard value.utf8.contains(where: { ($0 < 32 && $0 != 9) || $0 == 127 }) else { return value }
        return String(
            String.UnicodeScalarView(
                value.unicodeScalars.map {
                    ($0.value < 32 && $0 != "\t") || $0.value == 127 ? " " : $0
                }))
    }

    /// Splits text into (preceding whitespace, word) pairs.
    static func words(_ text: String) -> [(space: [UInt8], word: [UInt8])] {
        var result: [(space: [UInt8], word: [UInt8])] = []
        var space: [UInt8] = []
        var word: [UInt8] = []
        for byte in text.utf8 {
            if byte == 32 || byte == 9 {
                if !word.isEmpty {
                    result.append((space, word))
                    space = []
                    word = []
                }
                space.append(byte)
            } else {
                word.append(byte)
            }
        }
        if !word.isEmpty { result.append((space, word)) }
        return result
    }

    private static func appendUnstructured(_ text: String, to writer: inout Lines) {
        let pieces = words(text)
        var index = 0
        while index < pieces.count {
            guard needsEncoding(pieces[index].word) else {
                writer.append(pieces[index].word, after: pieces[index].space)
                index += 1
                continue
            }
            // A run of words that need encoding is encoded as one text, spaces included,
            // because whitespace between encoded words vanishes when they are decoded.
            var run = pieces[index].word
            let leading = pieces[index].space
            index += 1
            while index < pieces.count, needsEncoding(pieces[index].word) {
                run += pieces[index].space + pieces[index].word
                index += 1
            }
            let available = preferredLineLength - writer.column - max(leading.count, 1)
            let first =
                available >= EncodedWord.overhead + 12
                ? min(available, EncodedWord.maximumLength) : EncodedWord.maximumLength
            let encoded = EncodedWord.encode(String(decoding: run, as: UTF8.self), firstLimit: first)
            for (position, word) in encoded.enumerated() {
                writer.append(Array(word.utf8), after: position == 0 ? leading : [32])
            }
        }
    }

    /// Non-ASCII, control characters, text that would be read as an encoded word, or too long to fold.
    private static func needsEncoding(_ word: [UInt8]) -> Bool {
        if word.count + 1 > maximumLineLength { return true }
        if word.contains(where: { $0 >= 127 || $0 < 32 }) { return true }
        return word.count >= 4 && word.starts(with: "=?".utf8) && word.suffix(2).elementsEqual("?=".utf8)
    }

    /// Accumulates folded lines.
    struct Lines {
        private var output: [UInt8]
        private(set) var column: Int
        private let lineEnding: [UInt8]
        private var empty = true

        init(prefix: String, lineEnding: [UInt8]) {
            output = Array(prefix.utf8)
            column = output.count
            self.lineEnding = lineEnding
        }

        /// Appends a word after its whitespace, folding first when the line would pass 78.
        package mutating func append(_ word: [UInt8], after space: [UInt8]) {
            let gap = empty || space.isEmpty ? [32] : space
            if !empty && column + gap.count + word.count > HeaderWriter.preferredLineLength {
                output += lineEnding
                column = 0
            }
            output += gap
            output += word
            column += gap.count + word.count
            empty = false
        }

        /// Appends text with no spaces, breaking it anywhere to keep lines within 78.
        mutating func appendUnbroken(_ text: [UInt8]) {
            var rest = text[...]
            output.append(32)
            column += 1
            while !rest.isEmpty {
                let room = HeaderWriter.preferredLineLength - column
                if room <= 0 {
                    output += lineEnding
                    output.append(32)
                    column = 1
                    continue
                }
                let piece = rest.prefix(room)
                output += piece
                column += piece.count
                rest = rest.dropFirst(piece.count)
            }
            empty = false
        }

        func finish() -> [UInt8] { output + lineEnding }
    }
}
