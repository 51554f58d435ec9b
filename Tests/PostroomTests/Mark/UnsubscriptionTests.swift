import Foundation
import PostroomCore
import TestSupport
import Testing

/// A site with a spool and an unsubscribe key, for unsubscribe and suppress tests.
final class UnsubscribeSite {
    let directory = TemporaryDirectory("postroom-unsub")
    let spool: Spool
    let keyPath: String
    let key = Array("secret key".utf8)

    init() throws {
        spool = try directory.spool()
        keyPath = directory.file("unsubscribe.key")
        try Files.write(keyPath, "secret key\n")
        chmod(keyPath, 0o600)
    }

    func configuration(_ extra: String = "") throws -> Configuration {
        try Configuration(text: "unsubscribe_key_file = \(keyPath)\n" + extra)
    }

    /// A token signed with the site's key.
    func token(_ address: String, list: String? = nil, issued: Timestamp = .now()) -> String {
        UnsubscribeToken(address: address, list: list, issued: issued).text(signedWith: UnsubscribeKey(key))
    }

    func record(_ token: String, now: Timestamp = .now(), config: String = "") throws -> MarkResult {
        let log = try SpoolLog(path: spool.logPath, program: "mark", echo: false)
        let unsubscription = try Unsubscription(token: token, configuration: try configuration(config), now: now)
        return try unsubscription.record(in: spool, configuration: try configuration(config), log: log)
    }

    var suppress: String { (try? Files.text(spool.suppressPath)) ?? "" }
    var log: String { (try? Files.text(spool.logPath)) ?? "" }
}

@Suite struct UnsubscriptionTests {
    @Test func aBulkTokenSuppressesTheAddressEverywhere() throws {
        let site = try UnsubscribeSite()
        let result = try site.record(site.token("Ada@Example.org"))
        #expect(result == MarkResult(detail: "<ada@example.org> unsubscribed (all mail, via link)"))
        let list = try SuppressFile(spool: site.spool).read()
        #expect(list.contains("ada@example.org") && list.contains("ada@example.org", list: "s1@site"))
        #expect(site.suppress.hasPrefix("ada@example.org 20"))
        #expect(site.suppress.contains(" unsubscribed (link, token of 20"))
        #expect(site.log.contains("mark[\(getpid())]: to=<ada@example.org>, status=unsubscribed (all mail, via link)"))
    }

    @Test func aListTokenSuppressesTheAddressForThatListOnly() throws {
        let site = try UnsubscribeSite()
        #expect(try site.record(site.token("kid@example.com", list: "S1234-students@site")).status == .ok)
        let list = try SuppressFile(spool: site.spool).read()
        #expect(list.contains("kid@example.com", list: "s1234-students@site"))
        #expect(!list.contains("kid@example.com"))
        #expect(!list.contains("kid@example.com", list: "s9-students@site"))
        #expect(site.suppress.hasPrefix("kid@example.com list=s1234-students@site 20"))
        #expect(site.log.contains("to=<kid@example.com>, status=unsubscribed (list=s1234-students@site, via link)"))
    }

    @Test func recordingTwiceAddsOneLine() throws {
        let site = try UnsubscribeSite()
        let token = site.token("ada@example.org")
        #expect(try site.record(token).status == .ok)
        let again = try site.record(token)
        #expect(again.status == .ok)
        #expect(again.detail.hasSuffix("already suppressed)"))
        #expect(site.suppress.split(separator: "\n").count == 1)
        // A list token for an address suppressed everywhere adds nothing either.
        #expect(try site.record(site.token("ada@example.org", list: "s1@site")).status == .ok)
        #expect(site.suppress.split(separator: "\n").count == 1)
    }

    @Test func aRefusedTokenChangesNothingAndIsLogged() throws {
        let site = try UnsubscribeSite()
        try Files.write(site.spool.suppressPath, "# hand-written\nold@example.org\n")
        let forged = UnsubscribeToken(address: "ada@example.org", issued: .now()).text(
            signedWith: UnsubscribeKey(Array("guess".utf8)))
        let result = try site.record(forged)
        #expect(result.status == .noPermission)
        #expect(result.detail.contains("signature does not match"))
        #expect(site.suppress == "# hand-written\nold@example.org\n")
        #expect(site.log.contains("to=?, via=link, status=refused (unsubscribe: the token's signature does not match"))
        #expect(!site.log.contains("ada@example.org"))
    }

