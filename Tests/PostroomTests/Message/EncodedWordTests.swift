import Postroom
import Testing

@Suite struct EncodedWordTests {
    static let samples = [
        "学生の皆さん、ようこそ。夏期講座の登録が始まりました",
        "👩‍👩‍👧‍👦 family 🇺🇦🇯🇵 flags and 👍🏽 skin tones 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉",
        "Ame\u{301}lie Zoe\u{308} n\u{303} a\u{30A}\u{301}\u{323} combining marks everywhere",
        "Z\u{351}\u{36B}\u{343}\u{36A}\u{302}\u{36B}\u{33D}\u{34F}\u{334}\u{319}\u{324}\u{31E}\u{349}\u{35A}\u{32F}\u{31E}\u{320}\u{34D}A\u{36B}\u{357}\u{334}\u{362}\u{335}\u{31C}\u{330}\u{354}L\u{368}\u{367}\u{369}\u{358}\u{320}G\u{311}\u{357}\u{30E}\u{305}\u{35B}\u{341}\u{334}\u{33B}\u{348}\u{34D}\u{354}\u{339}O",
        "Ελληνικά, русский, العربية, עברית, हिन्दी, 한국어",
        "plain ascii with = and ? and _ underscores",
    ]

    @Test(arguments: samples)
    func roundTripsWithShortWordsThatNeverSplitACharacter(_ text: String) throws {
        let words = EncodedWord.encode(text)
        for word in words {
            #expect(word.utf8.count <= 75, "\(word)")
            #expect(word.hasPrefix("=?UTF-8?") && word.hasSuffix("?="))
            // Each word decodes alone to valid UTF-8: no character was split between words.
            let alone = EncodedWord.decode(word)
            #expect(!alone.contains("\u{FFFD}"), "\(word)")
        }
        #expect(EncodedWord.decode(words.joined(separator: " ")) == text)
        #expect(EncodedWord.decode(words.joined(separator: "\r\n ")) == text)
    }

    @Test(arguments: samples)
    func subjectFieldsRoundTripThroughTheParser(_ text: String) throws {
        var message = Message()
        try message.set("Subject", text)
        let raw = String(decoding: message.bytes, as: UTF8.self)
        #expect(raw.utf8.allSatisfy { $0 < 128 })
        for line in raw.split(separator: "\n") { #expect(line.utf8.count <= 78, "\(line)") }
        let reparsed = try Message(parsing: message.bytes)
        #expect(reparsed.decodedValue(of: "Subject") == text)
    }

    @Test func graphemesAreKeptWholeWhenTheyFit() {
        let family = "👩‍👩‍👧‍👦"
        let words = EncodedWord.encode(String(repeating: family, count: 6))
        for word in words {
            #expect(
                EncodedWord.decode(word).count * family.unicodeScalars.count
                    == EncodedWord.decode(word).unicodeScalars.count)
        }
    }

    @Test func decodesRFC2047Examples() {
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= Pirard") == "André Pirard")
        #expect(EncodedWord.decode("(=?ISO-8859-1?Q?a?= b)") == "(a b)")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=") == "ab")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=") == "ab")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?a_b?=") == "a b")
        #expect(EncodedWord.decode("=?US-ASCII*EN?Q?Keith_Moore?=") == "Keith Moore")
        #expect(EncodedWord.decode("=?utf-8?b?w6k=?=") == "é")
    }

    @Test func decodesOtherCharsetsThroughIconv() {
        #expect(EncodedWord.decode("=?windows-1252?Q?=80_5?=") == "€ 5")
        #expect(EncodedWord.decode("=?KOI8-R?B?8NLJ18XU?=") == "Привет")
    }

    @Test func joinsAUTF8CharacterSplitAcrossWords() {
        // "é" is C3 A9; a careless sender split it in two words.
        #expect(EncodedWord.decode("=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=") == "café")
    }

    @Test func leavesMalformedWordsAlone() {
        for text in ["=?UTF-8?X?abc?=", "=?UTF-8?Q?abc", "=??Q?abc?=", "=?UTF-8?B?***?=", "a =? b ?= c"] {
            #expect(EncodedWord.decode(text) == text)
        }
    }

    @Test func choosesTheShorterEncoding() {
        #expect(EncodedWord.encode("The student's name is José") == ["=?UTF-8?Q?The_student=27s_name_is_Jos=C3=A9?="])
        #expect(EncodedWord.encode("Café")[0].hasPrefix("=?UTF-8?B?"))
        #expect(EncodedWord.encode("学生の皆さん")[0].hasPrefix("=?UTF-8?B?"))
    }
}
