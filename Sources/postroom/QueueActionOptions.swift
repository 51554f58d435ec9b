import Postroom
import PostroomCLI

/// What `hold`, `release`, `requeue` and `delete` share: the names, the spool, and the run.
struct QueueActionOptions: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "Spool file names (as 'postroom list' prints them, a :2,FLAGS suffix allowed); - reads them from standard input, one a line.",
            valueName: "name"))
    var names: [String] = []

    @OptionGroup var spoolOptions: SpoolOptions

    func validate() throws {
        guard !names.isEmpty else {
            throw ValidationError("give at least one message name, or - to read them from standard input")
        }
    }

    /// Applies `action` to every name, one line each (done on standard output, refused on standard
    /// error); exits with the highest status among the names.
    func run(_ action: QueueAction, rules: String? = nil) throws {
        let program = "postroom \(action.rawValue)"
        var worst = Sysexit.ok
        try runReportingErrors(program) { () throws(PostroomError) in
            let configuration = try spoolOptions.configuration()
            let spool = try Spool.open(configuration.spool(flag: spoolOptions.spool).root)
            let log = try SpoolLog(path: spool.logPath, program: "postroom", echo: false)
            let queue = QueueOperator(spool: spool, log: log) { () throws(PostroomError) in
                try HeldPostRelease(spool: spool, configuration: configuration, rulesFlag: rules)
            }
            func report(_ outcome: QueueOutcome) {
                if outcome.status == .ok {
                    StandardStream.write(outcome.text + "\n", to: 1)
                } else {
                    printError("\(program): \(outcome.text)")
                }
                if outcome.status.rawValue > worst.rawValue { worst = outcome.status }
            }
            var valid: [MessageName] = []
            for given in try QueueNames.parse(names, standardInput: MessageFile.readStandardInput) {
                switch given.name {
                case .success(let name): valid.append(name)
                case .failure(let error): report(QueueOutcome(error.exitStatus, error.description))
                }
            }
            try queue.perform(action, on: valid) { _, outcome in report(outcome) }
            try log.sync()
        }
        if worst != .ok { throw ExitCode(worst.rawValue) }
    }
}
