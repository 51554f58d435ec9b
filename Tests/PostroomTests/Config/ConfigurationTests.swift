import Postroom
import TestSupport
import Testing

@Suite struct ConfigurationTests {
    @Test func readsKeysAndIgnoresComments() throws {
        let config = try Configuration(text: "# postroom\n\n  spool=/srv/spool   # trailing comment\n")
        #expect(config.value(Configuration.spool) == "/srv/spool")
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let file = try Configuration(text: "spool = /from/file", environment: ["POSTROOM_SPOOL": "/from/env"])
        #expect(file.value(Configuration.spool, flag: "/from/flag") == "/from/flag")
        #expect(file.value(Configuration.spool) == "/from/env")
        #expect(try Configuration(text: "spool = /from/file").value(Configuration.spool) == "/from/file")
        #expect(try Configuration(text: "").value(Configuration.spool) == "/var/spool/postroom")
    }

    @Test func mistakesAreReportedWithTheirLine() {
        let cases = [
            ("spol = /x", "line 1: unknown key \"spol\""), ("\nspool /x", "line 2: expected 'key = value'"),
            ("spool = a\nspool = b", "line 2: \"spool\" is set twice"),
        ]
        for (text, fragment) in cases {
            #expect {
                _ = try Configuration(text: text)
            } throws: { error in
                guard let error = error as? PostroomError else { return false }
                return error.exitStatus == .config && error.description.contains(fragment)
            }
        }
    }

    @Test func aNamedFileThatIsMissingIsAConfigurationError() {
        #expect {
            _ = try Configuration(path: "/nonexistent/postroom.conf", environment: [:])
        } throws: { error in
            (error as? PostroomError)?.exitStatus == .config
        }
    }

    @Test func environmentNamesTheFile() throws {
        let directory = TemporaryDirectory()
        try Files.write(directory.file("p.conf"), "spool = /env/file\n")
        let config = try Configuration(environment: ["POSTROOM_CONFIG": directory.file("p.conf")])
        #expect(config.spool().root == "/env/file")
    }
}
