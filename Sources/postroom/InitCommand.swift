import Postroom
import PostroomCLI

/// `postroom init [DIR]`: creates the spool layout; safe to run again.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the spool directories, log and suppress files (idempotent).")

    @Argument(
        help: ArgumentHelp(
            "The spool to create (default: --spool, $POSTROOM_SPOOL, the configuration).", valueName: "dir"))
    var directory: String?

    @OptionGroup var options: SpoolOptions

    @Flag(name: .shortAndLong, help: "Print nothing when all is in place.")
    var quiet = false

    func run() throws {
        try runReportingErrors("postroom init") { () throws(PostroomError) in
            let spool = try options.configuration().spool(flag: directory ?? options.spool)
            let created = try spool.create()
            if quiet { return }
            if created.isEmpty {
                print("spool \(spool.root) is complete; nothing to do")
            } else {
                for path in created { print("created \(path)") }
            }
        }
    }
}
