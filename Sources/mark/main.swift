import Glibc
import PostroomCore

// mark: records loopback copies, bounces and unsubscribes (postroom-mark(8)). Started once per
// returning message, so, like route, it links only the Foundation-free core.
exit(MarkCommand.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessEnvironment.current))
