import Postroom
import Testing

@Suite struct MessageNameTests {
    @Test func parsesInfoSuffixAndSortsFlags() {
        let name = MessageName(fileName: "1700000000.M1P2Q3.host:2,TSF")
        #expect(name.base == "1700000000.M1P2Q3.host")
        #expect(name.flags == "FST")
        #expect(name.fileName == "1700000000.M1P2Q3.host:2,FST")
        #expect(name.adding("D").fileName == "1700000000.M1P2Q3.host:2,DFST")
        #expect(name.adding("S").flags == "FST")
        #expect(name.removing("S").fileName == "1700000000.M1P2Q3.host:2,FT")
    }

    @Test func namesWithoutInfoGainAnEmptySuffixInCur() {
        let name = MessageName(fileName: "abc")
        #expect(name.fileName == "abc")
        #expect(name.withInfo().fileName == "abc:2,")
        #expect(MessageName(fileName: "abc:2,").fileName == "abc:2,")
    }

    @Test func unknownInfoRoundTrips() {
        #expect(MessageName(fileName: "abc:1,experimental").fileName == "abc:1,experimental")
    }

    @Test func fanOutAppendsRecipientIndex() {
        let request = MessageName(fileName: "1700000000.M1P2Q3.mail.example.org:2,S")
        let job = request.child(recipientIndex: 17)
        #expect(job.fileName == "1700000000.M1P2Q3.mail.example.org.R17")
        #expect(job.recipientIndex == 17)
        #expect(request.recipientIndex == nil)
        #expect(job.createdAt == 1_700_000_000)
        #expect(MessageName(fileName: "welcome.eml").createdAt == nil)
    }

    @Test func generatorMakesUniqueNamesWithEscapedHost() {
        let generator = MessageNameGenerator(host: "a/b:c")
        #expect(generator.host == "a\\057b\\072c")
        var seen = Set<String>()
        let time = Timestamp(seconds: 1_700_000_000, microseconds: 5)
        for _ in 0..<10_000 { seen.insert(generator.next(at: time).fileName) }
        #expect(seen.count == 10_000)
        let name = generator.next(at: time)
        #expect(name.base.hasPrefix("1700000000.M5P"))
        #expect(name.base.hasSuffix(".a\\057b\\072c"))
        #expect(!name.fileName.contains(":"))
        #expect(!name.fileName.contains("/"))
    }

    @Test func messageIDLocalPartIsDotAtomAndReversible() {
        for base in ["1700000000.M5P9Q1.a\\057b\\072c.R3", ".lead", "trail.", "two..dots", "eq=sign", "sp ace", "ünï"] {
            let name = MessageName(base: base)
            let local = name.messageIDLocalPart
            #expect(local.utf8.allSatisfy { $0 < 128 && $0 > 32 && !"\\\"(),:;<>@[]".utf8.contains($0) }, "\(local)")
            #expect(!local.hasPrefix(".") && !local.hasSuffix(".") && !local.contains(".."), "\(local)")
            #expect(MessageName(messageIDLocalPart: local)?.base == base)
        }
    }

    @Test func messageIDFindsItsName() {
        let name = MessageName(base: "1700000000.M5P9Q1.host.R3")
        let id = MessageID.make(for: name, domain: "example.org")
        #expect(id == "<1700000000.M5P9Q1.host.R3@example.org>")
        #expect(MessageID.name(in: " \(id) ") == name)
        #expect(MessageID.name(in: "no brackets") == nil)
    }
}
