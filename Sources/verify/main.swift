import Glibc
import PostroomCore
import PostroomDKIM

// verify: checks a message's DKIM signatures and ARC chain (postroom-verify(8)); route runs it
// for list posts that are sealed or must be signed, so that route itself links no crypto.
exit(VerifyCommand.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessEnvironment.current))