    @Test func anExpiredTokenIsRefusedWithItsAddressInTheLog() throws {
        let site = try UnsubscribeSite()
        let issued = Timestamp(seconds: 1_700_000_000)
        let later = Timestamp(seconds: issued.seconds + 40 * 86_400)
        let token = site.token("ada@example.org", issued: issued)
        let result = try site.record(token, now: later, config: "unsubscribe_token_lifetime = 30d\n")
        #expect(result.status == .noPermission)
        #expect(result.detail == "unsubscribe refused: the token expired: issued 2023-11-14, valid for 30d")
        #expect(site.log.contains("to=<ada@example.org>, via=link, status=refused (unsubscribe: the token expired"))
        #expect(site.suppress.isEmpty)
        // The default lifetime (180 days) still takes it.
        #expect(try site.record(token, now: later).status == .ok)
    }

    @Test func withoutAKeyOrWithABadLifetimeNothingIsDecided() throws {
        let site = try UnsubscribeSite()
        let missing = #expect(throws: PostroomError.self) {
            _ = try Unsubscription(token: site.token("a@b.example"), configuration: try Configuration(text: ""))
        }
        #expect(missing?.description.contains("unsubscribe_key_file is not set") == true)
        let lifetime = #expect(throws: PostroomError.self) {
            _ = try Unsubscription(
                token: site.token("a@b.example"),
                configuration: try site.configuration("unsubscribe_token_lifetime = half a year\n"))
        }
        #expect(lifetime?.description.contains("unsubscribe_token_lifetime: \"half a year\" is not a duration") == true)
        #expect(lifetime?.exitStatus == .config)
    }

    @Test func theSummarySaysWhatWouldHappen() throws {
        let site = try UnsubscribeSite()
        let now = Timestamp(seconds: 1_700_000_000)
        let member = try Unsubscription(
            token: site.token("kid@example.com", list: "s1@site", issued: now), configuration: try site.configuration(),
            now: now)
        #expect(member.summary == "unsubscribe <kid@example.com> from the list s1@site (token issued 2023-11-14)")
        let forged = try Unsubscription(token: "x.y", configuration: try site.configuration(), now: now)
        #expect(forged.summary.hasPrefix("refuse the unsubscribe request (77): not an unsubscribe token"))
    }
}

/// The `suppress` file as people edit it, and as many processes change it.
@Suite struct SuppressFileTests {
    @Test func aHandEditedFileStillWorks() throws {
        let site = try UnsubscribeSite()
        let handEdited =
            "# suppressed by hand\r\n\r\n   ada@example.org    2026-11-01   asked by phone  \r\n"
            + "\t<Bob@Example.net>\tlist=S1@Site\t2026-11-02\r\n#carol@example.org\r\n"
        try Files.write(site.spool.suppressPath, handEdited)
        let list = try SuppressFile(spool: site.spool).read()
        #expect(list.contains("ADA@example.org") && list.contains("bob@example.net", list: "s1@site"))
        #expect(!list.contains("bob@example.net") && !list.contains("carol@example.org"))
        #expect(list.entries.map(\.note) == ["2026-11-01   asked by phone", "2026-11-02"])
        // Changes keep what they do not touch (comments included) and add lines the same way.
        #expect(try SuppressFile(spool: site.spool).add(.init(address: "dan@example.org", note: "2026-12-02 x")))
        #expect(try !SuppressFile(spool: site.spool).add(.init(address: "ada@example.org")))
        #expect(try SuppressFile(spool: site.spool).remove("bob@example.net", list: "s1@site") == 1)
        let lines = site.suppress.split(separator: "\n").map(String.init)
        #expect(lines.first == "# suppressed by hand")
        #expect(lines.contains("#carol@example.org"))
        #expect(lines.last == "dan@example.org 2026-12-02 x")
        #expect(try SuppressFile(spool: site.spool).read().contains("ada@example.org"))
    }
}
