import Foundation
import Postroom
import TestSupport
import Testing

/// SRS through the built `route`: a redirect off the site rewrites the sender, a bounce to that
/// address goes back to the original sender, a forged one is refused.
@Suite struct RouteSRSCommandTests {
    func fixture() throws -> RouteFixture {
        let route = try RouteFixture(
            rules: "^SRS[01][=+-] srs\n^alias$ redirect away@remote.example local@site.example\n")
        let key = route.directory.file("srs.key")
        try Files.write(key, "a-secret-for-the-tests\n")
        chmod(key, 0o600)
        try route.configure("srs_key_file = \(key)\n")
        return route
    }

    @Test func aRedirectOffTheSiteRewritesTheSenderAndItsBounceReturns() throws {
        let route = try fixture()
        let result = try route.route(
            "From: a@example.net\nSubject: hello\n\nhi\n", recipient: "alias@site.example", sender: "a@example.net")
        #expect(result.status == 0, "\(result.stderr)")
        var senders: [String: String] = [:]
        for copy in try route.copies() {
            let to = RouteFixture.values("X-Postroom-Envelope-To", in: copy).first ?? ""
            senders[to] = RouteFixture.values("X-Postroom-Envelope-From", in: copy).first
        }
        // Staying on the site: the sender as it was.
        #expect(senders["<local@site.example>"] == "<a@example.net>")
        let rewritten = try #require(senders["<away@remote.example>"])
        #expect(rewritten.hasPrefix("<SRS0=") && rewritten.hasSuffix("=example.net=a@site.example>"), "\(rewritten)")

        // The remote site bounces to the SRS address: route returns it to the original sender.
        let srsAddress = String(rewritten.dropFirst().dropLast())
        let before = route.outgoing.count
        let bounce = try route.route(
            "From: MAILER-DAEMON@remote.example\nSubject: Undelivered\n\nno such user\n", recipient: srsAddress,
            sender: "")
        #expect(bounce.status == 0, "\(bounce.stderr)")
        let copies = try route.copies()
        #expect(copies.count == before + 1)
        let back = try #require(copies.first { RouteFixture.values("Delivered-To", in: $0) == [srsAddress] })
        #expect(RouteFixture.values("X-Postroom-Envelope-To", in: back) == ["<a@example.net>"])
        #expect(RouteFixture.values("X-Postroom-Envelope-From", in: back) == ["<>"])

        // A forged hash is refused: 67, and the MTA bounces (to nobody: the sender is null).
        var tampered = Array(srsAddress)
        let first = tampered.index(after: try #require(tampered.firstIndex(of: "=")))
        tampered[first] = tampered[first].lowercased() == "q" ? "Z" : "Q"
        let refused = try route.route(
            "From: x@remote.example\nSubject: s\n\nx\n", recipient: String(tampered), sender: "")
        #expect(refused.status == 67, "\(String(tampered)): \(refused.stderr)")
    }
}
