import Foundation
import Postroom
import TestSupport
import Testing

/// A temporary spool, rule table and configuration file, and `route` run over them as an MTA
/// runs it: the message on standard input, the envelope in options or the environment.
final class RouteFixture {
    /// Every exit code route's contract allows (DESIGN.md: route's contract with the MTA).
    static let contractCodes: Set<Int32> = [0, 65, 67, 75, 77]

    let directory = TemporaryDirectory("route-test")
    let spool: Spool
    /// The rule table's path.
    let rules: String
    /// The configuration file's path (empty unless `configure` wrote it).
    let config: String

    init(rules text: String) throws {
        spool = try directory.spool()
        rules = directory.file("rules")
        config = directory.file("postroom.conf")
        try Files.write(rules, text)
        try Files.write(config, "")
    }

    /// Writes the configuration file.
    func configure(_ text: String) throws {
        try Files.write(config, text)
    }

    /// Runs route on `input`. `recipient` and `sender` become options unless nil; the MTA
    /// variables the test does not set are set empty, which route treats as unset.
    func route(
        _ input: [UInt8], recipient: String? = "alias@site.example", sender: String? = "poster@example.net",
        _ extra: [String] = [], environment: [String: String] = [:]
    ) throws -> ProcessResult {
        var arguments = ["--spool", spool.root, "--rules", rules, "--config", config]
        if let recipient { arguments += ["--recipient", recipient] }
        if let sender { arguments += ["--sender", sender] }
        var env: [String: String] = [:]
        for name in ["RECIPIENT", "LOCAL_PART", "LOCAL_PART_PREFIX", "LOCAL_PART_SUFFIX", "DOMAIN"] {
            env[name] = ""
        }
        for name in ["ORIGINAL_RECIPIENT", "SENDER", "POSTROOM_RULES"] { env[name] = "" }
        env.merge(environment) { $1 }
        return try Run.program("route", arguments + extra, input: input, environment: env)
    }

    /// Runs route on text.
    func route(
        _ text: String, recipient: String? = "alias@site.example", sender: String? = "poster@example.net",
        _ extra: [String] = [], environment: [String: String] = [:]
    ) throws -> ProcessResult {
        try route(Array(text.utf8), recipient: recipient, sender: sender, extra, environment: environment)
    }

    /// The paths of the files in `outgoing/new`, sorted by name (copy 1, 2, ... of a message).
    var outgoing: [String] {
        let new = spool.maildir(.outgoing).path(of: .new)
        return Files.list(new).map { "\(new)/\($0)" }
    }

    /// The copies in `outgoing/new`, as bytes.
    func copies() throws -> [[UInt8]] {
        try outgoing.map { try Files.read($0) }
    }

    /// The spool's log.
    func log() throws -> String {
        try Files.text(spool.logPath)
    }

    /// The value of every field called `name` in `bytes`' header, in order (unfolded, trimmed).
    static func values(_ name: String, in bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        var values: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                values.append(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        }
        return values
    }

    /// `bytes` without its leading `X-Postroom-` fields: the copy as `deliver` sends it.
    static func withoutControlFields(_ bytes: [UInt8]) -> [UInt8] {
        var position = 0
        while bytes[position...].starts(with: Array("X-Postroom-".utf8)) {
            guard let end = bytes[position...].firstIndex(of: 10) else { break }
            position = end + 1
        }
        return Array(bytes[position...])
    }
}

extension ProcessResult {
    /// Whether the exit code is one route may give an MTA.
    var isInRouteContract: Bool { RouteFixture.contractCodes.contains(status) }
}
