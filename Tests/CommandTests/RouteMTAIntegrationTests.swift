import Foundation
import PostroomCore
import TestSupport
import Testing

/// The real `route` behind real MTAs configured with the snippets in examples/: Exim pipes a
/// post and an alias message into route, `deliver` sends route's copies back through the same
/// Exim into its local maildir, and the test reads what each member received; the exit-code
/// contract as Exim, Postfix and procmail act on it.
@Suite struct RouteMTAIntegrationTests {
    let directory = TemporaryDirectory()
    let domain = EximTestServer.listDomain

    static let rules = """
        ^(S[0-9]+)-students$ list lists/$1-students tag=[$1] posters=anyone from_rewrite=always
        ^directors$ redirect dir1@member.test dir2@member.test
        ^echo$ redirect echo@lists.example.org
        ^nobody@mailbox.test$ redirect dir1@member.test dir2@member.test
        ^closed$ list lists/S1-students nonmembers=reject
        ^(.+)-bounces(\\+.*)?$ bounce
        ^(S[0-9]+)-pupils$ list lists/$1-pupils posters=anyone from_rewrite=always

        """

    static let post = """
        From: Ann Member <ann@member.test>
        To: S1-students@lists.example.org
        Subject: Field trip
        Date: Wed, 02 Dec 2026 08:00:00 +0000
        Message-ID: <trip-1@member.test>
        X-Postroom-Envelope-To: intruder@member.test

        Bring lunch.
        .a dot line
        From the office

        """

    static let memo = """
        From: Head <head@member.test>
        To: directors@lists.example.org
        Subject: Budget
        Date: Wed, 02 Dec 2026 09:00:00 +0000
        Message-ID: <budget-1@member.test>

        See attached numbers.

        """

    /// A site beside the test: rule table, members, unsubscribe key and postroom.conf naming
    /// them. Returns the spool's and configuration's paths; `rules` is what postroom.conf names
    /// (absent to break it). The list rewrites From always, so no DMARC lookup plays a part.
    func site(for user: String, rules: String? = nil) throws -> (spool: String, config: String) {
        let rulesPath = rules ?? directory.file("rules")
        if rules == nil { try Files.write(rulesPath, Self.rules) }
        try FileManager.default.createDirectory(atPath: directory.file("lists"), withIntermediateDirectories: true)
        try Files.write(
            directory.file("lists/S1-students"), "ann@member.test\nBo Brown <bo@member.test>\ncy@member.test\n")
        try Files.write(directory.file("lists/S2-students"), "dee@member.test\n")
        let key = directory.file("unsubscribe.key")
        try Files.write(key, "test unsubscribe secret\n")
        let config = directory.file("postroom.conf")
        try Files.write(
            config,
            """
            rules = \(rulesPath)
            unsubscribe_url = https://school.example/unsubscribe?a={address}&t={token}
            unsubscribe_key_file = \(key)

            """)
        // The MTA runs route as `user`: it reads the tables, and the key is its own (mode 600).
        _ = try Run.program("/bin/chmod", ["-R", "a+rX", directory.file("lists"), config, rulesPath])
        _ = try Run.program("/bin/chown", [user, key])
        _ = try Run.program("/bin/chmod", ["600", key])
        let spool = try directory.spool().root
        return (spool, config)
    }

    /// The first value of header field `name` in `text`.
    static func field(_ name: String, _ text: String) -> String? {
        RouteFixture.values(name, in: Array(text.utf8)).first
    }

