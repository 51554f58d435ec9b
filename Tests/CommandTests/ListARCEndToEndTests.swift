import Foundation
import Postroom
import TestSupport
import Testing

/// A list post through both halves of ARC: `route` runs `verify` on the post and asks for a seal in
/// each copy, `deliver` seals the copies it sends. dkimpy's validator, given the keys, checks what
/// each member receives: a post that arrives unsealed, and one a forwarder sealed before.
@Suite struct ListARCEndToEndTests {
    @Test func everyMembersCopyPassesDkimpysARCValidation() throws {
        let mail = try SignedMail()
        let sealing = ARCSealingTests()
        let siteKey = try sealing.makeKey(domain: "site.example", selector: "s1")
        // The poster's domain (and the first forwarder's, for the post sealed once) publishes these.
        let posterKeys = mail.keys.records.map { ARCSealingTests.Key(flag: "", record: $0, path: "") }
        let posts: [(name: String, bytes: [UInt8], instance: Int)] = [
            ("unsealed", try mail.signedByDkimpy(Array(RouteListAuthenticationTests.post.utf8), selector: "rs"), 1),
            ("sealed once", try VerifyCommandTests.sealed(mail, times: 1), 2),
        ]
        for post in posts {
            let route = try RouteListAuthenticationTests.fixture(
                "", config: "dkim = \(siteKey.flag)\n", mail: mail)
            let routed = try RouteListAuthenticationTests.send(route, post.bytes)
            #expect(routed.status == 0, "\(post.name): \(routed.stderr)")
            // Each post's copies into a mailbox of their own.
            let delivery = ARCSealingTests()
            let (paths, _) = try delivery.deliverToMaildir(["", ""], keys: [siteKey], spool: route.spool)
            #expect(paths.count == 2, "\(post.name)")
            for path in paths {
                let text = try Files.text(path)
                #expect(text.contains("ARC-Seal: i=\(post.instance); a=rsa-sha256;"), "\(post.name): \(text)")
                let verdict = try sealing.verifyChain(path, [siteKey] + posterKeys)
                #expect(verdict.status == 0, "\(post.name): \(verdict.stdout)\(verdict.stderr)")
                #expect(
                    verdict.stdout.hasPrefix("cv=pass instances=\(post.instance)"), "\(post.name): \(verdict.stdout)")
                // And the site's seal is what makes it pass: without the site's key it fails.
                #expect(try sealing.verifyChain(path, posterKeys).status == 1, "\(post.name)")
            }
        }
    }
}
