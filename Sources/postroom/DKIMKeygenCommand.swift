import Postroom
import PostroomCLI

/// `postroom dkim-keygen`: writes a new DKIM private key and prints the DNS record to publish.
struct DKIMKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim-keygen",
        abstract: "Create a DKIM key and print the DNS TXT record that publishes it.",
        discussion: """
            Writes the private key as PEM to --key-file (mode 600; an existing file is never \
            overwritten: exit 73) and prints the record for SELECTOR._domainkey.DOMAIN, then the \
            --dkim value and the postroom.conf line that sign with it. See postroom(8).
            """)

    @Option(help: ArgumentHelp("The signing domain (d=), normally the From domain.", valueName: "domain"))
    var domain: String

    @Option(help: ArgumentHelp("The selector (s=): a name for this key, e.g. s2026.", valueName: "selector"))
    var selector: String

    @Option(help: ArgumentHelp("rsa (rsa-sha256, the default) or ed25519 (RFC 8463).", valueName: "algorithm"))
    var algorithm: String = "rsa"

    @Option(help: ArgumentHelp("RSA key size: 2048 (the default), 3072 or 4096.", valueName: "bits"))
    var bits: Int?

    @Option(name: .customLong("key-file"), help: ArgumentHelp("Where to write the private key.", valueName: "file"))
    var keyFile: String

    func run() throws {
        try runReportingErrors("postroom dkim-keygen") { () throws(PostroomError) in
            guard let chosen = DKIMKeyGeneration.Algorithm(rawValue: algorithm.lowercased()) else {
                throw .usage("--algorithm must be rsa or ed25519, not \"\(algorithm)\"")
            }
            // Debian's list, as route and deliver read it by default (no check when it is missing).
            let suffixes = PublicSuffixList(path: Configuration.publicSuffixList.defaultValue ?? "")
            let generation = try DKIMKeyGeneration(
                domain: domain, selector: selector, algorithm: chosen, bits: bits, publicSuffixList: suffixes)
            let key = try generation.generate()
            StandardStream.write(try generation.write(key, to: keyFile), to: 1)
        }
    }
}
