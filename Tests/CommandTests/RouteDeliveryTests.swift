import Foundation
import Postroom
import TestSupport
import Testing

/// What route's handlers write: redirect keeps the message byte for byte, forward reads a user
/// file, maildir delivers an archive copy, and loops are caught.
@Suite struct RouteDeliveryTests {
    static let rules = """
        ^alias$ redirect target@example.org
        ^a$ redirect b@site.example
        ^b$ redirect a@site.example
        ^archive$ maildir archive/school
        ^user-(.*)$ forward users user=$1
        ^user-.*$ redirect fallback@example.org
        ^(.*)$ forward users
        """

    @Test func redirectKeepsEveryByteBelowItsTwoFields() throws {
        let route = try RouteFixture(rules: Self.rules)
        // 8-bit body and header, a folded field, a DKIM-like signature, a body without a last newline.
        let original: [UInt8] =
            Array("DKIM-Signature: v=1; a=rsa-sha256; d=example.net;\n\tb=AbC+/=\nFrom: Jürgen <j@example.net>\n".utf8)
            + Array("Subject: caf".utf8) + [0xe9] + Array("\nTo: alias@site.example\n\nline 1  \n\n".utf8)
            + [0xff, 0xfe, 0x80] + Array("\n.\nno newline at the end".utf8)
        let result = try route.route(original, recipient: "alias@site.example")
        #expect(result.status == 0, "\(result.stderr)")
        let copies = try route.copies()
        try #require(copies.count == 1)
        let prefix = Array("Delivered-To: alias@site.example\nX-Loop: alias@site.example\n".utf8)
        #expect(RouteFixture.withoutControlFields(copies[0]) == prefix + original)
    }