    @Test func aListPostAndAnAliasMessageReachEachMemberOnceThroughEximRouteAndDeliver() throws {
        let (spool, config) = try site(for: "Debian-exim")
        let exim = try EximTestServer(command: Run.binary("route"), spool: spool, config: config)
        try exim.submit(from: "ann@member.test", to: ["S1-students@\(domain)"], message: Self.post)
        try exim.submit(from: "head@member.test", to: ["directors@\(domain)"], message: Self.memo)
        #expect(exim.status(of: "S1-students@\(domain)") == "delivered", "\(exim.mainLog())")
        #expect(exim.status(of: "directors@\(domain)") == "delivered", "\(exim.mainLog())")

        let sent = try Run.program(
            "deliver", ["--once", "--spool", spool, "--config", config, "--smtp", exim.url, "--tls", "off"])
        #expect(sent.stdout == "sent 4, deferred 0, failed 0\n", "\(sent.stderr)")
        let received = try exim.delivered(count: 4)
        let byMember = Dictionary(grouping: received) { Self.field("Envelope-to", $0) ?? "" }
        // One copy each; the poster gets none of her own post, the forged control field none at all.
        #expect(byMember.keys.sorted() == ["bo@member.test", "cy@member.test", "dir1@member.test", "dir2@member.test"])
        #expect(byMember.values.allSatisfy { $0.count == 1 })
        #expect(!received.contains { $0.contains("X-Postroom-") || $0.contains("intruder") })

        for member in ["bo@member.test", "cy@member.test"] {
            let copy = try #require(byMember[member]?.first)
            let (local, host) = (member.prefix { $0 != "@" }, "member.test")
            #expect(Self.field("Return-path", copy) == "<S1-students-bounces+\(local)=\(host)@\(domain)>", "\(copy)")
            #expect(Self.field("Subject", copy) == "[S1] Field trip")
            #expect(Self.field("List-Id", copy) == "<s1-students.lists.example.org>")
            #expect(Self.field("List-Post", copy) == "<mailto:S1-students@\(domain)>")
            let unsubscribe = Self.field("List-Unsubscribe", copy) ?? ""
            #expect(unsubscribe.contains("https://school.example/unsubscribe?a=\(local)%40\(host)&t="), "\(copy)")
            // From is the list's (from_rewrite=always); a plain reply still reaches the poster alone.
            #expect(Self.field("From", copy) == "\"Ann Member via S1-students\" <S1-students@\(domain)>")
            #expect(Self.field("Reply-To", copy) == "\"Ann Member\" <ann@member.test>", "\(copy)")
            #expect(Self.field("Message-ID", copy) == "<trip-1@member.test>")
            #expect(copy.hasSuffix("\n\nBring lunch.\n.a dot line\nFrom the office\n"), "\(copy)")
        }

        for director in ["dir1@member.test", "dir2@member.test"] {
            let copy = try #require(byMember[director]?.first)
            #expect(Self.field("Return-path", copy) == "<head@member.test>")
            try Self.expectAliasCopy(copy, routedFor: "directors@\(domain)", of: Self.memo)
        }
    }

    @Test func aListCopyToANonexistentUserBouncesThroughEximIntoSuppress() throws {
        let (spool, config) = try site(for: "Debian-exim")
        try Files.write(directory.file("lists/S3-pupils"), "nosuch@member.test\nbo@member.test\n")
        _ = try Run.program("/bin/chmod", ["a+r", directory.file("lists/S3-pupils")])
        // member.test has no user nosuch: Exim accepts the copy, then fails it and bounces it to
        // the copy's envelope sender, the member's VERP address, which it pipes into route.
        let exim = try EximTestServer(
            command: Run.binary("route"), spool: spool, config: config,
            routers: """
                no_such_user:
                  driver = redirect
                  domains = member.test
                  local_parts = nosuch
                  allow_fail
                  data = :fail: 550 5.1.1 <nosuch@member.test>: no such user here
                """)
        try exim.submit(
            from: "ann@member.test", to: ["S3-pupils@\(domain)"],
            message: Self.post.replacingOccurrences(of: "S1-students@", with: "S3-pupils@"))
        #expect(exim.status(of: "S3-pupils@\(domain)") == "delivered", "\(exim.mainLog())")
        let sent = try Run.program(
            "deliver", ["--once", "--spool", spool, "--config", config, "--smtp", exim.url, "--tls", "off"])
        #expect(sent.stdout == "sent 2, deferred 0, failed 0\n", "\(sent.stderr)")
        let verp = "S3-pupils-bounces+nosuch=member.test@\(domain)"
        #expect(exim.status(of: "nosuch@member.test") == "bounced", "\(exim.mainLog())")
        #expect(exim.status(of: verp) == "delivered", "\(exim.mainLog())")
        let suppress = try SuppressFile(path: "\(spool)/suppress").read()
        #expect(suppress.contains("nosuch@member.test"), "\(exim.mainLog())")
        #expect(!suppress.contains("bo@member.test"))
        let note = suppress.entries.first?.note ?? ""
        #expect(note.contains("bounced: 5.1.1"), "\(note)")
        let log = try Files.text("\(spool)/log")
        #expect(log.contains("to=<nosuch@member.test>, dsn=5.1.1, orig_to=<\(verp)>, status=bounced"), "\(log)")
        #expect(log.contains("to=<nosuch@member.test>, status=suppressed"), "\(log)")
    }

