/// Durations as people write them in options and `postroom.conf(5)`.
public enum DurationText {
    /// The seconds in `90s`, `45m`, `12h`, `30d`, `2w`, or plain seconds; a usage error otherwise.
    public static func seconds(_ text: String) throws(PostroomError) -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var digits = Substring(text)
        var unit = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            digits = text.dropLast()
        }
        guard let value = Int(digits), value >= 0 else {
            throw .usage("\"\(text)\" is not a duration: use seconds or a number with s, m, h, d or w (30d)")
        }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw .usage("\"\(text)\" is too long a duration for this machine's clock") }
        return seconds
    }

    /// `seconds` in the largest unit that divides it: `180d`, `12h`, `90s`.
    public static func text(_ seconds: Int) -> String {
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds != 0 && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