    @Test func crlfInputIsStoredWithLFAndOtherwiseUnchanged() throws {
        let route = try RouteFixture(rules: Self.rules)
        let lf: [UInt8] =
            Array("From: a@example.net\nSubject: crlf\n folded\n\nbody ".utf8) + [0xc3, 0xa9] + Array("\n\nend\n".utf8)
        var crlf: [UInt8] = []
        for byte in lf {
            if byte == 10 { crlf.append(13) }
            crlf.append(byte)
        }
        let result = try route.route(crlf, recipient: "alias@site.example")
        #expect(result.status == 0, "\(result.stderr)")
        let copy = try #require(try route.copies().first)
        #expect(!copy.contains(13))
        #expect(
            RouteFixture.withoutControlFields(copy)
                == Array("Delivered-To: alias@site.example\nX-Loop: alias@site.example\n".utf8) + lf)
    }

    @Test func mixedLineEndingsAreStoredWithLF() throws {
        let route = try RouteFixture(rules: Self.rules)
        let result = try route.route(
            "From: a@example.net\nSubject: mixed\r\n\r\nbody\r\n", recipient: "alias@site.example")
        #expect(result.status == 0, "\(result.stderr)")
        let copy = try #require(try route.copies().first)
        #expect(String(decoding: copy, as: UTF8.self).hasSuffix("\nFrom: a@example.net\nSubject: mixed\n\nbody\n"))
    }

    @Test func controlFieldsArrivingFromOutsideAreRemoved() throws {
        let route = try RouteFixture(rules: Self.rules)
        let attack = """
            X-Postroom-Envelope-To: <victim@example.com>
            From: a@example.net
            x-postroom-envelope-from: <forged@example.com>
            X-POSTROOM-ENVELOPE-TO :
             <folded-victim@example.com>
            X-Postroom-Attempts: 99
            Subject: hi

            X-Postroom-Envelope-To: <in the body, which is text>

            """
        let result = try route.route(attack, recipient: "alias@site.example")
        #expect(result.status == 0, "\(result.stderr)")
        let copy = try #require(try route.copies().first)
        #expect(RouteFixture.values("X-Postroom-Envelope-To", in: copy) == ["<target@example.org>"])
        #expect(RouteFixture.values("X-Postroom-Envelope-From", in: copy) == ["<poster@example.net>"])
        let text = String(decoding: copy, as: UTF8.self)
        #expect(!text.contains("victim@example.com>\n"))
        #expect(!text.contains("forged") && !text.contains("Attempts"))
        #expect(
            text.hasSuffix(
                "X-Loop: alias@site.example\nFrom: a@example.net\nSubject: hi\n\nX-Postroom-Envelope-To: <in the body, which is text>\n"
            ))
    }

    @Test func forwardReadsTheUserFileCaseInsensitivelyAndPassesUnknownUsers() throws {
        let route = try RouteFixture(rules: Self.rules)
        try Files.write(
            route.directory.file("users"),
            "# user  address\nAlice alice@home.example\nbob  bob@home.example # comment\n")
        let message = "From: a@example.net\nSubject: for a user\n\nHi.\n"
        let alice = try route.route(message, recipient: "user-ALICE@site.example")
        #expect(alice.status == 0, "\(alice.stderr)")
        let bob = try route.route(message, recipient: "Bob@site.example")
        #expect(bob.status == 0, "\(bob.stderr)")
        let targets = try route.copies().map { RouteFixture.values("X-Postroom-Envelope-To", in: $0) }
        #expect(Set(targets.flatMap { $0 }) == ["<alice@home.example>", "<bob@home.example>"])
        // Not in the file: the next rule takes it (line 6), or nothing does and route exits 67.
        let carol = try route.route(message, recipient: "user-carol@site.example")
        #expect(carol.status == 0, "\(carol.stderr)")
        #expect(try route.log().contains("to=<fallback@example.org>, orig_to=<user-carol@site.example>"))
        let dave = try route.route(message, recipient: "dave@site.example")
        #expect(dave.status == 67)
        #expect(dave.stderr.contains("no user \"dave\" in"), "\(dave.stderr)")
        #expect(route.outgoing.count == 3)
    }

    @Test func maildirDeliversAnArchiveCopyWithReturnPathAndDeliveredTo() throws {
        let route = try RouteFixture(rules: Self.rules)
        let message = "From: a@example.net\nSubject: archive me\n\nBody \u{e9}.\n"
        let result = try route.route(message, recipient: "Archive@site.example", sender: "")
        #expect(result.status == 0, "\(result.stderr)")
        let maildir = route.directory.file("archive/school")
        let delivered = Files.list("\(maildir)/new")
        try #require(delivered.count == 1)
        #expect(Files.list("\(maildir)/tmp").isEmpty && Files.list("\(maildir)/cur").isEmpty)
        #expect(
            try Files.text("\(maildir)/new/\(delivered[0])")
                == "Return-Path: <>\nDelivered-To: Archive@site.example\n" + message)
        #expect(route.outgoing.isEmpty)
        #expect(try route.log().contains("status=delivered (\(maildir))"))
    }

    @Test func aMaildirOnAnotherFileSystemGetsItsCopyOnce() throws {
        // /dev/shm is a tmpfs on Linux; the spool is under /tmp. Where both are one file system,
        // the rename path above already covers it.
        let shm = "/dev/shm/route-test-\(UUID().uuidString)"
        guard (try? FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: false)) != nil
        else { return }
        defer { try? FileManager.default.removeItem(atPath: shm) }
        let route = try RouteFixture(rules: "^archive$ maildir \(shm)/archive\n")
        let devices = try [route.spool.root, shm].map {
            try FileManager.default.attributesOfItem(atPath: $0)[.systemNumber] as? Int
        }
        guard devices[0] != devices[1] else { return }
        let message = "From: a@example.net\nSubject: across\n\nBody.\n"
        for _ in 0..<2 {
            let result = try route.route(message, recipient: "archive@site.example")
            #expect(result.status == 0, "\(result.stderr)")
        }
        let delivered = Files.list("\(shm)/archive/new")
        try #require(delivered.count == 1)
        #expect(Files.list("\(shm)/archive/tmp").isEmpty)
        #expect(
            try Files.text("\(shm)/archive/new/\(delivered[0])")
                == "Return-Path: <poster@example.net>\nDelivered-To: archive@site.example\n" + message)
    }

    static let looped = "From: a@example.net\nSubject: loop\n\nround and round\n"

    @Test(arguments: [
        "X-Loop: list@site.example", "Received: from a by b\nDelivered-To: <LIST@site.example>",
        "Delivered-To: list@site.example\nDelivered-To: list@site.example", "X-Loop:  List@Site.Example ",
        // Below another address's Delivered-To it is not the delivering MTA's own.
        "Delivered-To: other@site.example\nDelivered-To: list@site.example",
    ])
    func aMessageMarkedForTheRoutedAddressIsDroppedWithALogLine(field: String) throws {
        let route = try RouteFixture(rules: "^list$ redirect member@example.org\n")
        let result = try route.route(field + "\n" + Self.looped, recipient: "list@site.example")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(route.outgoing.isEmpty)
        let log = try route.log()
        #expect(log.contains("status=dropped ("), "\(log)")
        // Marked for another address only: routed.
        let other = try route.route("X-Loop: other@site.example\n" + Self.looped, recipient: "list@site.example")
        #expect(other.status == 0)
        #expect(route.outgoing.count == 1)
    }

    /// Postfix's local(8) (and pipe(8) with flag D) prepend a Delivered-To for the address just
    /// before they run route: that one is not a loop.
    @Test func theDeliveringMTAsOwnDeliveredToIsNotALoop() throws {
        let route = try RouteFixture(rules: "^list$ redirect member@example.org\n")
        let result = try route.route(
            "Return-Path: <a@example.net>\nDelivered-To: list@site.example\nX-Original-To: list@site.example\n"
                + Self.looped, recipient: "list@site.example")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(route.outgoing.count == 1)
    }

    @Test func mailLoopBounceRefusesALoopWith65() throws {
        let route = try RouteFixture(rules: "^list$ redirect member@example.org\n")
        try route.configure("mail_loop = bounce\n")
        let result = try route.route("X-Loop: list@site.example\n" + Self.looped, recipient: "list@site.example")
        #expect(result.status == 65)
        #expect(result.stderr.contains("mail loop detected: X-Loop: list@site.example"), "\(result.stderr)")
        #expect(route.outgoing.isEmpty)
    }

    @Test func twoAliasesPointingAtEachOtherStopOnTheSecondPass() throws {
        let route = try RouteFixture(rules: Self.rules)
        var input = Array(Self.looped.utf8)
        var passes: [String] = []
        for recipient in ["a@site.example", "b@site.example", "a@site.example"] {
            let before = Set(route.outgoing)
            let result = try route.route(input, recipient: recipient)
            #expect(result.status == 0, "\(result.stderr)")
            guard let copy = route.outgoing.first(where: { !before.contains($0) }) else {
                passes.append("\(recipient): no copy")
                break
            }
            passes.append("\(recipient): copy")
            // What deliver would send, as the MTA hands it back to route.
            input = RouteFixture.withoutControlFields(try Files.read(copy))
        }
        #expect(passes == ["a@site.example: copy", "b@site.example: copy", "a@site.example: no copy"])
        #expect(
            try route.log().contains(
                "to=<a@site.example>, from=<poster@example.net>, status=dropped (X-Loop: a@site.example"))
    }

    /// A capture substituted into a file argument comes from the sender's side of SMTP: a quoted
    /// local part may hold `/` and `..`: a rule whose group contains them does not match.
    @Test func aCaptureCannotTakeAMaildirOutsideItsDirectory() throws {
        let route = try RouteFixture(rules: "^(.*)$ maildir archive/$1\n")
        try FileManager.default.createDirectory(
            atPath: route.directory.file("archive"), withIntermediateDirectories: false)
        let result = try route.route(
            "From: a@example.net\nSubject: x\n\nx\n", recipient: "\"a/../../escaped\"@site.example")
        #expect(result.isInRouteContract)
        #expect(result.status == 67, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: route.directory.file("escaped\"")))
    }
}
