import Foundation
import PostroomCore
import Testing

/// `postroom lint`'s checks: a good message is clean, and each check fails its own fixture.
@Suite struct MessageLintTests {
    static let suffixes = PublicSuffixList(text: "org\nnet\nco.uk\n")
    static let lint = MessageLint(dkimDomains: ["example.org"], publicSuffixList: suffixes)

    static let header = """
        From: Team <team@example.org>
        To: ann@example.net
        Subject: Hello
        Date: Wed, 2 Dec 2026 09:00:00 +0000
        Message-ID: <1.M2P3Q4.host@example.org>
        List-Unsubscribe: <https://example.org/unsubscribe/TOKEN>, <mailto:leave@example.org>
        List-Unsubscribe-Post: List-Unsubscribe=One-Click
        MIME-Version: 1.0
        """

    static let body = """
        Content-Type: multipart/alternative; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        Caf=C3=A9
        --b1
        Content-Type: text/html; charset=utf-8
        Content-Transfer-Encoding: base64

        PHA+Q2Fmw6k8L3A+
        --b1--

        """

    static let good = header + "\n" + body

    static func findings(_ text: String, lint: MessageLint = lint) -> [LintFinding] {
        lint.check(Array(text.utf8))
    }

    /// The checks that found something.
    static func checks(_ text: String, lint: MessageLint = lint) -> [String] {
        findings(text, lint: lint).map { "\($0.severity.rawValue) \($0.check)" }
    }

    static func replacing(_ old: String, _ new: String) -> String {
        good.replacingOccurrences(of: old, with: new)
    }

    @Test func aGoodMessageIsClean() {
        #expect(Self.findings(Self.good) == [])
        // Control fields and Bcc never leave the machine, so they are not checked.
        #expect(Self.findings("X-Postroom-Envelope-To: <a@b>\nBcc: x@y.z\n" + Self.good) == [])
    }

    @Test func findingsAreOneLineWithFileSeverityAndAdvice() throws {
        let finding = try #require(Self.findings(Self.replacing("Date: Wed, 2 Dec 2026 09:00:00 +0000\n", "")).first)
        #expect(finding.line(file: "m.eml") == "m.eml: error: no Date field (\(finding.why))")
        #expect(finding.json(file: "a\"b").hasPrefix(#"{"file":"a\"b","severity":"error","check":"date","#))
    }

    @Test func fromMustBeOneAddressAlignedWithAConfiguredKey() {
        #expect(Self.checks(Self.replacing("From: Team <team@example.org>\n", "")) == ["error from"])
        #expect(Self.checks(Self.replacing("<team@example.org>", "a@example.org, b@example.org")) == ["error from"])
        #expect(Self.checks(Self.replacing("team@example.org", "team@other.net")) == ["error dkim"])
        // A subdomain is signed with its parent's key, as deliver chooses keys.
        #expect(Self.checks(Self.replacing("team@example.org", "team@news.example.org")) == [])
        // No key at all: a warning that explains the unsigned message, not an error.
        let unconfigured = MessageLint(dkimDomains: [], publicSuffixList: Self.suffixes)
        #expect(Self.checks(Self.good, lint: unconfigured) == ["warning dkim"])
    }

    @Test func aSignatureMustAlignAndCoverTheUnsubscribeFields() {
        let covering =
            "DKIM-Signature: v=1; a=rsa-sha256; d=mail.example.org; s=s1;\n h=from:to:subject:list-unsubscribe:\n list-unsubscribe-post; bh=x; b=y\n"
        #expect(Self.checks(covering + Self.good) == [])
        let partial = "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1; h=from:list-unsubscribe; bh=x; b=y\n"
        #expect(Self.checks(partial + Self.good) == ["error dkim"])
        let foreign =
            "DKIM-Signature: v=1; a=rsa-sha256; d=esp.net; s=s1; h=from:list-unsubscribe:list-unsubscribe-post; bh=x; b=y\n"
        #expect(Self.checks(foreign + Self.good) == ["error dkim"])
        #expect(Self.checks(foreign + covering + Self.good) == [])
    }

    @Test func anEd25519SignatureAloneIsAWarning() {
        let fields = "d=example.org; s=e1; h=from:list-unsubscribe:list-unsubscribe-post; bh=x; b=y\n"
        let ed25519 = "DKIM-Signature: v=1; a=ed25519-sha256; " + fields
        let rsa = "DKIM-Signature: v=1; a=rsa-sha256; " + fields
        #expect(Self.checks(ed25519 + Self.good) == ["warning dkim"])
        #expect(Self.findings(ed25519 + Self.good).first?.what == "the aligned DKIM signatures are all ed25519-sha256")
        // Signed with both, as deliver does when both keys are configured: receivers use the RSA one.
        #expect(Self.checks(ed25519 + rsa + Self.good) == [])
        // Only an aligned RSA signature counts: one from another domain leaves the warning.
        let foreignRSA = "DKIM-Signature: v=1; a=rsa-sha256; d=esp.net; s=s1; h=from; bh=x; b=y\n"
        #expect(Self.checks(foreignRSA + ed25519 + Self.good) == ["warning dkim"])
    }

