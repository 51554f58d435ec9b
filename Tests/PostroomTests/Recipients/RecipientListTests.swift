import Postroom
import Testing

@Suite struct CSVReaderTests {
    func rows(_ text: String) throws -> [[String]] {
        try CSVReader(bytes: Array(text.utf8), source: "list.csv").map { try $0.get().fields }
    }

    @Test func readsQuotedFieldsEscapesAndLineBreaks() throws {
        let text =
            "\u{FEFF}email,name,note\r\na@example.org,\"Doe, John\",\"said \"\"hi\"\"\"\n\nb@example.org,Zoë,\"two\nlines\"\n"
        #expect(
            try rows(text) == [
                ["email", "name", "note"], ["a@example.org", "Doe, John", "said \"hi\""],
                ["b@example.org", "Zoë", "two\nlines"],
            ])
    }

    @Test func rowsKnowTheirLines() throws {
        let lines = try CSVReader(bytes: Array("h\n\"a\nb\"\nc\n".utf8), source: "x").map { try $0.get().line }
        #expect(lines == [1, 2, 4])
    }

    @Test func malformedRowsNameTheLine() {
        let cases = [
            ("email\n\"never closed\n", "malformed CSV at list.csv line 2: a quoted field is never closed"),
            (
                "email\nab\"c\n",
                "malformed CSV at list.csv line 2: a quote inside an unquoted field; wrap the field in quotes and double the quote"
            ),
            ("email\n\"a\"b\n", "malformed CSV at list.csv line 2: text after a closing quote"),
        ]
        for (text, message) in cases {
            let failure = CSVReader(bytes: Array(text.utf8), source: "list.csv").compactMap {
                result -> PostroomError? in
                if case .failure(let error) = result { return error }
                return nil
            }.first
            #expect(failure?.description == message)
            #expect(failure?.exitStatus == .dataError)
        }
    }
}

@Suite struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(
            Array(
                #" {"s":"a\"\\\/\n\u00e9\ud83d\ude00","i":-12,"d":1.5e2,"t":true,"f":false,"n":null,"a":[1,[]],"o":{}} "#
                    .utf8), location: "x")
        #expect(value["s"] == .string("a\"\\/\né😀"))
        #expect(value["i"] == .integer(-12))
        #expect(value["d"] == .number(150))
        #expect(value["t"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["a"] == .array([.integer(1), .array([])]))
        #expect(value["o"] == .object([]))
    }

    @Test func serializesAndParsesBack() throws {
        let value = JSONValue.object([
            ("name", .string("Zoë \"Zo\"\n")), ("n", .integer(3)), ("ok", .bool(false)), ("list", .array([.null])),
        ])
        #expect(value.serialized == #"{"name":"Zoë \"Zo\"\n","n":3,"ok":false,"list":[null]}"#)
        #expect(try JSONValue.parse(Array(value.serialized.utf8), location: "x") == value)
    }

    @Test func errorsSayWhere() {
        for (text, fragment) in [
            ("{\"a\":}", "unexpected character"), ("{\"a\":1", "not closed"), ("[1 2]", "expected ','"),
            ("\"\\ud800\"", "lone surrogate"), ("{} x", "unexpected text"), ("\"a\u{1}\"", "control character"),
        ] {
            #expect {
                _ = try JSONValue.parse(Array(text.utf8), location: "list.jsonl line 3")
            } throws: { error in
                (error as? PostroomError)?.description.contains("list.jsonl line 3") == true
                    && (error as? PostroomError)?.description.contains(fragment) == true
            }
        }
    }
}

@Suite struct RecipientTests {
    func recipients(_ text: String, _ format: RecipientList.Format) throws -> [Recipient] {
        try RecipientList(bytes: Array(text.utf8), format: format, source: "list").map { try $0.get() }
    }

    @Test func csvContactsAreNormalisedWhateverTheSpelling() throws {
        let list = try recipients(
            "email,first_name,last_name,guardian_name,guardian_email,emergency.name,emergency.email\n"
                + "s@example.org,Ada,Lovelace,Anne,anne@example.org,Bob,bob@example.org\n", .csv)
        #expect(list[0].displayName == "Ada Lovelace")
        #expect(list[0].guardian == Recipient.Contact(name: "Anne", email: "anne@example.org"))
        #expect(list[0].emergency == Recipient.Contact(name: "Bob", email: "bob@example.org"))
        #expect(list[0].record["guardian"]?["email"] == .string("anne@example.org"))
        #expect(list[0].line == 2)
    }

    @Test func jsonLinesKeepTypesAndNestedContacts() throws {
        let list = try recipients(
            #"{"email":"s@example.org","name":"Ada L.","guardian":{"name":"Anne","email":"anne@example.org"},"age":15,"is_new":true}"#
                + "\n\n" + #"{"email":"t@example.org","emergency_email":" e@example.org "}"# + "\n", .jsonLines)
        #expect(list.count == 2)
        #expect(list[0].displayName == "Ada L.")
        #expect(list[0].guardian?.email == "anne@example.org")
        #expect(list[0].record["age"] == .integer(15))
        #expect(list[1].emergency?.email == "e@example.org")
        #expect(list[1].guardian == nil)
        #expect(list[1].line == 3)
    }

    @Test func blankContactsAreAbsent() throws {
        let list = try recipients("email,guardian_name,guardian_email\ns@example.org,Anne,  \n", .csv)
        #expect(list[0].guardian == nil)
    }

    @Test func headerWithoutEmailIsRefusedBeforeAnythingIsExpanded() {
        let list = RecipientList(bytes: Array("mail,name\na@b.org,x\n".utf8), format: .csv, source: "students.csv")
        #expect {
            try list.validateHeader()
        } throws: { error in
            (error as? PostroomError)?.description
                == "malformed recipient list at students.csv line 1: the header row has no 'email' column (found: mail, name)"
        }
    }

