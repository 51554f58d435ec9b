import Foundation
import TestSupport
import Testing

/// `make demo`, the README's first command, end to end with the built executables.
@Suite struct DemoCommandTests {
    let directory = TemporaryDirectory()

    @Test func theDemoDeliversEveryMessageIntoTheLocalMaildir() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bin = URL(fileURLWithPath: Run.binary("postroom")).deletingLastPathComponent().path
        let spool = directory.file("spool")
        let result = try Run.program(
            "/bin/bash", [root.appendingPathComponent("examples/demo.sh").path],
            environment: ["BIN": bin, "DEMO_SPOOL": spool])
        #expect(result.status == 0, "\(result.stderr)")
        let mailbox = Files.list(spool + "/mailbox/new")
        #expect(mailbox.count > 1_000)
        #expect(result.stdout.contains("sent \(mailbox.count), deferred 0, failed 0"))
        #expect(result.stdout.contains("Delivered mail:   ls \(spool)/mailbox/new        (\(mailbox.count) messages)"))
    }
}
