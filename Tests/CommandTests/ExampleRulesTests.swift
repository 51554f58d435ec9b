import Foundation
import Postroom
import TestSupport
import Testing

/// The rule table in examples/route, as the README and route(8) show it (the README's
/// `route --check --rules examples/route/rules`): clean under
/// `route --check` once postroom.conf names the keys its srs and unsubscribe rules need, and
/// taking the addresses its comments say it takes.
@Suite struct ExampleRulesTests {
    let directory = TemporaryDirectory("postroom-example-rules")

    static let examples = Files.repositoryPath("examples/route")

    /// route on the example table with `configuration` (lines of postroom.conf) and `arguments`.
    func route(_ arguments: [String], configuration: String = "") throws -> ProcessResult {
        let spool = try directory.spool()
        let config = directory.file("postroom.conf")
        try Files.write(config, "spool = \(spool.root)\n" + configuration)
        return try Run.program(
            "route", ["--config", config, "--rules", Self.examples + "/rules"] + arguments,
            environment: ["RECIPIENT": "", "SENDER": "", "LOCAL_PART": "", "DOMAIN": "", "LOCAL_PART_SUFFIX": ""])
    }

    func keys() throws -> String {
        var lines = ""
        for name in ["srs", "unsubscribe"] {
            let key = directory.file("\(name).key")
            try Files.write(key, Array(repeating: UInt8(ascii: "k"), count: 32))
            chmod(key, 0o600)
            lines += "\(name)_key_file = \(key)\n"
        }
        return lines + "srs_domain = site.example\n"
    }

    @Test func theTableIsCleanOnceTheKeysAreSetAndSaysWhatIsMissingBefore() throws {
        let bare = try route(["--check"])
        #expect(bare.status == 78)
        #expect(bare.stderr.contains("srs_key_file"), "\(bare.stderr)")
        #expect(bare.stderr.contains("unsubscribe_key_file"), "\(bare.stderr)")
        let configured = try route(["--check"], configuration: try keys())
        #expect(configured.status == 0, "\(configured.stdout)\(configured.stderr)")
    }

    @Test(arguments: [
        ("S1234-students@site.example", "list"), ("directors@site.example", "redirect"),
        ("alice@site.example", "alice@home.example"), ("alice+news@site.example", "alice@home.example"),
        ("nobody@site.example", "no such address here"),
    ])
    func eachAddressGoesWhereTheCommentsSay(address: String, expected: String) throws {
        let result = try route(["--explain", address], configuration: try keys())
        #expect(result.stdout.contains(expected), "\(address): \(result.stdout)\(result.stderr)")
    }
}
