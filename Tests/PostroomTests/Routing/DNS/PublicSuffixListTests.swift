import PostroomCore
import Testing

@Suite struct PublicSuffixListTests {
    static let debianList = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// publicsuffix.org's test vectors (tests/test_psl.txt), against the list Debian ships:
    /// (domain, organisational domain or nil).
    static let vectors: [(String, String?)] = [
        ("COM", nil), ("example.COM", "example.com"), ("WwW.example.COM", "example.com"),
        ("com", nil), ("example.com", "example.com"), ("b.example.com", "example.com"),
        ("a.b.example.com", "example.com"), ("uk.com", nil), ("example.uk.com", "example.uk.com"),
        ("b.example.uk.com", "example.uk.com"), ("test.ac", "test.ac"),
        // *.mm
        ("mm", nil), ("c.mm", nil), ("b.c.mm", "b.c.mm"), ("a.b.c.mm", "b.c.mm"),
        // jp: plain rules, wildcards and exceptions.
        ("jp", nil), ("test.jp", "test.jp"), ("www.test.jp", "test.jp"), ("ac.jp", nil),
        ("test.ac.jp", "test.ac.jp"), ("www.test.ac.jp", "test.ac.jp"), ("kyoto.jp", nil),
        ("test.kyoto.jp", "test.kyoto.jp"), ("ide.kyoto.jp", nil), ("b.ide.kyoto.jp", "b.ide.kyoto.jp"),
        ("a.b.ide.kyoto.jp", "b.ide.kyoto.jp"), ("c.kobe.jp", nil), ("b.c.kobe.jp", "b.c.kobe.jp"),
        ("a.b.c.kobe.jp", "b.c.kobe.jp"), ("city.kobe.jp", "city.kobe.jp"), ("www.city.kobe.jp", "city.kobe.jp"),
        // *.ck with !www.ck
        ("ck", nil), ("test.ck", nil), ("b.test.ck", "b.test.ck"), ("a.b.test.ck", "b.test.ck"),
        ("www.ck", "www.ck"), ("www.www.ck", "www.ck"),
        ("us", nil), ("test.us", "test.us"), ("www.test.us", "test.us"), ("ak.us", nil),
        ("test.ak.us", "test.ak.us"), ("www.test.ak.us", "test.ak.us"), ("k12.ak.us", nil),
        ("test.k12.ak.us", "test.k12.ak.us"), ("www.test.k12.ak.us", "test.k12.ak.us"),
        // A TLD the list does not name: the implicit rule "*".
        ("example", nil), ("example.example", "example.example"), ("b.example.example", "example.example"),
        ("a.b.example.example", "example.example"),
        // The brief's example, and a trailing dot.
        ("mail.example.co.uk", "example.co.uk"), ("mail.example.co.uk.", "example.co.uk"), ("co.uk", nil),
        // The private section counts: each github.io site is its own organisation.
        ("www.someone.github.io", "someone.github.io"), ("", nil),
    ]

    @Test(arguments: vectors)
    func organisationalDomainsFromDebiansList(domain: String, expected: String?) throws {
        let list = PublicSuffixList(path: Self.debianList)
        #expect(try list.organizationalDomain(of: domain) == expected)
    }

    @Test func rulesAreReadOnlyForTheDomainsLastLabel() throws {
        // The same algorithm on a small list: wildcards, exceptions, the longest rule, comments.
        let list = PublicSuffixList(
            text: """
                // comment lines and blank lines are skipped

                uk
                co.uk
                *.sch.uk
                !special.sch.uk
                org   trailing words are ignored
                // com
                """)
        #expect(try list.publicSuffix(of: "www.example.co.uk") == "co.uk")
        #expect(try list.publicSuffix(of: "a.b.kent.sch.uk") == "kent.sch.uk")
        #expect(try list.organizationalDomain(of: "a.b.kent.sch.uk") == "b.kent.sch.uk")
        #expect(try list.organizationalDomain(of: "www.special.sch.uk") == "special.sch.uk")
        #expect(try list.publicSuffix(of: "special.sch.uk") == "sch.uk")
        #expect(try list.organizationalDomain(of: "kent.sch.uk") == nil)
        #expect(try list.organizationalDomain(of: "x.example.org") == "example.org")
        // A commented-out rule is no rule: the implicit "*" gives example.com.
        #expect(try list.organizationalDomain(of: "a.example.com") == "example.com")
        // "uk" is not a rule for a TLD that merely ends in the same letters.
        #expect(try list.publicSuffix(of: "a.b.xuk") == "xuk")
    }

    @Test func aMissingListIsAConfigurationError() {
        let list = PublicSuffixList(path: "/nonexistent/public_suffix_list.dat")
        #expect {
            _ = try list.organizationalDomain(of: "mail.example.co.uk")
        } throws: { error in
            (error as? PostroomError)?.description.contains("publicsuffix") == true
        }
    }
}
