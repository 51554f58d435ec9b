/// The subject tag of a list: `[S1234] Subject`, optionally inside a site prefix
/// (`[Splash] [S1234] Subject`), applied so that tagging a reply never stacks tags.
///
/// The subject is read with its encoded words decoded. Leading tags (the list's and the
/// prefix, compared without regard to case) and reply or forward markers are taken off the
/// front in any order, then put back as `PREFIX TAG MARKER rest`: `Re: [S1234] x` becomes
/// `[S1234] Re: x`, and `[S1234] Re: x` stays what it is; behind another bracketed tag
/// (`[Splash] [S1234] Re: x` with no prefix set) the list's tag is taken out and put first,
/// the other kept: `[S1234] [Splash] Re: x`. Reply markers (`Re:`, `RE:`, `Aw:`,
/// `AW:`, `Sv:`, `Antw:`, `Re[2]:`) become `Re:`, forward markers (`Fwd:`, `Fw:`, `WG:`) become
/// `Fwd:`, and a run of them collapses to the first one's kind.
public struct SubjectTag: Sendable, Equatable {
    /// The list's tag, such as `[S1234]`; empty for none.
    public let tag: String
    /// The site's outer prefix, such as `[Splash]`; empty for none.
    public let prefix: String

    /// A tag and prefix as configured; line breaks become spaces, outer spaces are dropped.
    public init(tag: String, prefix: String = "") {
        self.tag = Self.clean(tag)
        self.prefix = Self.clean(prefix)
    }

    /// Whether there is anything to add.
    public var isEmpty: Bool { tag.isEmpty && prefix.isEmpty }

    /// The subject for the copies, from the poster's decoded subject (nil when there is none).
    public func apply(to subject: String?) -> String {
        var rest = Substring(Self.clean(subject ?? ""))
        var marker: String?
        // Other bracketed tags in the leading run ([Splash] of a list without prefix=, another
        // list's): kept, and our own tag behind one is taken out too, so it is never added twice.
        var others: [Substring] = []
        var markerBehindOthers: String?
        var atFirstOther: (marker: String?, rest: Substring)?
        var knownBehindOthers = false
        scan: while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            for known in [tag, prefix] where !known.isEmpty && Self.hasPrefix(rest, known) {
                rest = rest.dropFirst(known.count)
                knownBehindOthers = knownBehindOthers || atFirstOther != nil
                continue scan
            }
            if let (kind, length) = Self.marker(at: rest) {
                if atFirstOther == nil {
                    marker = marker ?? kind
                } else {
                    markerBehindOthers = markerBehindOthers ?? kind
                }
                rest = rest.dropFirst(length)
                continue
            }
            if rest.first == "[", let close = rest.prefix(64).firstIndex(of: "]") {
                if atFirstOther == nil { atFirstOther = (marker, rest) }
                others.append(rest[...close])
                rest = rest[rest.index(after: close)...]
                continue
            }
            break
        }
        if let atFirstOther, !knownBehindOthers {
            // Nothing of ours behind them: the subject goes on as it was from the first of them.
            (marker, rest, others) = (atFirstOther.marker, atFirstOther.rest, [])
        } else {
            marker = marker ?? markerBehindOthers
        }
        let parts = [prefix, tag] + others.map(String.init) + [marker ?? "", String(rest)]
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `Re:`, `RE:`, `Re[2]:`, `Aw:`, `Fwd:`... at the start of `text`: the normal form and the length.
    static func marker(at text: Substring) -> (String, Int)? {
        guard let colon = text.prefix(8).firstIndex(of: ":") else { return nil }
        let word = text[..<colon].lowercased()
        let base = word.prefix { $0.isASCII && $0.isLetter }
        // `Re[2]:` counts replies; only the word matters.
        let count = word.dropFirst(base.count)
        guard
            count.isEmpty
                || (count.first == "[" && count.last == "]" && count.dropFirst().dropLast().allSatisfy(\.isNumber))
        else { return nil }
        let length = text.distance(from: text.startIndex, to: colon) + 1
        switch base {
        case "re", "aw", "sv", "antw": return ("Re:", length)
        case "fwd", "fw", "wg": return ("Fwd:", length)
        default: return nil
        }
    }

    /// Case-insensitive `hasPrefix` for a tag.
    static func hasPrefix(_ text: Substring, _ tag: String) -> Bool {
        text.count >= tag.count && text.prefix(tag.count).lowercased() == tag.lowercased()
    }

    /// Control characters (line breaks included) become spaces, runs of spaces one, outer ones dropped.
    static func clean(_ text: String) -> String {
        let flat = HeaderWriter.sanitized(text).replacing("\t", with: " ")
        return flat.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
