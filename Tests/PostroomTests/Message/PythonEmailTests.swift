import Foundation
import Postroom
import TestSupport
import Testing

/// Python's `email` package (policy `default`) as an independent reader of what we write.
@Suite struct PythonEmailTests {
    static let names = [
        "山田 太郎", "Zoë \"Zo\" Ünal, PhD", "O'Brien, Séan", "back\\slash", "👩‍🎓 Student 🎉", "Ame\u{301}lie Zoe\u{308}",
        "María Guadalupe Fernández de la Cruz Hernández y Ünal-Ötztürk, Jr.", "plain ascii", "a,b;c:d<e>f@g",
    ]
    static let subjects = [
        "学生の皆さん、ようこそ。夏期講座の登録が始まりました。締め切りは金曜日です。", "Welcome, Zoë! 🎉 Your \"Splash\" schedule",
        "=?UTF-8?Q?not_an_encoded_word?=", "Tabs\tand  double  spaces", String(repeating: "long subject ", count: 30),
        String(repeating: "ñ", count: 300),
        "Ame\u{301}lie's Zalgo Z\u{351}\u{36B}\u{343}\u{36A}\u{302}\u{36B}\u{33D}\u{34F}",
    ]

    @Test func pythonReadsOurHeadersWithoutDefectsAndDecodesThemExactly() throws {
        let directory = TemporaryDirectory()
        var files: [String: (name: String, subject: String)] = [:]
        for (index, (name, subject)) in zip(Self.names, Self.subjects + Self.subjects).enumerated() {
            var message = Message()
            try message.set("From", Mailbox(displayName: name, localPart: "sender", domain: "example.org").formatted)
            try message.set(
                "To", Mailbox(displayName: name, localPart: "student\(index)", domain: "example.org").formatted)
            try message.set("Subject", subject)
            try message.set("Date", MessageDate.format(1_700_000_000))
            try message.set(
                "Message-ID",
                MessageID.make(
                    for: MessageName(base: "1700000000.M1P1Q\(index).h\\057x.R\(index)"), domain: "example.org"))
            message.setControl(.envelopeTo, "student\(index)@example.org")
            message.body = Array("Hello.\n".utf8)
            let path = directory.file("m\(index).eml")
            try Files.write(path, message.bytes)
            files[path] = (name, subject)
        }
        let result = try Run.program("/usr/bin/env", ["python3", Files.pythonEmailChecker] + files.keys.sorted())
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]])
        for (path, expected) in files {
            let entry = try #require(report[path])
            #expect((entry["defects"] as? [String]) == [], "\(path): \(entry["defects"] ?? "")")
            let headers = try #require(entry["headers"] as? [String: [String]])
            // Header values are trimmed at both ends, as RFC 5322 readers unfold them.
            #expect(headers["subject"] == [expected.subject.trimmingCharacters(in: .whitespaces)])
            let addresses = try #require(entry["addresses"] as? [String: [[String]]])
            #expect(addresses["to"]?.first?.first == expected.name)
            #expect(addresses["from"]?.first?.first == expected.name)
        }
    }

    @Test func aNonASCIIRunTooLongForOneWordIsSplitAsRFC2047Says() throws {
        // Python would show a space at the split (it keeps whitespace between encoded
        // words in display names); RFC 2047 readers, ours included, join the words.
        let name = String(repeating: "学生", count: 20)
        let box = Mailbox(displayName: name, localPart: "s", domain: "example.org")
        #expect(box.formatted.components(separatedBy: "=?UTF-8?").count > 2)
        #expect(try Mailbox(parsing: box.formatted).displayName == name)
    }

}
