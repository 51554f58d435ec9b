import Foundation
import Postroom
import TestSupport
import Testing

/// Every message of CPython's email test data and of Tests/Fixtures/corpus through route with a
/// catch-all rule: no crash, an exit code from route's table, and each copy (as deliver sends it)
/// read by Python's email package with no more defects than the original.
@Suite struct RouteCorpusTests {
    /// Catch-all tables, one run of the corpus each: the rules, and files to write beside them
    /// (a list's members, say), by name.
    static let catchAllTables: [String: (rules: String, files: [String: String])] = [
        "redirect": (".* redirect copy@example.org\n", [:])
    ]

    /// The corpus files: CPython's `test_email/data` (images and sounds included, as garbage to
    /// refuse) and ours.
    static func corpus() throws -> [String] {
        let python = try Run.program(
            "/usr/bin/env",
            ["python3", "-c", "import test.test_email, os; print(os.path.dirname(test.test_email.__file__))"])
        let cpython = result(python).trimmingCharacters(in: .whitespacesAndNewlines) + "/data"
        let ours = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/corpus").path
        return [cpython, ours].flatMap { directory in Files.list(directory).map { "\(directory)/\($0)" } }
    }

    private static func result(_ run: ProcessResult) -> String { run.status == 0 ? run.stdout : "" }

    /// Defect names per file, from Tests/Scripts/email_defects.py.
    static func defects(_ paths: [String], stripControl: Bool = false) throws -> [String: [String]] {
        let script = URL(fileURLWithPath: Files.pythonEmailChecker).deletingLastPathComponent()
            .appendingPathComponent("email_defects.py").path
        let run = try Run.program(
            "/usr/bin/env", ["python3", script] + (stripControl ? ["--strip-control"] : []) + paths)
        #expect(run.status == 0, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
        return object.mapValues { ($0 as? [String]) ?? ["\($0)"] }
    }

    @Test(arguments: catchAllTables.keys.sorted())
    func theCorpusRoutesWithoutNewDefects(table: String) throws {
        let files = try Self.corpus()
        #expect(files.count > 60, "\(files.count) files")
        #expect(files.contains { $0.hasSuffix("/msg_01.txt") } && files.contains { $0.hasSuffix("/dkim-signed.eml") })
        var routed: [(original: String, copies: [String])] = []
        var statuses: [String: Int] = [:]
        for file in files {
            // A spool each: copies are told apart by the spool they are in.
            let setup = try #require(Self.catchAllTables[table])
            let route = try RouteFixture(rules: setup.rules)
            for (name, text) in setup.files { try Files.write(route.directory.file(name), text) }
            let result = try route.route(try Files.read(file), recipient: "list@site.example")
            let name = URL(fileURLWithPath: file).lastPathComponent
            #expect(result.isInRouteContract, "\(name): exit \(result.status) \(result.stderr)")
            statuses["\(result.status)", default: 0] += 1
            guard result.status == 0 else {
                #expect(!result.stderr.isEmpty, "\(name): refused without a reason")
                continue
            }
            // Keep the copies past the fixture's lifetime, for the one Python run below.
            let kept = try route.outgoing.enumerated().map { index, path in
                let target = Self.keep.file("\(table)-\(name)-\(index)")
                try Files.write(target, try Files.read(path))
                return target
            }
            #expect(!kept.isEmpty, "\(name): exit 0 without a copy")
            routed.append((file, kept))
        }
        // Only messages that are not one (a missing separator, images, sounds) are refused.
        #expect(routed.count >= files.count - 22, "\(statuses)")
        let originals = try Self.defects(routed.map(\.original))
        let copies = try Self.defects(routed.flatMap(\.copies), stripControl: true)
        #expect(originals.count == routed.count && copies.count == routed.flatMap(\.copies).count)
        for (original, copyPaths) in routed {
            let before = originals[original] ?? ["missing"]
            for copy in copyPaths {
                let after = copies[copy] ?? ["missing"]
                #expect(
                    after.count <= before.count && Set(after).isSubset(of: Set(before)),
                    "\(original): \(before) became \(after)")
            }
        }
    }

    private static let keep = TemporaryDirectory("route-corpus")
}
