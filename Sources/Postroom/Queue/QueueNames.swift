/// The message names a queue command was given: its arguments, where `-` stands for the lines of
/// standard input.
public enum QueueNames {
    /// One name as given, and the name it is, or why it is none (exit 65 for that name).
    public typealias Given = (text: String, name: Result<MessageName, PostroomError>)

    /// The names in `arguments`, reading `standardInput` in place of `-` (once).
    ///
    /// A line of standard input is a name, or a JSON object with a `name` member (a line of
    /// `postroom list --json`); blank lines are skipped.
    public static func parse(
        _ arguments: [String], standardInput: () throws(PostroomError) -> [UInt8]
    ) throws(PostroomError) -> [Given] {
        var names: [Given] = []
        var readInput = false
        for argument in arguments {
            guard argument == "-" else {
                names.append((argument, Result { () throws(PostroomError) in try MessageName(operatorName: argument) }))
                continue
            }
            guard !readInput else { continue }
            readInput = true
            for line in try standardInput().split(separator: 10, omittingEmptySubsequences: true) {
                var bytes = line[...]
                while let last = bytes.last, last == 13 || last == 32 || last == 9 { bytes.removeLast() }
                while let first = bytes.first, first == 32 || first == 9 { bytes.removeFirst() }
                if bytes.isEmpty { continue }
                let text = String(decoding: bytes, as: UTF8.self)
                names.append((text, Result { () throws(PostroomError) in try name(fromLine: bytes, text: text) }))
            }
        }
        return names
    }

    /// The name on one line of standard input.
    static func name(fromLine bytes: ArraySlice<UInt8>, text: String) throws(PostroomError) -> MessageName {
        guard bytes.first == UInt8(ascii: "{") else { return try MessageName(operatorName: text) }
        let object = try JSONValue.parse(bytes, location: "standard input")
        guard case .string(let name)? = object["name"] else {
            throw .malformed(
                what: "name", location: "standard input",
                reason: "a JSON line without a \"name\" string (as 'postroom list --json' writes them)")
        }
        return try MessageName(operatorName: name)
    }
}
