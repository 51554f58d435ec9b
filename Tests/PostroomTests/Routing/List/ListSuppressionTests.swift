import Foundation
import PostroomCore
import TestSupport
import Testing

/// A list post skips members suppressed everywhere or for that list, and no others.
@Suite struct ListSuppressionTests {
    @Test func membersSuppressedGloballyOrForThisListGetNoCopy() throws {
        let fixture = ListFixture()
        try fixture.write(
            "lists/S1234-students",
            "ann@example.org\nbob@example.net\ncy@example.org\ndee@example.org\nteacher@school.example\n")
        try fixture.write(
            "spool/suppress",
            """
            # one for this list, one for all mail, one for another list
            Bob@Example.net list=s1234-students@SITE.example 2026-12-01 unsubscribed
            cy@example.org 2026-12-01 bounced
            dee@example.org list=s9-students@site.example 2026-12-01 unsubscribed

            """)
        let decision = try fixture.route(ListSamples.post)
        let plan = try #require(decision.plan)
        #expect(plan.copies.map { $0.envelope.recipients[0] } == ["ann@example.org", "dee@example.org"])
        #expect(plan.summary == "list lists/S1234-students: 2 copies; 2 suppressed")
    }

    @Test func aListWhoseMembersAreAllSuppressedDropsThePostWithAReason() throws {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", "ann@example.org\nteacher@school.example\n")
        try fixture.write("spool/suppress", "ann@example.org list=S1234-students@site.example\n")
        #expect(try fixture.route(ListSamples.post).dropReason?.hasSuffix("; 1 suppressed") == true)
    }
}
