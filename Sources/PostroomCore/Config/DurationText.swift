/// Durations as settings and options write them: `90s`, `45m`, `12h`, `30d`, `2w`, or plain seconds.
public enum DurationText {
    /// The number of seconds `text` stands for; a usage error names what is accepted.
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
}
