/// An RFC 3463 enhanced status code: `class.subject.detail`, as in `5.1.1`.
public struct DSNStatus: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 2 success, 4 persistent transient failure, 5 permanent failure.
    public let kind: Int
    /// What the status is about: 1 address, 2 mailbox, 3 mail system, 4 network and routing,
    /// 5 protocol, 6 content, 7 security and policy, 0 other.
    public let subject: Int
    /// The detail within the subject.
    public let detail: Int

    /// A status from its numbers.
    public init(_ kind: Int, _ subject: Int, _ detail: Int) {
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }

    /// Parses `5.1.1`; nil for anything else (the class must be 2, 4 or 5, the other numbers
    /// at most three digits, as RFC 3463 writes them).
    public init?<Text: StringProtocol>(_ text: Text) {
        let numbers = text.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3,
            numbers.allSatisfy({ (1...3).contains($0.utf8.count) && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
            let kind = Int(numbers[0]), [2, 4, 5].contains(kind), let subject = Int(numbers[1]),
            let detail = Int(numbers[2])
        else { return nil }
        self.init(kind, subject, detail)
    }

    /// `5.1.1`.
    public var description: String { "\(kind).\(subject).\(detail)" }

    /// `X.0.0`: "other undefined status", which says only whether the failure is permanent.
    public var isUndefined: Bool { subject == 0 && detail == 0 }

    /// The first SMTP reply in `text` whose enhanced code is plainly there: a three-digit reply
    /// code, a space or hyphen, then the enhanced code of the same class (`550 5.1.1`,
    /// `550-5.1.1`, `451 4.7.1`). Returns the code and the reply from it to the end of its line.
    public static func reply(in text: [UInt8]) -> (DSNStatus, String)? {
        func digit(_ index: Int) -> Bool { index < text.count && text[index] >= 48 && text[index] <= 57 }
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 97 && (byte | 0x20) <= 122 }
        var index = 0
        while index + 9 <= text.count {
            defer { index += 1 }
            // The reply code stands on its own: not inside a longer number or word.
            if index > 0, digit(index - 1) || isLetter(text[index - 1]) { continue }
            guard digit(index), digit(index + 1), digit(index + 2), [2, 4, 5].contains(Int(text[index]) - 48),
                text[index + 3] == 32 || text[index + 3] == 45, text[index + 4] == text[index], text[index + 5] == 46
            else { continue }
            var end = index + 4
            while end < text.count, digit(end) || text[end] == 46 { end += 1 }
            let code = String(decoding: text[(index + 4)..<end], as: UTF8.self)
            guard let status = DSNStatus(code.hasSuffix(".") ? String(code.dropLast()) : code) else { continue }
            var lineEnd = end
            while lineEnd < text.count, text[lineEnd] != 10, text[lineEnd] != 13, lineEnd - index < 300 { lineEnd += 1 }
            return (status, String(decoding: text[index..<lineEnd], as: UTF8.self).trimmingSpaces)
        }
        return nil
    }
}