    /// `copy` is Exim's own trace fields, route's Delivered-To and X-Loop, then exactly what Exim
    /// piped into route: its first Received field and `original` byte for byte.
    static func expectAliasCopy(
        _ copy: String, routedFor address: String, of original: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let marker = "\nDelivered-To: \(address)\nX-Loop: \(address)\n"
        let range = try #require(copy.range(of: marker), "\(copy)", sourceLocation: sourceLocation)
        let above = copy[..<range.lowerBound]
        let below = copy[range.upperBound...]
        // Above them only what the second Exim added: its trace fields, continuation lines.
        let trace = ["Return-path:", "Envelope-to:", "Delivery-date:", "Received:", " ", "\t"]
        #expect(
            above.split(separator: "\n").allSatisfy { line in trace.contains { line.hasPrefix($0) } }, "\(above)",
            sourceLocation: sourceLocation)
        #expect(below.hasSuffix(original), "\(below)", sourceLocation: sourceLocation)
        // Between them only the Received field of the first hop, added before route saw it.
        let firstHop = below.dropLast(original.count)
        let lines = firstHop.split(separator: "\n")
        #expect(lines.first?.hasPrefix("Received: from ") == true, "\(firstHop)", sourceLocation: sourceLocation)
        #expect(
            lines.dropFirst().allSatisfy { $0.hasPrefix(" ") || $0.hasPrefix("\t") }, "\(firstHop)",
            sourceLocation: sourceLocation)
    }

    static let dkimScript = """
        import dkim, sys
        mode, key = sys.argv[1], open(sys.argv[2], "rb").read()
        # The message as it crosses SMTP: CRLF line ends.
        message = sys.stdin.buffer.read().replace(b"\\r\\n", b"\\n").replace(b"\\n", b"\\r\\n")
        if mode == "sign":
            signature = dkim.sign(message, b"sel", b"member.test", key, canonicalize=(b"relaxed", b"simple"))
            sys.stdout.buffer.write((signature + message).replace(b"\\r\\n", b"\\n"))
        else:
            public = b"".join(line for line in key.splitlines() if not line.startswith(b"-----"))
            def txt(name, timeout=5):
                return b"v=DKIM1; k=rsa; p=" + public if name.rstrip(b".") == b"sel._domainkey.member.test" else None
            sys.exit(0 if dkim.verify(message, dnsfunc=txt) else 1)
        """

    /// Runs the dkimpy script: `sign` prints the signed message, `verify` exits 0 when it verifies.
    func dkim(_ mode: String, _ message: String, key: String) throws -> ProcessResult {
        try Run.program("/usr/bin/python3", ["-c", Self.dkimScript, mode, key], input: Array(message.utf8))
    }

    @Test func aDKIMSignatureStillVerifiesAfterTheRedirectButNotAfterTheList() throws {
        let privateKey = directory.file("dkim.pem")
        let publicKey = directory.file("dkim.pub")
        #expect(try Run.program("/usr/bin/openssl", ["genrsa", "-out", privateKey, "2048"]).status == 0)
        #expect(
            try Run.program("/usr/bin/openssl", ["rsa", "-in", privateKey, "-pubout", "-out", publicKey]).status == 0)
        let signing = try dkim("sign", Self.memo, key: privateKey)
        #expect(signing.status == 0, "\(signing.stderr)")
        let signed = signing.stdout
        #expect(signed.hasPrefix("DKIM-Signature:"), "\(signed)")
        #expect(try dkim("verify", signed, key: publicKey).status == 0)

        let (spool, config) = try site(for: "Debian-exim")
        let exim = try EximTestServer(command: Run.binary("route"), spool: spool, config: config)
        try exim.submit(from: "head@member.test", to: ["directors@\(domain)"], message: signed)
        let toList = signed.replacingOccurrences(of: "To: directors@", with: "To: S1-students@")
        try exim.submit(from: "head@member.test", to: ["S1-students@\(domain)"], message: toList)
        #expect(exim.status(of: "directors@\(domain)") == "delivered", "\(exim.mainLog())")
        #expect(exim.status(of: "S1-students@\(domain)") == "delivered", "\(exim.mainLog())")
        let sent = try Run.program("deliver", ["--once", "--spool", spool, "--smtp", exim.url, "--tls", "off"])
        #expect(sent.stdout == "sent 5, deferred 0, failed 0\n", "\(sent.stderr)")
        let received = try exim.delivered(count: 5)
        let director = try #require(received.first { Self.field("Envelope-to", $0) == "dir1@member.test" })
        try Self.expectAliasCopy(director, routedFor: "directors@\(domain)", of: signed)
        let verified = try dkim("verify", director, key: publicKey)
        #expect(verified.status == 0, "\(verified.stderr)\n\(director)")
        // The list tags the subject: its copy does not pass for the author's signed message.
        let member = try #require(received.first { Self.field("Envelope-to", $0) == "bo@member.test" })
        #expect(Self.field("Subject", member) == "[S1] Budget")
        #expect(try dkim("verify", member, key: publicKey).status == 1)
    }

    @Test func eximKeepsMailQueuedWhileTheRuleTableIsMissingAndBouncesWhatRouteRefuses() throws {
        let rules = directory.file("rules")
        let (spool, config) = try site(for: "Debian-exim", rules: rules)
        let exim = try EximTestServer(command: Run.binary("route"), spool: spool, config: config)
        try exim.submit(from: "head@member.test", to: ["directors@\(domain)"], message: Self.memo)
        #expect(exim.status(of: "directors@\(domain)") == "deferred", "\(exim.mainLog())")
        #expect(try exim.queue().contains("directors@\(domain)"))
        #expect(exim.mainLog().contains("returned 75"), "\(exim.mainLog())")

        // The administrator restores the table; the next queue run delivers.
        try Files.write(rules, Self.rules)
        _ = try Run.program("/bin/chmod", ["a+r", rules])
        try exim.runQueue()
        #expect(exim.status(of: "directors@\(domain)") == "delivered", "\(exim.mainLog())")
        #expect(!(try exim.queue()).contains("directors@"))
        #expect(Files.list("\(spool)/outgoing/new").count == 2)

        try exim.submit(from: "head@member.test", to: ["unknown@\(domain)"], message: Self.memo)
        #expect(exim.status(of: "unknown@\(domain)") == "bounced", "\(exim.mainLog())")
        let bounce = try #require(try exim.delivered(count: 1).first)
        #expect(Self.field("Envelope-to", bounce) == "head@member.test")
        #expect(bounce.contains("no rule matches"), "\(bounce)")
        #expect(!(try exim.queue()).contains("unknown@"))

        // 77: the posting policy refuses a non-member, and the bounce says why.
        try exim.submit(from: "outsider@member.test", to: ["closed@\(domain)"], message: Self.memo)
        #expect(exim.status(of: "closed@\(domain)") == "bounced", "\(exim.mainLog())")
        let refusal = try #require(
            try exim.delivered(count: 2).first { Self.field("Envelope-to", $0) == "outsider@member.test" })
        #expect(refusal.contains("does not take posts from this address"), "\(refusal)")
        #expect(Files.list("\(spool)/outgoing/new").count == 2)
    }

    /// An alias pointing at itself: the copy goes round once through deliver and Exim, and
    /// route drops it the second time (its own X-Loop), with exit 0 so Exim sends no bounce.
    @Test func anAliasLoopingThroughEximStopsAtTheSecondPass() throws {
        let (spool, config) = try site(for: "Debian-exim")
        let exim = try EximTestServer(command: Run.binary("route"), spool: spool, config: config)
        try exim.submit(from: "head@member.test", to: ["echo@\(domain)"], message: Self.memo)
        #expect(exim.status(of: "echo@\(domain)") == "delivered", "\(exim.mainLog())")
        let sent = try Run.program("deliver", ["--once", "--spool", spool, "--smtp", exim.url, "--tls", "off"])
        #expect(sent.stdout == "sent 1, deferred 0, failed 0\n", "\(sent.stderr)")
        // Exim's second delivery to route: wait for its log line.
        let deadline = Date().addingTimeInterval(10)
        func passes() -> Int { exim.mainLog().components(separatedBy: "=> echo <echo@\(domain)>").count - 1 }
        while passes() < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(passes() == 2, "\(exim.mainLog())")
        #expect(try Files.text("\(spool)/log").contains("X-Loop: echo@\(domain) is already in the message"))
        #expect(Files.list("\(spool)/outgoing/new").isEmpty)
        #expect(try exim.delivered(waitingUpTo: 0).isEmpty && !(try exim.queue()).contains("echo@"))
    }

    @Test func postfixPipesEachAddressToRouteAndActsOnItsExitCode() throws {
        let (spool, config) = try site(for: "nobody")
        let postfix = try PostfixTestServer(command: Run.binary("route"), spool: spool, config: config)
        try postfix.submit(from: "ann@member.test", to: ["S1-students@\(domain)"], message: Self.post)
        #expect(postfix.status(of: "S1-students@\(domain)") == "sent", "\(postfix.log())")
        let outgoing = "\(spool)/outgoing/new"
        let copies = try Files.list(outgoing).map { try Files.read("\(outgoing)/\($0)") }
        #expect(
            copies.flatMap { RouteFixture.values("X-Postroom-Envelope-To", in: $0) }.sorted()
                == ["<bo@member.test>", "<cy@member.test>"])
        #expect(copies.allSatisfy { RouteFixture.values("Subject", in: $0) == ["[S1] Field trip"] })
        // deliver sends them back through the same Postfix into the members' mailbox.
        let sent = try Run.program("deliver", ["--once", "--spool", spool, "--smtp", postfix.url, "--tls", "off"])
        #expect(sent.stdout == "sent 2, deferred 0, failed 0\n", "\(sent.stderr)")
        let received = try postfix.delivered(count: 2)
        #expect(
            received.compactMap { Self.field("Delivered-To", $0) }.sorted() == ["bo@member.test", "cy@member.test"])
        for copy in received {
            let member = Self.field("Delivered-To", copy) ?? ""
            let verp = "S1-students-bounces+\(member.replacingOccurrences(of: "@", with: "="))@\(domain)"
            #expect(Self.field("Return-Path", copy) == "<\(verp)>", "\(copy)")
            #expect(Self.field("Subject", copy) == "[S1] Field trip" && !copy.contains("X-Postroom-"))
        }

        // A bounce to a list is dropped: Postfix counts it delivered, route logs why.
        try postfix.submit(
            from: "", to: ["S2-students@\(domain)"],
            message: "From: MAILER-DAEMON@member.test\nSubject: Undelivered\n\nreport\n")
        #expect(postfix.status(of: "S2-students@\(domain)") == "sent", "\(postfix.log())")
        #expect(Files.list(outgoing).isEmpty)
        #expect(try Files.text("\(spool)/log").contains("null-sender mail"))

        try postfix.submit(from: "head@member.test", to: ["unknown@\(domain)"], message: Self.memo)
        #expect(postfix.status(of: "unknown@\(domain)") == "bounced", "\(postfix.log())")
        let bounce = try #require(try postfix.delivered(count: 3).first { $0.contains("To: head@member.test") })
        #expect(bounce.contains("no rule matches"), "\(bounce)")
        #expect(!(try postfix.queue()).contains("unknown@"))
    }

    @Test func postfixKeepsMailQueuedWhileTheRuleTableIsMissing() throws {
        let (spool, config) = try site(for: "nobody", rules: directory.file("missing-rules"))
        let postfix = try PostfixTestServer(command: Run.binary("route"), spool: spool, config: config)
        try postfix.submit(from: "head@member.test", to: ["directors@\(domain)"], message: Self.memo)
        #expect(postfix.status(of: "directors@\(domain)") == "deferred", "\(postfix.log())")
        #expect(try postfix.queue().contains("\"directors@\(domain)\""))
        #expect(Files.list("\(spool)/outgoing/new").isEmpty)
    }

    @Test func procmailHandsTheAliasToRouteAndPassesItsExitCodeOn() throws {
        let (spool, config) = try site(for: "root")
        func deliver(_ message: String = Self.memo, to recipient: String, config: String) throws -> ProcessResult {
            try Procmail.deliver(
                message, command: Run.binary("route"), spool: spool, config: config,
                environment: ["RECIPIENT": recipient, "SENDER": "head@member.test"])
        }
        let delivered = try deliver(to: "directors@\(domain)", config: config)
        #expect(delivered.status == 0, "\(delivered.stderr)")
        let outgoing = "\(spool)/outgoing/new"
        let copies = try Files.list(outgoing).map { try Files.read("\(outgoing)/\($0)") }
        #expect(
            copies.flatMap { RouteFixture.values("X-Postroom-Envelope-To", in: $0) }.sorted()
                == ["<dir1@member.test>", "<dir2@member.test>"])
        // procmail's trailing empty line is part of the message route forwards.
        let expected = "Delivered-To: directors@\(domain)\nX-Loop: directors@\(domain)\n\(Self.memo)\n"
        #expect(copies.allSatisfy { RouteFixture.withoutControlFields($0) == Array(expected.utf8) })

        // Postfix's local(8) puts its own trace fields on top before it runs procmail: not a loop.
        let fromLocal =
            "Return-Path: <head@member.test>\nX-Original-To: directors@\(domain)\n"
            + "Delivered-To: directors@\(domain)\n\(Self.memo)"
        #expect(try deliver(fromLocal, to: "directors@\(domain)", config: config).status == 0)
        #expect(Files.list(outgoing).count == 4)
        // One of route's own copies coming back is: dropped with exit 0 and a log line.
        #expect(try deliver(expected, to: "directors@\(domain)", config: config).status == 0)
        #expect(Files.list(outgoing).count == 4)
        #expect(try Files.text("\(spool)/log").contains("is already in the message"))

        #expect(try deliver(to: "unknown@\(domain)", config: config).status == 67)
        let broken = directory.file("broken.conf")
        try Files.write(broken, "rules = \(directory.file("missing-rules"))\n")
        #expect(try deliver(to: "directors@\(domain)", config: broken).status == 75)
        #expect(Files.list(outgoing).count == 4)
    }

    /// Postfix's local(8) runs the procmail snippet (as mailbox_command) as the recipient's user
    /// with the envelope in its environment, after putting its own Delivered-To on top: route
    /// takes that one for the delivering MTA's, not for a loop, and the alias goes out.
    @Test func postfixLocalHandsMailToRouteThroughProcmail() throws {
        let (spool, config) = try site(for: "nobody")
        let rcfile = directory.file("procmailrc")
        try Procmail.write(rcfile, command: Run.binary("route"), spool: spool, config: config)
        _ = try Run.program("/bin/chmod", ["a+r", rcfile])
        let postfix = try PostfixTestServer(
            command: Run.binary("route"), spool: spool, config: config,
            mailboxCommand: "/usr/bin/procmail -p -m \(rcfile)")
        let address = "nobody@\(PostfixTestServer.mailboxDomain)"
        try postfix.submit(from: "head@member.test", to: [address], message: Self.memo)
        #expect(postfix.status(of: address) == "sent", "\(postfix.log())")
        let outgoing = "\(spool)/outgoing/new"
        let copies = try Files.list(outgoing).map { try Files.read("\(outgoing)/\($0)") }
        #expect(
            copies.flatMap { RouteFixture.values("X-Postroom-Envelope-To", in: $0) }.sorted()
                == ["<dir1@member.test>", "<dir2@member.test>"], "\(postfix.log())")
        for copy in copies {
            // route's two fields, then local(8)'s trace with its Delivered-To, then the message.
            #expect(RouteFixture.values("Delivered-To", in: copy) == [address, address])
            #expect(String(decoding: RouteFixture.withoutControlFields(copy), as: UTF8.self).contains(Self.memo))
        }
    }
}
