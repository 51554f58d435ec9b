import Foundation
import Postroom
import TestSupport
import Testing

/// `deliver` and what it puts on the wire: the envelope and the password.
@Suite struct DeliverEnvelopeTests {
    let directory = TemporaryDirectory()

    func spool(_ text: String) throws -> (Spool, String) {
        let spool = try directory.spool()
        let name = MessageName(base: "\(Timestamp.now().seconds).M1P1Q1.test")
        try spool.maildir(.outgoing).add(Array(text.utf8), as: name)
        return (spool, name.fileName)
    }

    func failure(in spool: Spool, _ name: String) throws -> String? {
        try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/\(name):2,")).control(.failure)
    }

    @Test func credentialsAreNeverSentWithoutTLSUnlessTLSIsTurnedOff() throws {
        let server = try SMTPTestServer(.cleartext)
        let message = "From: team@example.org\nTo: s@example.org\nSubject: Hi\n\nHello\n"
        let password = directory.file("password")
        try Files.write(password, "s3cret\n")
        chmod(password, 0o600)
        let login = ["--smtp", server.url, "--user", "postroom", "--password-file", password]
        let (spool, name) = try spool(message)
        let result = try Run.program("deliver", ["--spool", spool.root] + login)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sent 0, deferred 1, failed 0\n")
        #expect(server.authentications.isEmpty)
        #expect(try server.messages().isEmpty)
        let deferred = try Message(parsing: try Files.read(spool.maildir(.deferred).path(of: .new) + "/" + name))
        #expect(deferred.control(.lastError)?.contains("does not offer STARTTLS") == true)

        // Only the operator's explicit --tls off sends the password in clear.
        let other = TemporaryDirectory()
        let second = try Spool.open(other.spool().root)
        try second.maildir(.outgoing).add(
            Array(message.utf8), as: MessageName(base: "\(Timestamp.now().seconds).M2P1Q2.test"))
        let explicit = try Run.program("deliver", ["--spool", second.root, "--tls", "off"] + login)
        #expect(explicit.stdout == "sent 1, deferred 0, failed 0\n", "\(explicit.stderr)")
        #expect(server.authentications == "postroom\0s3cret\n")
    }

    @Test func anEscapedLineBreakInAnAddressNeverReachesTheWire() throws {
        // A backslash-escaped CR and LF in the quoted local part, as a crafted spool file can hold them.
        let crafted = """
            From: team@example.org
            To: s@example.org
            Subject: Hi
            X-Postroom-Envelope-To: %22a%5C%0D%5C%0ARCPT%20TO:%3Cevil@example.org%3E%22@example.org

            Hello

            """
        let file = directory.file("crafted.eml")
        try Files.write(file, crafted)
        let dryRun = try Run.program("deliver", ["--dry-run", file])
        #expect(dryRun.status == 65)
        #expect(dryRun.stdout.isEmpty)
        #expect(dryRun.stderr.contains("a backslash escapes CR"), "\(dryRun.stderr)")

        let server = try SMTPTestServer(.accept)
        let (spool, name) = try spool(crafted)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout == "sent 0, deferred 0, failed 1\n", "\(result.stderr)")
        #expect(try failure(in: spool, name)?.contains("a backslash escapes CR") == true)
        #expect(try server.messages().isEmpty)
        #expect(server.connections == 0)
    }

    @Test func aFileWithTwoEnvelopeRecipientsIsRefusedNotHalfSent() throws {
        let server = try SMTPTestServer(.accept)
        let (spool, name) = try spool(
            """
            From: team@example.org
            To: a@example.org, b@example.org
            Subject: Hi
            X-Postroom-Envelope-To: a%40example.org
            X-Postroom-Envelope-To: b%40example.org

            Hello

            """)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout == "sent 0, deferred 0, failed 1\n", "\(result.stderr)")
        let reason = try #require(try failure(in: spool, name))
        #expect(reason.contains("<a@example.org>, <b@example.org>"), "\(reason)")
        #expect(reason.contains("write one file per recipient, each with X-Postroom-Envelope-To naming it"))
        #expect(try server.messages().isEmpty)
        #expect(try Files.text(spool.logPath).contains("\(name): status=failed"))
    }

    @Test func aHandMadeMessageToTwoRecipientsIsRefusedNamingBoth() throws {
        let server = try SMTPTestServer(.picky)
        let (spool, name) = try spool(
            "From: team@example.org\nTo: ok@example.org, reject@example.org\nSubject: Hi\n\nHello\n")
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout == "sent 0, deferred 0, failed 1\n", "\(result.stderr)")
        let reason = try #require(try failure(in: spool, name))
        #expect(reason.contains("<ok@example.org>, <reject@example.org>"), "\(reason)")
        #expect(try server.messages().isEmpty)
    }

    @Test func aBounceAddressSMTPCannotCarryIsAUsageErrorNotAQueueOfFailures() throws {
        let (spool, name) = try spool("From: team@example.org\nTo: s@example.org\nSubject: Hi\n\nHello\n")
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--bounce-address", "bounces here@example.org"])
        #expect(result.status == 64)
        #expect(
            result.stderr.contains("--bounce-address \"bounces here@example.org\" is not an address SMTP can carry"))
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)) == [name])
    }
}
