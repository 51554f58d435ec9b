import Glibc

/// The RFC 5322 date-time format: `Sun, 22 Nov 2026 08:18:09 +0100`.
public enum MessageDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats `seconds` since the epoch in the local time zone (or UTC), with its numeric offset.
    public static func format(_ seconds: Int, utc: Bool = false) -> String {
        var time = time_t(seconds)
        var parts = tm()
        if utc { gmtime_r(&time, &parts) } else { localtime_r(&time, &parts) }
        let offset = utc ? 0 : parts.tm_gmtoff / 60
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) "
            + "\(sign)\(two(Int32(magnitude / 60)))\(two(Int32(magnitude % 60)))"
    }

    /// Parses an RFC 5322 date (the day name and seconds optional, obsolete zone names accepted).
    public static func parse(_ text: String) -> Int? {
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        if let first = tokens.first, days.contains(where: { $0.caseInsensitiveCompare(first) }) { tokens.removeFirst() }
        guard tokens.count >= 4, let day = Int(tokens[0]),
            let month = months.firstIndex(where: { $0.caseInsensitiveCompare(tokens[1]) }), var year = Int(tokens[2])
        else { return nil }
        if year < 50 { year += 2000 } else if year < 1000 { year += 1900 }
        let clock = tokens[3].split(separator: ":").compactMap { Int($0) }
        guard clock.count >= 2, clock.count == tokens[3].split(separator: ":").count else { return nil }
        // Text from files: out-of-range numbers are not dates (and must not trap below).
        guard (1...31).contains(day), (1900...9999).contains(year), clock.allSatisfy({ (0...60).contains($0) }) else {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock.count > 2 ? clock[2] : 0)
        let base = Int(timegm(&parts))
        return base - zoneOffset(tokens.count > 4 ? tokens[4] : "+0000")
    }

    private static func zoneOffset(_ zone: String) -> Int {
        if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5, let value = Int(zone.dropFirst()) {
            let seconds = (value / 100) * 3600 + (value % 100) * 60
            return sign == "-" ? -seconds : seconds
        }
        switch zone.uppercased() {
        case "EDT": return -4 * 3600
        case "EST", "CDT": return -5 * 3600
        case "CST", "MDT": return -6 * 3600
        case "MST", "PDT": return -7 * 3600
        case "PST": return -8 * 3600
        default: return 0
        }
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension String {
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool {
        HeaderField.namesEqual(self, other)
    }
}

/// Message-IDs, derived from spool names so a reply, bounce or loopback copy finds its file.
public enum MessageID {
    /// `<NAME@domain>` for a spool name (see `MessageName.messageIDLocalPart`).
    public static func make(for name: MessageName, domain: String) -> String {
        "<\(name.messageIDLocalPart)@\(domain)>"
    }

    /// The spool name inside a Message-ID made by `make(for:domain:)`, if it is one.
    public static func name(in messageID: String) -> MessageName? {
        guard let parts = split(messageID) else { return nil }
        return MessageName(messageIDLocalPart: parts.local)
    }

    /// The left and right parts of `<left@right>`, surrounding whitespace and comments aside.
    public static func split(_ messageID: String) -> (local: String, domain: String)? {
        guard let open = messageID.firstIndex(of: "<"), let close = messageID.lastIndex(of: ">"), open < close else {
            return nil
        }
        let inner = messageID[messageID.index(after: open)..<close]
        guard let at = inner.lastIndex(of: "@") else { return nil }
        let local = String(inner[..<at])
        let domain = String(inner[inner.index(after: at)...])
        guard !local.isEmpty, !domain.isEmpty else { return nil }
        return (local, domain)
    }
}
