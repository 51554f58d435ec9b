import Foundation
import Postroom
import TestSupport
import Testing

/// An MTA retries a delivery it did not see succeed: route must make each copy exactly once.
@Suite struct RouteRetryTests {
    static let rules = "^alias$ redirect one@example.org two@example.org\n"
    static let message = "From: a@example.net\nSubject: retry\nMessage-ID: <retry@example.net>\n\nBody.\n"

    @Test func theSameMessageRoutedTwiceMakesItsCopiesOnce() throws {
        let route = try RouteFixture(rules: Self.rules)
        #expect(try route.route(Self.message).status == 0)
        let first = route.outgoing
        #expect(first.count == 2)
        let again = try route.route(Self.message)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(route.outgoing == first)
        #expect(try route.log().contains("copies=0, status=routed (routed before (an MTA retry))"))
        // A different message (body), sender or recipient is another delivery.
        #expect(try route.route(Self.message + "More.\n").status == 0)
        #expect(route.outgoing.count == 4)
        #expect(try route.route(Self.message, sender: "other@example.net").status == 0)
        #expect(route.outgoing.count == 6)
    }

    @Test func aDeliveryDateThatDiffersBetweenAttemptsIsTheSameMessage() throws {
        let route = try RouteFixture(rules: Self.rules)
        let first = "Delivery-date: Tue, 01 Dec 2026 10:00:00 +0000\n" + Self.message
        let retry = "Delivery-Date: Tue, 01 Dec 2026 10:15:07 +0000\n" + Self.message
        #expect(try route.route(first).status == 0)
        #expect(try route.route(retry).status == 0)
        #expect(route.outgoing.count == 2)
        // Other fields still count: a changed Subject is a different message.
        #expect(try route.route(retry.replacing("Subject: retry", with: "Subject: retry 2")).status == 0)
        #expect(route.outgoing.count == 4)
    }

    @Test func aRetryAfterALocalFailureMakesTheCopiesOnce() throws {
        let route = try RouteFixture(rules: Self.rules)
        let records = route.spool.root + "/route"
        try Files.write(records, "in the way")
        let failed = try route.route(Self.message)
        #expect(failed.status == 75)
        #expect(route.outgoing.isEmpty)
        try Files.remove(records)
        #expect(try route.route(Self.message).status == 0)
        #expect(try route.route(Self.message).status == 0)
        #expect(route.outgoing.count == 2)
    }

    @Test func sixRoutesOfOneMessageAtOnceMakeItsCopiesOnce() throws {
        let route = try RouteFixture(rules: Self.rules)
        let input = route.directory.file("message")
        try Files.write(input, Self.message)
        // Six deliveries of the same message at the same moment, as an MTA's queue runners may start.
        let script = """
            pids=()
            for i in 1 2 3 4 5 6; do "${@:2}" < "$1" 2>/dev/null & pids+=($!); done
            for pid in "${pids[@]}"; do wait "$pid"; echo "$?"; done
            """
        let arguments = [
            "-c", script, "bash", input, Run.binary("route"), "--spool", route.spool.root, "--rules", route.rules,
            "--config", route.config, "--recipient", "alias@site.example", "--sender", "a@example.net",
        ]
        let run = try Run.program("/bin/bash", arguments)
        #expect(run.stdout == String(repeating: "0\n", count: 6), "\(run.stdout) \(run.stderr)")
        #expect(route.outgoing.count == 2)
        #expect(try route.log().components(separatedBy: "status=queued").count == 3)
    }
}
