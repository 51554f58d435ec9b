import Glibc
import PostroomCore

// route: the MTA's pipe command for incoming mail (postroom-route(8)). Links only the
// Foundation-free core, so that it starts in a few milliseconds per message.
exit(RouteCommand.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessEnvironment.current))
