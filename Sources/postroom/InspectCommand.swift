import Postroom
import PostroomCLI

/// `postroom inspect [FILE...]`: checks messages and shows their decoded header.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Check that messages parse and show their header decoded.",
        discussion: """
            Encoded words and X-Postroom- control fields are decoded. With no FILE, reads \
            standard input. Exits 65 if any message is malformed (a message that failed/ keeps \
            unparsed still shows its failure fields), 66 if a file cannot be read.
            """)

    @Argument(help: ArgumentHelp("Message files, for example spool/failed/cur/NAME.", valueName: "file"))
    var files: [String] = []

    func run() throws {
        // Every file is reported; the exit code is the first failure's.
        var status = Sysexit.ok
        let sources = files.isEmpty ? ["-"] : files
        for path in sources {
            var bytes: [UInt8] = []
            do throws(PostroomError) {
                bytes = path == "-" ? try MessageFile.readStandardInput() : try MessageFile.read(path)
                let message = try Message(parsing: bytes, source: path == "-" ? "standard input" : path)
                if sources.count > 1 { StandardStream.write("==> \(path) <==\n", to: 1) }
                StandardStream.write(message.inspection, to: 1)
            } catch {
                // A poison message in failed/: its reason is in the fields put in front of it.
                if let shown = Message.inspection(ofUnparsable: bytes, error: error) {
                    if sources.count > 1 { StandardStream.write("==> \(path) <==\n", to: 1) }
                    StandardStream.write(shown, to: 1)
                }
                printError("postroom inspect: \(error.description)")
                if status == .ok { status = error.exitStatus }
            }
        }
        if status != .ok { throw ExitCode(status.rawValue) }
    }
}
