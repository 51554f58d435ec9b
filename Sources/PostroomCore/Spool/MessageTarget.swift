/// A message as a command line names it: a file, or the name of a message in the spool
/// (`postroom lint`, `deliver --dry-run`).
public enum MessageTarget {
    /// The path of the message `target` names. `-` is standard input (returned as is); a target
    /// with a `/`, or naming an existing file, is a path; anything else is a spool name (as
    /// `postroom list` prints it), looked up in the queues as the queue commands do. A name found
    /// nowhere is `.missingInput` (exit 66).
    public static func path(
        of target: String, spool: () throws(PostroomError) -> Spool
    ) throws(PostroomError)
        -> String
    {
        if target == "-" || target.utf8.contains(UInt8(ascii: "/")) || FileSystem.exists(target) { return target }
        let name = try MessageName(operatorName: target)
        let opened = try spool()
        guard let location = try opened.locate([name])[name.base] else {
            throw .missingInput(
                path: target, reason: "no such file, and no message of that name in the spool \(opened.root)")
        }
        return opened.maildir(location.queue).path(of: location.name, in: location.folder)
    }
}
