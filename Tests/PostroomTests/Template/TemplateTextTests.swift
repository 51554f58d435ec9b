import Postroom
import Testing

@Suite struct TemplateTextTests {
    func render(_ source: String, _ context: [String: Any], html: Bool = false) throws -> (String, Set<String>) {
        var missing = Set<String>()
        let output = try TemplateText(source, name: "body", escapesHTML: html).render(context, missing: &missing)
        return (output, missing)
    }

    @Test func djangoSyntaxWorks() throws {
        let context: [String: Any] = [
            "user": ["first_name": "Ada", "classes": ["Robotics", "Art"], "is_new": true],
            "program": ["niceName": "Splash"],
        ]
        let (output, missing) = try render(
            "Dear {{ user.first_name|upper }}, {% if user.is_new %}welcome{% else %}hello again{% endif %} to {{ program.niceName }}:"
                + "{% for c in user.classes %} {{ forloop.counter }}.{{ c }}{% endfor %}", context)
        #expect(output == "Dear ADA, welcome to Splash: 1.Robotics 2.Art")
        #expect(missing.isEmpty)
    }

    @Test func djangoFilterNamesWork() throws {
        let context: [String: Any] = ["user": ["name": "ada LOVELACE", "classes": ["a", "b", "c"]]]
        #expect(
            try render(
                "{{ user.name|upper }}|{{ user.name|lower }}|{{ user.name|title }}|{{ user.name|capfirst }}|{{ user.classes|length }}",
                context
            ).0
                == "ADA LOVELACE|ada lovelace|Ada Lovelace|Ada LOVELACE|3")
    }

    @Test func missingValuesAreAllCollected() throws {
        let (output, missing) = try render(
            "{{ user.first_name }} {{ user.nickname }} {{ program.date }} {{ user.nick|default:\"friend\" }}",
            ["user": ["first_name": "Ada"]])
        #expect(output == "Ada   friend")
        #expect(missing == ["user.nickname", "program.date"])
    }

    @Test func valuesAreDataNeverTemplateSyntax() throws {
        let context: [String: Any] = ["user": ["first_name": "{{ secret }}{% if 1 %}x{% endif %}"], "secret": "LEAK"]
        #expect(try render("Hi {{ user.first_name }}", context).0 == "Hi {{ secret }}{% if 1 %}x{% endif %}")
    }

    @Test func htmlPartsEscapeValuesButNotTheTemplate() throws {
        let context: [String: Any] = ["user": ["name": "<b>Tom & \"Jerry\"</b> O'Neil"]]
        #expect(
            try render("<p>{{ user.name }}</p>", context, html: true).0
                == "<p>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; O&#39;Neil</p>")
        #expect(try render("{{ user.name }}", context, html: false).0 == "<b>Tom & \"Jerry\"</b> O'Neil")
    }

    @Test func syntaxErrorsNameTheLine() {
        #expect {
            _ = try TemplateText(
                "line one\nline two {% if x %}\nnever closed", name: "template text/plain part", escapesHTML: false)
        } throws: { error in
            guard let error = error as? PostroomError else { return false }
            return error.exitStatus == .dataError
                && error.description.hasPrefix("malformed template at template text/plain part line 2:")
        }
        #expect(throws: PostroomError.self) { _ = try TemplateText("{% nosuchtag %}", name: "t", escapesHTML: false) }
        #expect(throws: PostroomError.self) {
            _ = try TemplateText("{{ a|nosuchfilter }}", name: "t", escapesHTML: false)
        }
    }

    @Test func includesAreRefused() throws {
        let template = try TemplateText("{% include \"/etc/passwd\" %}", name: "t", escapesHTML: false)
        var missing = Set<String>()
        #expect(throws: PostroomError.self) { _ = try template.render([:], missing: &missing) }
    }

    @Test func oneParseServesManyRenders() throws {
        let template = try TemplateText("Hi {{ user.name }}", name: "t", escapesHTML: false)
        var missing = Set<String>()
        for index in 0..<1_000 {
            #expect(try template.render(["user": ["name": "n\(index)"]], missing: &missing) == "Hi n\(index)")
        }
        #expect(missing.isEmpty)
    }
}
