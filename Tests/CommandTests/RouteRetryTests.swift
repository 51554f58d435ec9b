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
}
