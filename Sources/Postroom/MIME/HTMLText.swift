/// A readable plain-text version of an HTML body, for the text/plain alternative.
///
/// Not a browser: it drops head, style and script, turns block ends into line breaks,
/// list items into "- " lines, links into "text <url>", and decodes entities.
public enum HTMLText {
    /// Converts an HTML document or fragment to text.
    public static func plainText(from html: String) -> String {
        var out = ""
        var index = html.startIndex
        var skipUntil: String?
        var pendingLink: String?
        while index < html.endIndex {
            let character = html[index]
            guard character == "<" else {
                // Line breaks in HTML source are spaces; only tags break lines.
                if skipUntil == nil { out.append(character.isNewline || character == "\t" ? " " : character) }
                index = html.index(after: index)
                continue
            }
            guard let close = html[index...].firstIndex(of: ">") else {
                if skipUntil == nil { out += html[index...] }
                break
            }
            let tag = html[html.index(after: index)..<close]
            index = html.index(after: close)
            if tag.hasPrefix("!--") {
                if let end = html[html.index(index, offsetBy: -1)...].firstRange(of: "-->") { index = end.upperBound }
                continue
            }
            let isEnd = tag.hasPrefix("/")
            let name = String(tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }).lowercased()
            if let skipping = skipUntil {
                if isEnd && name == skipping { skipUntil = nil }
                continue
            }
            switch name {
            case "head", "style", "script", "title":
                if !isEnd { skipUntil = name }
            case "br":
                out += "\n"
            case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "section",
                "article":
                out += "\n\n"
            case "tr", "li":
                // Only the opening tag breaks the line; a closing one would leave blank lines.
                if !isEnd { out += name == "li" ? "\n- " : "\n" }
            case "td", "th":
                if !isEnd { out += " " }
            case "hr":
                out += "\n\n----\n\n"
            case "a":
                if isEnd, let link = pendingLink {
                    out += " <\(link)>"
                    pendingLink = nil
                } else if !isEnd {
                    pendingLink = attribute("href", in: String(tag)).flatMap { $0.hasPrefix("#") ? nil : $0 }
                }
            default:
                break
            }
        }
        return tidy(decodeEntities(out))
    }

    private static func attribute(_ name: String, in tag: String) -> String? {
        let bytes = Array(tag.utf8)
        let key = Array((name + "=").utf8)
        guard bytes.count >= key.count else { return nil }
        // ASCII case-insensitive: OR-ing 0x20 lowers letters and leaves '=' as it is.
        for start in 0...(bytes.count - key.count) where zip(bytes[start...], key).allSatisfy({ $0 | 0x20 == $1 }) {
            var rest = bytes[(start + key.count)...]
            if let quote = rest.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                rest = rest.dropFirst()
                return String(decoding: rest.prefix { $0 != quote }, as: UTF8.self)
            }
            return String(decoding: rest.prefix { $0 != 32 && $0 != 9 && $0 != 10 }, as: UTF8.self)
        }
        return nil
    }

    /// Decodes the entities mail HTML uses; unknown ones stay as written.
    public static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©",
            "reg": "®", "ndash": "–", "mdash": "—", "hellip": "…", "rsquo": "’", "lsquo": "‘",
            "rdquo": "”", "ldquo": "“", "euro": "€",
        ]
        var out = ""
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "&", let semicolon = text[index...].prefix(12).firstIndex(of: ";") {
                let entity = text[text.index(after: index)..<semicolon]
                var replacement: String?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                } else {
                    replacement = named[String(entity)]
                }
                if let replacement {
                    out += replacement
                    index = text.index(after: semicolon)
                    continue
                }
            }
            out.append(text[index])
            index = text.index(after: index)
        }
        return out
    }

    /// Collapses runs of spaces, trims lines, and keeps at most one empty line in a row.
    private static func tidy(_ text: String) -> String {
        var lines: [String] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            let line = words.joined(separator: " ")
            if line.isEmpty && (lines.last?.isEmpty ?? true) { continue }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}
