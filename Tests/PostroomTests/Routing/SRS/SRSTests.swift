import Glibc
import PostroomCore
import TestSupport
import Testing

@Suite struct SRSTests {
    static let key = Array("tops3cret".utf8)
    /// 2026-12-01, day 20788 since the epoch (308 modulo 1024: "JU").
    static let day = Timestamp(seconds: 20788 * 86400 + 3600)

    static func srs(keys: [[UInt8]] = [key]) throws -> SRS {
        try SRS(keys: keys, domain: "srs.example.org")
    }

    static func later(days: Int) -> Timestamp { Timestamp(seconds: day.seconds + days * 86400) }

    /// Addresses Debian's postsrsd 1.10 wrote with the key "tops3cret" and domain srs.example.org
    /// on 2026-12-01 (`get alice@example.com` on its forward port, and so on).
    @Test func writesWhatPostsrsdWrites() throws {
        let srs = try Self.srs()
        #expect(
            srs.forward(sender: "alice@example.com", now: Self.day) == "SRS0=9LDO=JU=example.com=alice@srs.example.org")
        #expect(
            srs.forward(sender: "SRS0=abcd=AB=example.com=alice@other.net", now: Self.day)
                == "SRS1=rz4u=other.net==abcd=AB=example.com=alice@srs.example.org")
    }

    @Test func reversesWhatPostsrsdWrites() throws {
        let srs = try Self.srs()
        #expect(
            try srs.reverse(address: "SRS0=9LDO=JU=example.com=alice@srs.example.org", now: Self.day)
                == "alice@example.com")
        #expect(
            try srs.reverse(address: "SRS1=rz4u=other.net==abcd=AB=example.com=alice@srs.example.org", now: Self.day)
                == "SRS0=abcd=AB=example.com=alice@other.net")
    }

    @Test func roundTripsKeepingTheLocalPartsCase() throws {
        let srs = try Self.srs()
        for sender in ["Alice.Smith@Example.COM", "a=b+c@example.com", "x@sub.example.co.uk"] {
            let address = srs.forward(sender: sender, now: Self.day)
            #expect(address.hasPrefix("SRS0="))
            #expect(address.hasSuffix("@srs.example.org"))
            #expect(try srs.reverse(address: address, now: Self.later(days: 3)) == sender)
        }
    }

    @Test func theHashIsCheckedCaseInsensitivelyAsPostsrsdDoes() throws {
        let srs = try Self.srs()
        let upper = "SRS0=9LDO=JU=example.com=alice@srs.example.org".uppercased()
        #expect(try srs.reverse(address: upper, now: Self.day) == "ALICE@EXAMPLE.COM")
        #expect(
            try srs.reverse(address: "srs0=9ldo=ju=example.com=alice@srs.example.org", now: Self.day)
                == "alice@example.com")
    }

    @Test func aForgedAddressIsRefused() throws {
        let srs = try Self.srs()
        let cases = [
            "SRS0=9LDP=JU=example.com=alice@srs.example.org",  // another hash
            "SRS0=9LDO=JU=example.com=mallory@srs.example.org",  // another sender
            "SRS0=9LDO=JU=example.net=alice@srs.example.org",  // another domain
            "SRS0=9LD=JU=example.com=alice@srs.example.org",  // a short hash
            "SRS0=9LDOX=JU=example.com=alice@srs.example.org",  // a long one
            "SRS1=rz4v=other.net==abcd=AB=example.com=alice@srs.example.org",
        ]
        for address in cases {
            #expect(throws: SRSError.forged(address)) { try srs.reverse(address: address, now: Self.day) }
        }
        // Another key's addresses are forgeries here.
        let other = try SRS(keys: [Array("another key".utf8)], domain: "srs.example.org")
        #expect(throws: SRSError.self) {
            try other.reverse(address: "SRS0=9LDO=JU=example.com=alice@srs.example.org", now: Self.day)
        }
    }

    @Test func addressesExpireAfter21Days() throws {
        let srs = try Self.srs()
        let address = "SRS0=9LDO=JU=example.com=alice@srs.example.org"
        #expect(try srs.reverse(address: address, now: Self.later(days: 21)) == "alice@example.com")
        #expect(throws: SRSError.expired(address, maximumAge: 21)) {
            try srs.reverse(address: address, now: Self.later(days: 22))
        }
        // A stamp from tomorrow is one from 1023 days ago.
        #expect(throws: SRSError.expired(address, maximumAge: 21)) {
            try srs.reverse(address: address, now: Self.later(days: -1))
        }
        // The day counter wraps every 1024 days; a stamp from before the wrap is still read.
        let beforeWrap = Timestamp(seconds: 1023 * 86400)
        let wrapped = srs.forward(sender: "bob@example.com", now: beforeWrap)
        #expect(try srs.reverse(address: wrapped, now: Timestamp(seconds: (1024 + 2) * 86400)) == "bob@example.com")
        #expect(SRSError.expired(address, maximumAge: 21).description.contains("21 days"))
    }

    @Test func malformedAndOrdinaryAddresses() throws {
        let srs = try Self.srs()
        #expect(throws: SRSError.notSRS("alice@example.com")) { try srs.reverse(address: "alice@example.com") }
        #expect(throws: SRSError.notSRS("SRS2=x@srs.example.org")) {
            try srs.reverse(address: "SRS2=x@srs.example.org")
        }
        for address in ["SRS0=9LDO=JU=example.com@srs.example.org", "SRS0=@srs.example.org", "SRS1=x@y"] {
            #expect {
                try srs.reverse(address: address, now: Self.day)
            } throws: { error in
                if case .malformed = error as? SRSError { return true }
                return false
            }
        }
        #expect(throws: SRSError.self) { try srs.reverse(address: "SRS0=9LDO=J!=example.com=alice@x", now: Self.day) }
    }

    @Test func sendersThatStayAsTheyAre() throws {
        let srs = try Self.srs()
        // This SRS domain's own senders, and senders without a domain, as in postsrsd.
        #expect(srs.forward(sender: "list-bounces@SRS.example.org", now: Self.day) == "list-bounces@SRS.example.org")
        #expect(srs.forward(sender: "postmaster", now: Self.day) == "postmaster")
        #expect(srs.forward(sender: "SRS1=broken@other.net", now: Self.day) == "SRS1=broken@other.net")
    }

    @Test func anSRS1AddressIsResignedForTheFirstForwarder() throws {
        let srs = try Self.srs()
        let resigned = srs.forward(
            sender: "SRS1=XXXX=first.example==abcd=AB=example.com=alice@second.example", now: Self.day)
        #expect(resigned.hasPrefix("SRS1="))
        #expect(resigned.hasSuffix("=first.example==abcd=AB=example.com=alice@srs.example.org"))
        #expect(try srs.reverse(address: resigned, now: Self.day) == "SRS0=abcd=AB=example.com=alice@first.example")
    }

    @Test func everyKeyVerifiesAndTheFirstSigns() throws {
        let old = try SRS(keys: [Array("old".utf8)], domain: "srs.example.org")
        let rotated = try SRS(keys: [Array("new".utf8), Array("old".utf8)], domain: "srs.example.org")
        let fromOld = old.forward(sender: "alice@example.com", now: Self.day)
        #expect(try rotated.reverse(address: fromOld, now: Self.day) == "alice@example.com")
        #expect(rotated.forward(sender: "alice@example.com", now: Self.day) != fromOld)
    }

    @Test func theKeyFileIsPostsrsdsAndMustBePrivate() throws {
        let directory = TemporaryDirectory("srs")
        let path = directory.file("srs.secret")
        try Files.write(path, "new key\r\nold key\n\n")
        chmod(path, 0o600)
        let configuration = try Configuration(text: "srs_key_file = \(path)")
        let srs = try #require(try SRS.configured(configuration, defaultDomain: "lists.example.org"))
        #expect(srs.keys == [Array("new key".utf8), Array("old key".utf8)])
        #expect(srs.domain == "lists.example.org")
        let named = try Configuration(text: "srs_key_file = \(path)\nsrs_domain = srs.example.org")
        #expect(try SRS.configured(named, defaultDomain: "lists.example.org")?.domain == "srs.example.org")
        #expect(try SRS.configured(Configuration(text: ""), defaultDomain: "x.example") == nil)
        chmod(path, 0o644)
        #expect {
            _ = try SRS.configured(configuration, defaultDomain: "lists.example.org")
        } throws: { error in
            (error as? PostroomError)?.description.contains("chmod 600") == true
        }
    }
}