    @Test func rowsWithTooManyFieldsAreErrors() {
        #expect(throws: PostroomError.self) { _ = try recipients("email\na@example.org,extra\n", .csv) }
    }

    @Test func formatIsDetectedFromNameThenContent() {
        #expect(RecipientList.Format.detect(fileName: "x.jsonl", bytes: []) == .jsonLines)
        #expect(RecipientList.Format.detect(fileName: "x.CSV", bytes: Array("{".utf8)) == .csv)
        #expect(RecipientList.Format.detect(fileName: "x", bytes: Array("  {\"email\":1}".utf8)) == .jsonLines)
        #expect(RecipientList.Format.detect(fileName: nil, bytes: Array("email\n".utf8)) == .csv)
    }
}

@Suite struct SendToTests {
    @Test func modesComeOutInTheFixedOrder() throws {
        #expect(try SendTo(parsing: "emergency, SELF,guardian").copies == [.self, .guardian, .emergency])
        #expect(try SendTo(parsing: "guardian").description == "guardian")
    }

    @Test func unknownModesAreUsageErrorsNamingTheValidOnes() {
        #expect {
            _ = try SendTo(parsing: "self,parents")
        } throws: { error in
            guard let error = error as? PostroomError else { return false }
            return error.exitStatus == .usage && error.description.contains("\"parents\"")
                && error.description.contains("self, guardian and emergency")
        }
        #expect(throws: PostroomError.self) { _ = try SendTo(parsing: " , ") }
    }

    @Test func suppressionAndConfigurationFilesMayHaveCRLFLineEndings() throws {
        let list = SuppressionList(text: "a@example.org\r\nb@example.org\r\n")
        #expect(list.contains("a@example.org") && list.contains("b@example.org") && list.count == 2)
        #expect(try Configuration(text: "# x\r\nspool = /srv/spool\r\n").value(Configuration.spool) == "/srv/spool")
    }

    @Test func suppressionIgnoresCaseCommentsAndTrailingNotes() {
        let list = SuppressionList(text: "# unsubscribed\nAda@Example.org 2026-11-01 one-click\n<bob@example.org>\n\n")
        #expect(list.contains("ada@example.org"))
        #expect(list.contains(" BOB@example.org"))
        #expect(!list.contains("carol@example.org"))
        #expect(list.count == 2)
    }
}

@Suite struct ExpansionTests {
    func events(_ csv: String, _ modes: String, suppress: String = "") throws -> [ExpansionEvent] {
        let list = RecipientList(bytes: Array(csv.utf8), format: .csv, source: "list.csv")
        let request = try Request(
            template: Array("From: a@example.org\nSubject: s\n\nb\n".utf8), recipients: list,
            sendTo: try SendTo(parsing: modes))
        return try request.expansion(name: "REQ", suppression: SuppressionList(text: suppress)).map { try $0.get() }
    }

    func describe(_ events: [ExpansionEvent]) -> [String] {
        events.map { event in
            switch event {
            case .job(let job):
                "job \(job.copy.rawValue) \(job.envelopeTo) \"\(job.toName)\" user=\(job.recipient["email"]?.text ?? "")"
            case .skipped(let line, let copy, let address, let reason):
                "skip \(copy.rawValue) \(address) line \(line): \(reason.rawValue)"
            }
        }
    }

    @Test func copiesFollowTheModesInOrderWithTheStudentAsUser() throws {
        let csv =
            "email,first_name,last_name,guardian_name,guardian_email,emergency_name,emergency_email\n"
            + "s@example.org,Ada,L,Anne,anne@example.org,Eve,eve@example.org\n"
        #expect(
            describe(try events(csv, "emergency,guardian,self")) == [
                "job self s@example.org \"Ada L\" user=s@example.org",
                "job guardian anne@example.org \"Anne\" user=s@example.org",
                "job emergency eve@example.org \"Eve\" user=s@example.org",
            ])
    }

    @Test func repeatedAddressesForOneRecipientAreDroppedAndTheFirstNameWins() throws {
        let csv =
            "email,first_name,guardian_name,guardian_email,emergency_name,emergency_email\n"
            + "s@example.org,Ada,Anne,anne@example.org,Anne Again,ANNE@example.org\n"
            + "anne@example.org,Sibling,,,,\n"
        #expect(
            describe(try events(csv, "self,guardian,emergency")) == [
                "job self s@example.org \"Ada\" user=s@example.org",
                "job guardian anne@example.org \"Anne\" user=s@example.org",
                "skip emergency ANNE@example.org line 2: duplicate address",
                "job self anne@example.org \"Sibling\" user=anne@example.org",
                "skip guardian  line 3: no address",
                "skip emergency  line 3: no address",
            ])
    }

    @Test func invalidAndSuppressedAddressesAreSkipped() throws {
        let csv = "email,first_name\nnot-an-address,X\nquit@example.org,Q\n,Blank\n"
        #expect(
            describe(try events(csv, "self", suppress: "QUIT@example.org\n")) == [
                "skip self not-an-address line 2: invalid address",
                "skip self quit@example.org line 3: suppressed",
                "skip self  line 4: invalid address",
            ])
    }
}
