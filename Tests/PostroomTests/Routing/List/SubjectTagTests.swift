import PostroomCore
import Testing

@Suite struct SubjectTagTests {
    static let cases: [(subject: String?, expected: String)] = [
        ("Homework", "[S1234] Homework"),
        ("[S1234] Homework", "[S1234] Homework"),
        ("Re: [S1234] Homework", "[S1234] Re: Homework"),
        ("[S1234] Re: Homework", "[S1234] Re: Homework"),
        ("Re: [S1234] Re: [S1234] Homework", "[S1234] Re: Homework"),
        ("RE: [s1234] Homework", "[S1234] Re: Homework"),
        ("Aw: [S1234] Hausaufgabe", "[S1234] Re: Hausaufgabe"),
        ("AW: AW: Hausaufgabe", "[S1234] Re: Hausaufgabe"),
        ("Re: Re: Re: Homework", "[S1234] Re: Homework"),
        ("Re[2]: Homework", "[S1234] Re: Homework"),
        ("Fwd: Homework", "[S1234] Fwd: Homework"),
        ("Fw: [S1234] Homework", "[S1234] Fwd: Homework"),
        ("WG: Homework", "[S1234] Fwd: Homework"),
        ("Fwd: Re: Homework", "[S1234] Fwd: Homework"),
        ("Re:Homework", "[S1234] Re: Homework"),
        ("  Re:   [S1234]   Homework  ", "[S1234] Re: Homework"),
        (nil, "[S1234]"),
        ("", "[S1234]"),
        ("   ", "[S1234]"),
        ("Re:", "[S1234] Re:"),
        ("Regarding: Homework", "[S1234] Regarding: Homework"),
        ("Reminder: test on Friday", "[S1234] Reminder: test on Friday"),
        ("Homework [S1234]", "[S1234] Homework [S1234]"),
        ("Line\r\nBcc: victim@example.org", "[S1234] Line Bcc: victim@example.org"),
        ("Été: devoirs", "[S1234] Été: devoirs"),
        // Behind another bracketed tag (a site prefix this list does not set, another list's):
        // ours comes first, once, the other stays.
        ("[Splash] [S1234] Re: Homework", "[S1234] [Splash] Re: Homework"),
        ("[Splash] Re: [S1234] Homework", "[S1234] [Splash] Re: Homework"),
        ("Re: [Other] [S1234] Homework", "[S1234] [Other] Re: Homework"),
        ("[Other] Re: Homework", "[S1234] [Other] Re: Homework"),
        ("Re: [Other] Homework", "[S1234] Re: [Other] Homework"),
        ("[Other] Homework [S1234]", "[S1234] [Other] Homework [S1234]"),
        ("[unclosed Homework", "[S1234] [unclosed Homework"),
    ]

    @Test(arguments: cases)
    func tagsOnce(subject: String?, expected: String) {
        let tag = SubjectTag(tag: "[S1234]")
        #expect(tag.apply(to: subject) == expected)
        // Idempotent: tagging the result again changes nothing.
        #expect(tag.apply(to: tag.apply(to: subject)) == expected)
    }

    static let prefixed: [(subject: String?, expected: String)] = [
        ("Homework", "[Splash] [S1234] Homework"),
        ("Re: [Splash] [S1234] Homework", "[Splash] [S1234] Re: Homework"),
        ("[S1234] [Splash] Re: Homework", "[Splash] [S1234] Re: Homework"),
        ("Re: [splash] Homework", "[Splash] [S1234] Re: Homework"),
        (nil, "[Splash] [S1234]"),
    ]

    @Test(arguments: prefixed)
    func outerPrefix(subject: String?, expected: String) {
        let tag = SubjectTag(tag: "[S1234]", prefix: "[Splash]")
        #expect(tag.apply(to: subject) == expected)
        #expect(tag.apply(to: expected) == expected)
    }

    @Test func prefixAloneAndEmpty() {
        #expect(SubjectTag(tag: "", prefix: "[Splash]").apply(to: "Re: [Splash] x") == "[Splash] Re: x")
        #expect(SubjectTag(tag: " ").isEmpty)
        #expect(SubjectTag(tag: "[A\r\nB]").tag == "[A B]")
    }
}
