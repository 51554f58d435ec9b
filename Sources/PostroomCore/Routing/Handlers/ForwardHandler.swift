/// `forward USERFILE [user=NAME]`: a user's own forwarding address, from a file of
/// `username address` lines (`#` comments). The user is the local part unless `user=` names one
/// (`user=$1`). A user not in the file passes the message to the next rule.
public struct ForwardHandler: RouteHandler {
    public static let name = "forward"
    public static let argumentCount = 1...1
    public static let optionNames: Set<String> = ["user"]

    private let file: String
    private let user: String?

    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] {
        guard let file = arguments.positional.first, !file.contains("$") else { return [] }
        do {
            return try UserFile.read(arguments.path(file)).problems
        } catch {
            return ["the user file: \(error.description)"]
        }
    }

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {
        file = arguments.path(arguments.positional[0])
        user = arguments.options["user"]
    }

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        let name = user ?? message.recipientParts.local
        guard FileSystem.exists(file) else { return .pass(reason: "no user file \(file)") }
        guard let target = try UserFile.read(file).addresses[name.lowercased()] else {
            return .pass(reason: "no user \"\(name)\" in \(file)")
        }
        let sender = try context.forwardingSender(message, to: target)
        let copy = try AliasCopy.make(message, to: target, from: sender, context: context, note: "forward for \(name)")
        return .deliver(RoutePlan(copies: [copy], summary: "forward for \(name) to <\(target)>"))
    }
}

/// A user file: `username address` per line, `#` comments; names are case-insensitive.
struct UserFile {
    /// Addresses by lowercased user name.
    var addresses: [String: String] = [:]
    /// Lines that are not `username address`, with their numbers.
    var problems: [String] = []

    static func read(_ path: String) throws(PostroomError) -> UserFile {
        var file = UserFile()
        var number = 0
        for line in try FileSystem.readFile(path).split(separator: 10, omittingEmptySubsequences: false) {
            number += 1
            let text = String(decoding: line, as: UTF8.self)
            let content = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if words.isEmpty { continue }
            guard words.count == 2, AddressParser.isValidAddress(words[1]) else {
                file.problems.append("\(path) line \(number): expected 'username address', found \"\(text)\"")
                continue
            }
            if file.addresses[words[0].lowercased()] == nil { file.addresses[words[0].lowercased()] = words[1] }
        }
        return file
    }
}
