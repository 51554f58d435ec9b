// Test helper: exercises the spool from a separate process, as real stages will.
//   spool-worker claim DIR            claim everything in DIR/new, print each name won
//   spool-worker hold DIR NAME        claim NAME, print "held NAME", then sleep until killed
//   spool-worker write DIR NAME SIZE  stage a file in DIR/tmp, print "staged NAME", sleep before publishing
import Glibc
import Postroom

func say(_ line: String, to fd: Int32 = 1) { OutputStream.writeAll(Array((line + "\n").utf8), to: fd) }

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    say("usage: spool-worker claim|hold|write DIR [NAME [SIZE]]", to: 2)
    exit(64)
}
let maildir = Maildir(path: arguments[2])
do throws(PostroomError) {
    switch arguments[1] {
    case "claim":
        for claim in maildir.claims() {
            say(claim.name.fileName)
            try claim.markDone(syncing: false)
        }
    case "hold" where arguments.count >= 4:
        guard let claim = try maildir.claim(arguments[3]) else { exit(1) }
        say("held \(claim.name.fileName)")
        while true { sleep(60) }
    case "write" where arguments.count >= 5:
        let bytes = [UInt8](repeating: UInt8(ascii: "x"), count: Int(arguments[4]) ?? 100)
        let name = try maildir.stage(bytes, as: MessageName(base: arguments[3]))
        say("staged \(name.fileName)")
        sleep(3600)
        try maildir.publish(name)
    default:
        say("spool-worker: unknown command", to: 2)
        exit(64)
    }
} catch {
    say("spool-worker: \(error)", to: 2)
    exit(error.exitStatus.rawValue)
}
