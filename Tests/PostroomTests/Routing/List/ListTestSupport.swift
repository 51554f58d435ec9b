import Foundation
import PostroomCore
import TestSupport
import Testing

/// A test double of the DMARC lookup: the policy each domain publishes.
struct FakeDMARC: DMARCPolicySource {
    var policies: [String: DMARCLookup] = [:]
    func policy(for domain: String) -> DMARCLookup { policies[domain] ?? .none }
}

/// A directory with a spool, member files and a configuration, for list handler tests.
final class ListFixture {
    let directory = TemporaryDirectory("postroom-list")
    var configuration = ""
    var dmarc: (any DMARCPolicySource)? = FakeDMARC()

    /// Writes a file under the fixture directory.
    func write(_ name: String, _ text: String) throws {
        try FileManager.default.createDirectory(
            atPath: (directory.file(name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory.file(name)))
    }

    /// Sets up unsubscribe links with a known key.
    func enableUnsubscribe(
        url: String = "https://site.example/unsubscribe?l={list}&a={address}&t={token}", mailto: String? = nil
    ) throws {
        try write("unsubscribe.key", "secret-key\n")
        chmod(directory.file("unsubscribe.key"), 0o600)
        configuration += "unsubscribe_url = \(url)\nunsubscribe_key_file = \(directory.file("unsubscribe.key"))\n"
        if let mailto { configuration += "unsubscribe_mailto = \(mailto)\n" }
    }

    func context() throws -> RouteContext {
        RouteContext(
            spool: Spool(root: directory.file("spool")), configuration: try Configuration(text: configuration),
            recipient: "S1234-students@site.example", now: Timestamp(seconds: 1_780_000_000), dmarc: dmarc)
    }

    func arguments(_ file: String = "lists/S1234-students", _ options: [String: String] = [:]) -> RuleArguments {
        RuleArguments(positional: [file], options: options, line: 3, directory: directory.path)
    }

    func handler(_ file: String = "lists/S1234-students", _ options: [String: String] = [:]) throws -> ListHandler {
        try ListHandler(arguments(file, options), context: try context())
    }

    /// Routes `text` through a list rule.
    func route(
        _ text: String, options: [String: String] = [:], file: String = "lists/S1234-students",
        recipient: String = "S1234-students@site.example", sender: String? = "teacher@school.example"
    ) throws -> RouteDecision {
        let context = try context()
        let message = try IncomingMessage(
            bytes: Array(text.utf8), recipient: recipient, sender: sender, limits: .defaults)
        return try ListHandler(arguments(file, options), context: context).route(message, context: context)
    }

    /// The copies of a `.deliver` decision (none for any other).
    func copies(
        _ text: String, options: [String: String] = [:], sender: String? = "teacher@school.example"
    ) throws
        -> [RouteCopy]
    {
        guard case .deliver(let plan) = try route(text, options: options, sender: sender) else { return [] }
        return plan.copies
    }
}

/// A standard member file and post.
enum ListSamples {
    static let members = """
        # S1234 students
        Ann Example <ann@example.org>
        bob@example.net

        "Teacher, The" <teacher@school.example>
        """

    static let post = """
        From: The Teacher <teacher@school.example>
        To: S1234-students@site.example
        Subject: Homework
        Message-ID: <post-1@school.example>
        Date: Tue, 1 Dec 2026 10:00:00 +0000

        Read chapter 3.

        """
}

extension RouteCopy {
    /// The copy parsed as a message.
    func parsed() throws -> Message { try Message(parsing: header + Array(body)) }
}

extension RouteDecision {
    var plan: RoutePlan? {
        if case .deliver(let plan) = self { return plan }
        return nil
    }
    var isPass: Bool {
        if case .pass = self { return true }
        return false
    }
    var dropReason: String? {
        if case .drop(let reason) = self { return reason }
        return nil
    }
}
