import Foundation
import Postroom
import TestSupport
import Testing

/// What the pipeline writes, read back by Python's email package (policy=default).
@Suite struct PythonPipelineTests {
    let directory = TemporaryDirectory()

    static let corpus: [(first: String, last: String, subject: String)] = [
        ("山田", "太郎", "学生の皆さん、ようこそ。夏期講座の登録が始まりました。"),
        ("Zoë \"Zo\"", "Ünal, PhD", "Welcome, Zoë! 🎉 Your \"Splash\" schedule"),
        ("Séan", "O'Brien, Jr.", "Quotes \"double\" and 'single', commas, and back\\slashes \\o/"),
        ("👩‍🎓", "Student 🎓", "Emoji 👩‍👩‍👧‍👦🇺🇦 and skin tones 👍🏽"),
        ("Ame\u{301}lie", "Zoe\u{308}", "Combining marks: Ame\u{301}lie, n\u{303}, a\u{30A}"),
        ("María Guadalupe", "Fernández de la Cruz Hernández", "¿Listos para el programa de verano? ¡Sí!"),
        ("Plain", "Name", "=?UTF-8?Q?looks_encoded?= but is literal text"),
        ("Ελένη", "Παπαδοπούλου", "Καλώς ήρθατε στο πρόγραμμα — λεπτομέρειες μέσα"),
        ("a,b;c:d<e>f@g", "[x]", "Specials: <>()[]:;@,. in a subject"),
    ]

    func csvField(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    @Test func everyRenderedMessageParsesWithoutDefectsAndDecodesToTheInputs() throws {
        let spool = try directory.spool()
        var csv = "email,first_name,last_name,subject\n"
        for (index, entry) in Self.corpus.enumerated() {
            csv += "s\(index)@example.org,\(csvField(entry.first)),\(csvField(entry.last)),\(csvField(entry.subject))\n"
        }
        try Files.write(directory.file("list.csv"), csv)
        try Files.write(
            directory.file("file.pdf"), "%PDF-1.4\n" + String(repeating: "binary-ish \u{1}\u{2} ", count: 200))
        let template = """
            From: Splash <team@example.org>
            Subject: {{ user.subject }}
            Content-Type: text/html; charset=utf-8

            <p>Dear {{ user.first_name }} {{ user.last_name }},</p><p>{{ user.subject }}</p>

            """
        let env = ["POSTROOM_SPOOL": spool.root]
        let submit = try Run.program(
            "postroom", ["submit", "--recipients", directory.file("list.csv"), "--attach", directory.file("file.pdf")],
            input: Array(template.utf8), environment: env)
        #expect(submit.status == 0, "\(submit.stderr)")
        #expect(try Run.program("expand", [], environment: env).status == 0)
        #expect(try Run.program("render", ["--queue"], environment: env).status == 0)

        let outgoing = spool.maildir(.outgoing).path(of: .new)
        let files = Files.list(outgoing).map { "\(outgoing)/\($0)" }
        #expect(files.count == Self.corpus.count)
        let result = try Run.program("/usr/bin/env", ["python3", Files.pythonEmailChecker] + files)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(
            JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]])
        for file in files {
            let entry = try #require(report[file])
            let index = try #require(Int(file.split(separator: "R").last ?? "")) - 1
            let expected = Self.corpus[index]
            let name = "\(expected.first) \(expected.last)"
            #expect((entry["defects"] as? [String]) == [], "\(file): \(entry["defects"] ?? "")")
            #expect((entry["headers"] as? [String: [String]])?["subject"] == [expected.subject])
            #expect((entry["addresses"] as? [String: [[String]]])?["to"]?.first == [name, "s\(index)@example.org"])
            let bodies = try #require(entry["bodies"] as? [String: String])
            let escapedName = name.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
                of: "<", with: "&lt;"
            )
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
            #expect(bodies["html"]?.contains("Dear \(escapedName),") == true, "\(bodies["html"] ?? "")")
            #expect(bodies["plain"]?.hasPrefix("Dear \(name),\n\n") == true, "\(bodies["plain"] ?? "")")
            #expect((entry["attachments"] as? [[Any]])?.first?[0] as? String == "file.pdf")
            #expect((entry["attachments"] as? [[Any]])?.first?[1] as? String == "application/pdf")
        }
    }

    @Test func aRequestWrittenByAnAppWithPythonsEmailPackageExpands() throws {
        let spool = try directory.spool()
        let script = """
            import email.message, email.policy, sys
            template = email.message.EmailMessage()
            template["From"] = "team@example.org"
            template["Subject"] = "Hello {{ user.first_name }}"
            template.set_content("Hi {{ user.first_name }} from {{ program.name }}\\n")
            request = email.message.EmailMessage(policy=email.policy.default)
            request["X-Postroom-Send-To"] = "self"
            request["X-Postroom-Var"] = "program.name=Splash"
            request.make_mixed()
            part = email.message.EmailMessage()
            part["X-Postroom-Part"] = "template"
            part.set_content(template)
            request.attach(part)
            recipients = email.message.EmailMessage()
            recipients["X-Postroom-Part"] = "recipients"
            recipients.set_content("email,first_name\\nada@example.org,Ada\\n", subtype="csv")
            request.attach(recipients)
            with open(sys.argv[1], "wb") as handle:
                handle.write(request.as_bytes())
            """
        let target = spool.maildir(.request).path(of: .tmp) + "/app-request"
        let python = try Run.program("/usr/bin/env", ["python3", "-c", script, target])
        #expect(python.status == 0, "\(python.stderr)")
        try Files.move(target, spool.maildir(.request).path(of: .new) + "/app-request")
        let env = ["POSTROOM_SPOOL": spool.root]
        let expand = try Run.program("expand", [], environment: env)
        #expect(expand.stdout == "app-request: expanded 1 of 1\n", "\(expand.stderr)")
        #expect(try Run.program("render", ["--queue"], environment: env).status == 0)
        let message = try Message(parsing: try Files.read(spool.maildir(.outgoing).path(of: .new) + "/app-request.R1"))
        #expect(message.value(of: "Subject") == "Hello Ada")
        #expect(message.body == Array("Hi Ada from Splash\n".utf8))
    }
}