    @Test func messageIDAndDateMustBePresentAndWellFormed() {
        #expect(Self.checks(Self.replacing("Message-ID: <1.M2P3Q4.host@example.org>\n", "")) == ["error message-id"])
        #expect(Self.checks(Self.replacing("<1.M2P3Q4.host@example.org>", "1.M2P3Q4.host")) == ["error message-id"])
        #expect(Self.checks(Self.replacing("<1.M2P3Q4.host@example.org>", "<a b@example.org>")) == ["error message-id"])
        #expect(Self.checks(Self.replacing("Date: Wed, 2 Dec 2026 09:00:00 +0000\n", "")) == ["error date"])
        #expect(Self.checks(Self.replacing("Wed, 2 Dec 2026 09:00:00 +0000", "yesterday")) == ["error date"])
    }

    @Test func oneClickUnsubscribeNeedsAnHTTPSURIAndThePostField() {
        let noList = Self.replacing(
            "List-Unsubscribe: <https://example.org/unsubscribe/TOKEN>, <mailto:leave@example.org>\n", "")
        #expect(Self.checks(noList).contains("error unsubscribe"))
        #expect(Self.checks(Self.replacing("<https://example.org/unsubscribe/TOKEN>, ", "")) == ["error unsubscribe"])
        #expect(
            Self.checks(Self.replacing("https://example.org/unsub", "http://example.org/unsub")) == [
                "error unsubscribe"
            ])
        #expect(
            Self.checks(Self.replacing("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n", "")) == [
                "error unsubscribe"
            ])
        #expect(Self.checks(Self.replacing("=One-Click", "=Yes")) == ["error unsubscribe"])
    }

    @Test func linesOver998OctetsAreErrors() {
        let long = String(repeating: "a", count: 999)
        #expect(Self.checks(Self.replacing("Caf=C3=A9", long)) == ["error line-length"])
        let findings = Self.findings(Self.replacing("Caf=C3=A9", String(repeating: "b", count: 998)))
        #expect(findings == [])
        let text = Self.findings(Self.replacing("Subject: Hello", "Subject: " + long)).first?.what
        #expect(text == "line 3 is 1008 octets long")
    }

    @Test func mimeBoundariesMustBePresentAndClosed() {
        #expect(Self.checks(Self.replacing("--b1--\n", "")) == ["error mime"])
        #expect(Self.checks(Self.replacing("; boundary=\"b1\"", "")) == ["error mime"])
        #expect(Self.checks(Self.replacing("boundary=\"b1\"", "boundary=\"zz\"")) == ["error mime"])
        #expect(Self.checks(Self.replacing("MIME-Version: 1.0\n", "")) == ["warning mime"])
    }

    @Test func transferEncodingsMustFitTheirContent() {
        #expect(Self.checks(Self.replacing("quoted-printable\n\nCaf=C3=A9", "7bit\n\nCafé")) == ["error mime"])
        #expect(
            Self.checks(Self.replacing("quoted-printable\n\nCaf=C3=A9", "quoted-printable\n\nCafé")) == ["error mime"])
        #expect(Self.checks(Self.replacing("PHA+Q2Fmw6k8L3A+", "not base64 at all!")) == ["error mime"])
        #expect(Self.checks(Self.replacing("quoted-printable", "x-uuencode")) == ["error mime"])
        #expect(Self.checks(Self.replacing("quoted-printable", "8bit")) == [])
        #expect(Self.checks(Self.replacing("text/plain; charset=utf-8", "text/plain")) == ["warning mime"])
        #expect(
            Self.checks(
                Self.replacing("Content-Type: multipart", "Content-Transfer-Encoding: base64\nContent-Type: multipart")
            ).contains("error mime"))
    }

    @Test func eightBitHeaderTextNeedsSMTPUTF8() {
        #expect(Self.checks(Self.replacing("Subject: Hello", "Subject: Café")) == ["warning 8bit-header"])
        #expect(Self.checks(Self.replacing("Subject: Hello", "Subject: =?utf-8?q?Caf=C3=A9?=")) == [])
    }

    @Test func anUnreadableMessageIsOneError() {
        #expect(Self.checks("") == ["error parse"])
    }

    @Test func dkimSpecificationsGiveTheirDomains() throws {
        let configuration = try Configuration(text: "dkim = Example.org.:s1:/k, news.example.net:s2:/a:b")
        #expect(try MessageLint.configured(configuration, dkim: []).dkimDomains == ["example.org", "news.example.net"])
        #expect(
            try MessageLint.configured(configuration, dkim: ["a.example:s:/k,b.example:t:/k"]).dkimDomains == [
                "a.example", "b.example",
            ])
        // A bad specification is a usage error (exit 64), whether from --dkim or the configuration.
        for (flags, text) in [(["example.org:s1"], ""), ([], "dkim = example.org:s_1:/k")] {
            #expect {
                try MessageLint.configured(try Configuration(text: text), dkim: flags)
            } throws: { error in
                guard let error = error as? PostroomError, case .usage = error else { return false }
                return error.exitStatus == .usage
            }
        }
    }
}
