import Stencil

/// One piece of template text (a Subject, a text part, an HTML part), parsed once with
/// Stencil's Django syntax and rendered for many recipients.
///
/// Stencil renders a missing variable as an empty string and escapes nothing. Here every
/// `{{ ... }}` is compiled into a node that records a missing value instead (so the
/// job can fail naming each one) and, in HTML, escapes what it prints. Values are data:
/// their text is printed, never parsed as template syntax. Templates cannot include files.
public final class TemplateText: @unchecked Sendable {
    /// Where the text came from ("Subject", "text/html part"), for messages.
    public let name: String
    /// Whether printed values are HTML-escaped.
    public let escapesHTML: Bool
    private let nodes: [NodeType]
    private let environment: Environment

    private static let valueTag = "postroom_value"
    static let missingKey = "\u{1}postroom-missing"

    /// Parses `source`; a syntax error names the line and the reason.
    public init(_ source: String, name: String, escapesHTML: Bool) throws(PostroomError) {
        self.name = name
        self.escapesHTML = escapesHTML
        let valueExtension = Extension()
        valueExtension.registerTag(Self.valueTag) { parser, token in
            let expression = String(token.contents.dropFirst(Self.valueTag.count)).trimmingSpaces
            guard !expression.isEmpty else { throw TemplateSyntaxError(reason: "an empty {{ }}", token: token) }
            let resolvable = try parser.compileFilter(expression, containedIn: token)
            return ValueNode(resolvable: resolvable, expression: expression, escapesHTML: escapesHTML)
        }
        DjangoFilters.register(in: valueExtension)
        environment = Environment(loader: nil, extensions: [valueExtension])
        let lexed = Template(templateString: source, environment: environment).tokens
        let tokens = lexed.map { token -> Token in
            guard token.kind == .variable else { return token }
            return .block(value: "\(Self.valueTag) \(token.contents)", at: token.sourceMap)
        }
        do {
            nodes = try TokenParser(tokens: tokens, environment: environment).parse()
        } catch {
            throw Self.describe(error, in: name)
        }
    }

    /// Renders with `context`; names of values the context lacks are added to `missing`.
    public func render(_ context: [String: Any], missing: inout Set<String>) throws(PostroomError) -> String {
        let collector = MissingValues()
        var dictionary = context
        dictionary[Self.missingKey] = collector
        do {
            let output = try renderNodes(nodes, Context(dictionary: dictionary, environment: environment))
            missing.formUnion(collector.names)
            return output
        } catch {
            throw Self.describe(error, in: name)
        }
    }

    static func describe(_ error: any Error, in name: String) -> PostroomError {
        if let syntax = error as? TemplateSyntaxError {
            let line = syntax.token.map { " line \($0.sourceMap.location.lineNumber)" } ?? ""
            let reason = syntax.reason.replacingOccurrences(of: valueTag + " ", with: "")
            return .malformed(what: "template", location: "\(name)\(line)", reason: reason)
        }
        if error is TemplateDoesNotExist {
            return .malformed(
                what: "template", location: name, reason: "templates cannot include or extend other files")
        }
        return .malformed(what: "template", location: name, reason: "\(error)")
    }
}

/// Django's names for filters Stencil spells differently, since templates come from Django apps.
enum DjangoFilters {
    static func register(in target: Extension) {
        target.registerFilter("upper") { value in value.map { ValueNode.text(of: $0).uppercased() } }
        target.registerFilter("lower") { value in value.map { ValueNode.text(of: $0).lowercased() } }
        target.registerFilter("title") { value in
            value.map {
                ValueNode.text(of: $0).split(separator: " ", omittingEmptySubsequences: false)
                    .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined(separator: " ")
            }
        }
        target.registerFilter("capfirst") { value in
            value.map {
                let text = ValueNode.text(of: $0)
                return text.prefix(1).uppercased() + text.dropFirst()
            }
        }
        target.registerFilter("length") { value -> Any? in
            switch value {
            case let array as [Any]: array.count
            case let dictionary as [String: Any]: dictionary.count
            case let record as TemplateRecord: record.values.count
            case let some?: ValueNode.text(of: some).count
            case nil: nil
            }
        }
    }
}

/// The names a render found missing (one collector per render, in the context).
final class MissingValues {
    var names = Set<String>()
}

/// `{{ expression }}`, strict and escaping.
final class ValueNode: NodeType {
    let resolvable: Resolvable
    let expression: String
    let escapesHTML: Bool
    let token: Token? = nil

    init(resolvable: Resolvable, expression: String, escapesHTML: Bool) {
        self.resolvable = resolvable
        self.expression = expression
        self.escapesHTML = escapesHTML
    }

    func render(_ context: Context) throws -> String {
        guard let value = try resolvable.resolve(context) else {
            (context[TemplateText.missingKey] as? MissingValues)?.names.insert(expression)
            return ""
        }
        let text = Self.text(of: value)
        return escapesHTML ? Self.escapeHTML(text) : text
    }

    static func text(of value: Any) -> String {
        switch value {
        case let string as String: string
        case let bool as Bool: bool ? "True" : "False"
        case let array as [Any]: "[" + array.map { text(of: $0) }.joined(separator: ", ") + "]"
        case let convertible as CustomStringConvertible: convertible.description
        default: "\(value)"
        }
    }

    /// Escapes the five characters that matter in HTML text and attributes.
    static func escapeHTML(_ text: String) -> String {
        guard text.utf8.contains(where: { "&<>\"'".utf8.contains($0) }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
