import Glibc
import PostroomCore
import TestSupport
import Testing

@Suite struct SRSHandlerTests {
    /// 2026-12-01, the day the SRS addresses below were written.
    static let day = Timestamp(seconds: 20788 * 86400 + 3600)
    static let bounce = """
        From: MAILER-DAEMON@mx.example.net
        To: SRS0=9LDO=JU=example.com=alice@srs.example.org
        Subject: Undelivered Mail Returned to Sender

        The message could not be delivered.

        """

    let directory = TemporaryDirectory("srs-handler")

    func context(keyFile: Bool = true, now: Timestamp = day) throws -> RouteContext {
        var text = ""
        if keyFile {
            let path = directory.file("srs.secret")
            try Files.write(path, "tops3cret\n")
            chmod(path, 0o600)
            text += "srs_key_file = \(path)\n"
        }
        return RouteContext(
            spool: Spool(root: directory.file("spool")), configuration: try Configuration(text: text),
            recipient: "srs0=x@site.example", now: now)
    }

    func route(_ recipient: String, context: RouteContext, sender: String? = nil) throws -> RouteDecision {
        let message = try IncomingMessage(
            bytes: Array(Self.bounce.utf8), recipient: recipient, sender: sender, limits: .defaults)
        let arguments = RuleArguments(positional: [], options: [:], line: 1, directory: directory.path)
        return try SRSHandler(arguments, context: context).route(message, context: context)
    }

    @Test func aBounceGoesBackToTheOriginalSender() throws {
        let address = "SRS0=9LDO=JU=example.com=alice@srs.example.org"
        let decision = try route(address, context: context(now: Timestamp(seconds: Self.day.seconds + 5 * 86400)))
        guard case .deliver(let plan) = decision, plan.copies.count == 1, let copy = plan.copies.first else {
            Issue.record("expected one copy, got \(decision)")
            return
        }
        #expect(copy.destination == .outgoing)
        #expect(copy.envelope.recipients == ["alice@example.com"])
        #expect(copy.envelope.sender == nil)
        let bytes = Array(Self.bounce.utf8)
        let bodyStart = bytes.count - "The message could not be delivered.\n".utf8.count
        #expect(copy.header == Array("Delivered-To: \(address)\n".utf8) + bytes[..<bodyStart])
        #expect(Array(copy.body) == Array(bytes[bodyStart...]))
    }

    @Test func aForgedOrExpiredAddressIsRefusedAsUnknown() throws {
        let forged = try route("SRS0=AAAA=JU=example.com=alice@srs.example.org", context: context())
        guard case .refuse(let code, let text) = forged else {
            Issue.record("expected a refusal, got \(forged)")
            return
        }
        #expect(code == .noUser)
        #expect(text.contains("hash does not match"))
        let expired = try route(
            "SRS0=9LDO=JU=example.com=alice@srs.example.org",
            context: context(now: Timestamp(seconds: Self.day.seconds + 30 * 86400)))
        guard case .refuse(.noUser, let reason) = expired else {
            Issue.record("expected a refusal, got \(expired)")
            return
        }
        #expect(reason.contains("expired"))
    }

    @Test func anOrdinaryAddressPassesToTheNextRule() throws {
        guard case .pass = try route("alice@srs.example.org", context: context()) else {
            Issue.record("expected .pass")
            return
        }
    }

    @Test func withoutAKeyTheRuleIsAConfigurationError() throws {
        let context = try context(keyFile: false)
        let arguments = RuleArguments(positional: [], options: [:], line: 3, directory: directory.path)
        #expect(SRSHandler.check(arguments, context: context).first?.contains("srs_key_file") == true)
        #expect(SRSHandler.check(arguments, context: try self.context()).isEmpty)
        #expect(throws: PostroomError.self) {
            _ = try route("SRS0=9LDO=JU=example.com=alice@srs.example.org", context: context)
        }
    }
}
