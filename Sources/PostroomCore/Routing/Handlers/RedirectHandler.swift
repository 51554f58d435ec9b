/// `redirect ADDR...`: the message goes on unchanged to each address; only the envelope changes.
public struct RedirectHandler: RouteHandler {
    public static let name = "redirect"
    public static let argumentCount = 1...Int.max

    private let targets: [String]

    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] {
        arguments.positional.filter { !$0.contains("$") && !AddressParser.isValidAddress($0) }.map {
            "\"\($0)\" is not an address"
        }
    }

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {
        for target in arguments.positional where !AddressParser.isValidAddress(target) {
            throw .configuration(
                location: "rule table line \(arguments.line)", reason: "redirect to \"\(target)\": not an address")
        }
        targets = arguments.positional
    }

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        var copies: [RouteCopy] = []
        var seen = Set<String>()
        for target in targets where seen.insert(target.lowercased()).inserted {
            let sender = try context.forwardingSender(message, to: target)
            copies.append(try AliasCopy.make(message, to: target, from: sender, context: context, note: "redirect"))
        }
        return .deliver(RoutePlan(copies: copies, summary: "redirect to \(seen.count) address(es)"))
    }
}
