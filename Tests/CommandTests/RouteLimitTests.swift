import Foundation
import Postroom
import TestSupport
import Testing

/// Malformed and oversized input: an exit code from route's table, a clear reason, the input
/// read to its end (the MTA sees it taken), and peak memory bounded by the limit, not the input.
@Suite struct RouteLimitTests {
    /// What one run under /usr/bin/time showed.
    struct Measured {
        var status: Int32
        /// The writer's exit status: 0 when route read everything, 141 (SIGPIPE) when it did not.
        var writerStatus: Int32
        /// Peak resident memory in bytes.
        var maxResident: Int
        var stderr: String
    }

    static let limit = 10_240_000

    /// A message of `header` then `bodyBytes` of body in 100-byte lines.
    static func message(header: String = "From: a@example.net\nSubject: big\n\n", bodyBytes: Int) -> [UInt8] {
        var body = [UInt8](repeating: UInt8(ascii: "y"), count: bodyBytes)
        for index in stride(from: 99, to: bodyBytes, by: 100) { body[index] = 10 }
        return Array(header.utf8) + body
    }

    /// Runs route on `input` from a file through a pipe, as an MTA's pipe does, under /usr/bin/time.
    func measure(_ route: RouteFixture, _ input: [UInt8]) throws -> Measured {
        let inputPath = route.directory.file("input")
        let timePath = route.directory.file("time")
        try Files.write(inputPath, input)
        let script = """
            cat "$1" | /usr/bin/time -f %M -o "$2" "${@:3}" 2>"$2.stderr"
            echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}"
            """
        let arguments = [
            "-c", script, "bash", inputPath, timePath, Run.binary("route"), "--spool", route.spool.root, "--rules",
            route.rules, "--config", route.config, "--recipient", "alias@site.example", "--sender", "a@example.net",
        ]
        let result = try Run.program("/bin/bash", arguments)
        let statuses = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        let timeLines = try Files.text(timePath).split(separator: "\n")
        return Measured(
            status: statuses.count == 2 ? statuses[1] : -1, writerStatus: statuses.first ?? -1,
            maxResident: (timeLines.last.flatMap { Int($0) } ?? Int.max / 1024) * 1024,
            stderr: try Files.text("\(timePath).stderr"))
    }

    @Test func aFiftyMegabyteMessageIsReadToItsEndAndRefusedInBoundedMemory() throws {
        let route = try RouteFixture(rules: ".* redirect copy@example.org\n")
        let input = Self.message(bodyBytes: 50_000_000)
        let run = try measure(route, input)
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.writerStatus == 0)
        #expect(run.stderr.contains("the message has \(input.count) bytes, over message_size_limit (10240000)"))
        #expect(run.maxResident < 3 * Self.limit, "peak \(run.maxResident) bytes")
        #expect(route.outgoing.isEmpty)
    }

    @Test func withoutALimitTheFiftyMegabyteMessageIsRoutedWhole() throws {
        let route = try RouteFixture(rules: ".* redirect copy@example.org\n")
        let input = Self.message(bodyBytes: 50_000_000)
        for setting in ["message_size_limit = 0\n", "message_size_limit = 9000000000000000000\n"] {
            try route.configure(setting)
            try? Files.remove(route.spool.root + "/route")  // the same message again, as new
            let run = try measure(route, input)
            #expect(run.status == 0, "\(setting): \(run.stderr)")
            #expect(run.writerStatus == 0)
        }
        let copies = route.outgoing
        try #require(copies.count == 2)
        let copy = try Files.read(copies[0])
        #expect(Array(RouteFixture.withoutControlFields(copy).suffix(input.count)) == input)
    }

    @Test func aOneMegabyteHeaderLineIsRefusedUnlessTheHeaderLimitIsOff() throws {
        let route = try RouteFixture(rules: ".* redirect copy@example.org\n")
        let header = "From: a@example.net\nX-Long: " + String(repeating: "z", count: 1_000_000) + "\nSubject: x\n\n"
        let input = Self.message(header: header, bodyBytes: 1000)
        let refused = try measure(route, input)
        #expect(refused.status == 65)
        #expect(
            refused.stderr.contains("header size 1000041 bytes exceeds header_size_limit 102400"), "\(refused.stderr)")
        #expect(refused.maxResident < 3 * Self.limit, "peak \(refused.maxResident) bytes")
        try route.configure("header_size_limit = 0\n")
        let accepted = try measure(route, input)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.maxResident < 3 * Self.limit, "peak \(accepted.maxResident) bytes")
    }

    @Test func tenThousandHeaderFieldsAreRefusedUnlessTheHeaderLimitIsOff() throws {
        let route = try RouteFixture(rules: ".* redirect copy@example.org\n")
        let fields = (0..<10_000).map { "X-Field-\($0): value \($0)\n" }.joined()
        let input = Array(("From: a@example.net\n" + fields + "\nbody\n").utf8)
        let refused = try measure(route, input)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("exceeds header_size_limit 102400"), "\(refused.stderr)")
        try route.configure("header_size_limit = 0\n")
        let accepted = try measure(route, input)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.maxResident < 3 * Self.limit, "peak \(accepted.maxResident) bytes")
        let copy = try #require(try route.copies().first)
        #expect(RouteFixture.values("X-Field-9999", in: copy) == ["value 9999"])
    }

    @Test(arguments: ["no separator", "NUL bytes", "one long line"])
    func largeMalformedInputExits65InBoundedMemory(kind: String) throws {
        let route = try RouteFixture(rules: ".* redirect copy@example.org\n")
        var input: [UInt8]
        switch kind {
        case "no separator":
            input = Self.message(header: "From: a@example.net\nSubject: x\n", bodyBytes: 8_000_000)
        case "NUL bytes":
            input = Self.message(bodyBytes: 8_000_000)
            for index in stride(from: 4_000_000, to: input.count, by: 4096) { input[index] = 0 }
        default:
            input = Array("From: a@example.net\n".utf8) + [UInt8](repeating: UInt8(ascii: "q"), count: 9_000_000)
        }
        let run = try measure(route, input)
        #expect(run.status == 65, "\(kind): \(run.status) \(run.stderr)")
        #expect(run.writerStatus == 0)
        #expect(run.maxResident < 3 * Self.limit, "\(kind): peak \(run.maxResident) bytes")
        #expect(route.outgoing.isEmpty)
    }
}
