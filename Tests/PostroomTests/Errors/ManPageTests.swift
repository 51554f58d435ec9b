import Foundation
import Postroom
import TestSupport
import Testing

/// The documented contracts match the code.
@Suite struct ManPageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func exitStatusTableInPostroom7MatchesSysexit() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("man/man7/postroom.7"), encoding: .utf8)
        let section = try #require(
            page.components(separatedBy: ".Sh EXIT STATUS").last?.components(separatedBy: ".Sh ").first)
        var documented: [Int32: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix(".It ") {
            let words = line.split(separator: " ")
            guard words.count >= 2, let code = Int32(words[1]) else { continue }
            documented[code] = words.count >= 4 ? String(words[3]) : "EX_OK"
        }
        let actual = Dictionary(uniqueKeysWithValues: Sysexit.allCases.map { ($0.rawValue, $0.symbol) })
        #expect(documented == actual)
        // Each row says when the code is used: a secret others can read is the row of the code SecretFile exits with.
        let directory = TemporaryDirectory()
        let secret = directory.file("key")
        try Files.write(secret, "k")
        chmod(secret, 0o644)
        let status = #expect(throws: PostroomError.self) { try SecretFile.read(secret, purpose: "test key") }?
            .exitStatus
        let rows = section.components(separatedBy: ".It ").dropFirst()
        let secretRows = rows.filter { $0.contains("secret") }.map { $0.prefix { $0 != " " } }
        #expect(secretRows == [Substring(String(status?.rawValue ?? -1))])
    }

    @Test func everyConfigurationKeyIsDocumented() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("man/man5/postroom.conf.5"), encoding: .utf8)
        for key in Configuration.knownKeys {
            #expect(page.contains(".It Cm \(key.name) No = "), "\(key.name)")
            if let variable = key.environment { #expect(page.contains(".Ev \(variable)"), "\(variable)") }
        }
    }

    @Test func everyControlHeaderIsDocumented() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("man/man7/postroom.7"), encoding: .utf8)
        for header in ControlHeader.allCases {
            #expect(page.contains(".It Ql \(header.rawValue)"), "\(header.rawValue)")
        }
    }
}
