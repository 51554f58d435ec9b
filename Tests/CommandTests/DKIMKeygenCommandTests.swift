import Foundation
import TestSupport
import Testing

/// `postroom dkim-keygen`, run as a process; its keys checked by OpenSSL and dkimpy.
@Suite struct DKIMKeygenCommandTests {
    let directory = TemporaryDirectory("postroom-keygen")

    static var checker: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/dkim_keygen_check.py").path
    }

    func keygen(_ arguments: [String]) throws -> ProcessResult {
        try Run.program("postroom", ["dkim-keygen"] + arguments)
    }

    /// The record's value: the quoted strings of its non-comment lines, joined.
    static func recordValue(_ output: String) -> String {
        let zone = output.split(separator: "\n").filter { !$0.hasPrefix(";") }.joined(separator: "\n")
        return zone.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map(\.element).joined()
    }

    /// The key's public half as OpenSSL prints it (SubjectPublicKeyInfo DER, base64).
    func opensslPublicKey(_ keyFile: String) throws -> [UInt8] {
        let der = directory.file("public.der")
        let result = try Run.program(
            "/usr/bin/openssl", ["pkey", "-in", keyFile, "-pubout", "-outform", "DER", "-out", der])
        #expect(result.status == 0, "\(result.stderr)")
        return try Files.read(der)
    }

    @Test(arguments: [("rsa", 2048), ("rsa", 3072), ("ed25519", 0)])
    func writesAKeyOpenSSLReadsAndTheRecordThatPublishesIt(algorithm: String, bits: Int) throws {
        let keyFile = directory.file("\(algorithm)\(bits).key")
        var arguments = [
            "--domain", "example.org", "--selector", "s2026", "--algorithm", algorithm, "--key-file", keyFile,
        ]
        if bits > 0 { arguments += ["--bits", "\(bits)"] }
        let result = try keygen(arguments)
        #expect(result.status == 0, "\(result.stderr)")

        var info = stat()
        #expect(stat(keyFile, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let parsed = try Run.program("/usr/bin/openssl", ["pkey", "-in", keyFile, "-noout"])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let pem = try Files.text(keyFile)
        #expect(pem.hasPrefix(algorithm == "rsa" ? "-----BEGIN RSA PRIVATE KEY-----" : "-----BEGIN PRIVATE KEY-----"))

        // Every string of the record fits in one TXT string (255 bytes), and the value names the key type.
        #expect(result.stdout.hasPrefix("s2026._domainkey.example.org. IN TXT "))
        let value = Self.recordValue(result.stdout)
        #expect(value.hasPrefix("v=DKIM1; k=\(algorithm); p="))
        let strings = result.stdout.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map(\.element)
        #expect(strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(strings.count == (value.utf8.count + 254) / 255)
        #expect(strings.count > 1 || algorithm == "ed25519")

        // p= is the public key OpenSSL derives from the written private key.
        let published = try #require(Data(base64Encoded: String(value.dropFirst("v=DKIM1; k=\(algorithm); p=".count))))
        let derived = try opensslPublicKey(keyFile)
        // Ed25519's p= is the raw key (RFC 8463): the last 32 bytes of the SubjectPublicKeyInfo.
        #expect(Array(published) == (algorithm == "rsa" ? derived : Array(derived.suffix(32))))

        #expect(result.stdout.contains("deliver --dkim example.org:s2026:\(keyFile)\n"))
        #expect(result.stdout.contains("dkim = example.org:s2026:\(keyFile)\n"))
    }

    @Test(arguments: ["rsa", "ed25519"])
    func aMessageDkimpySignsWithTheKeyVerifiesAgainstThePrintedRecord(algorithm: String) throws {
        let keyFile = directory.file("\(algorithm).key")
        let result = try keygen([
            "--domain", "example.org", "--selector", "s1", "--algorithm", algorithm, "--key-file", keyFile,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        try Files.write(directory.file("record.txt"), result.stdout)
        let check = try Run.program(
            "/usr/bin/python3", [Self.checker, keyFile, directory.file("record.txt"), algorithm])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout == "verified\n")

        // The check can fail: another key's record does not verify this key's signature.
        let other = try keygen([
            "--domain", "example.org", "--selector", "s1", "--algorithm", algorithm, "--key-file",
            directory.file("other.key"),
        ])
        try Files.write(directory.file("other.txt"), other.stdout)
        let mismatch = try Run.program(
            "/usr/bin/python3", [Self.checker, keyFile, directory.file("other.txt"), algorithm])
        #expect(mismatch.status == 1)
    }

    @Test func neverWritesOverAnExistingFile() throws {
        let keyFile = directory.file("existing.key")
        try Files.write(keyFile, "precious\n")
        let result = try keygen(["--domain", "example.org", "--selector", "s1", "--key-file", keyFile])
        #expect(result.status == 73)
        #expect(result.stderr.contains("never written over"))
        #expect(result.stdout.isEmpty)
        #expect(try Files.text(keyFile) == "precious\n")
    }

    @Test(arguments: [
        ["--domain", "exa_mple.org", "--selector", "s1"], ["--domain", "example..org", "--selector", "s1"],
        ["--domain", "-example.org", "--selector", "s1"], ["--domain", "example.org", "--selector", "s 1"],
        ["--domain", "example.org", "--selector", ""],
        ["--domain", "example.org", "--selector", "s1", "--bits", "1024"],
        ["--domain", "example.org", "--selector", "s1", "--bits", "2500"],
        ["--domain", "example.org", "--selector", "s1", "--algorithm", "ed25519", "--bits", "2048"],
        ["--domain", "example.org", "--selector", "s1", "--algorithm", "dsa"],
        // Public suffixes: no receiver aligns a From domain with a signature by them.
        ["--domain", "org", "--selector", "s1"], ["--domain", "co.uk", "--selector", "s1"],
        ["--domain", "github.io", "--selector", "s1"],
    ])
    func refusesBadNamesAndWeakKeysWithUsage(arguments: [String]) throws {
        let keyFile = directory.file("refused.key")
        let result = try keygen(arguments + ["--key-file", keyFile])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: keyFile))
    }
}
