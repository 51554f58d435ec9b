import Stencil

/// An object in a template context (`user`, `program`, `recipient`).
///
/// Stencil rebuilds a Swift Dictionary through Foundation at every step of a lookup such
/// as `user.first_name`; values that answer `DynamicMemberLookup` skip that, which makes
/// rendering several times faster.
final class TemplateRecord: DynamicMemberLookup, CustomStringConvertible {
    private(set) var values: [String: Any]

    init(_ values: [String: Any] = [:]) {
        self.values = values
    }

    /// The value named `member`; a name in another case (`First_Name` for `first_name`) when
    /// no exact one exists, as recipient list columns are matched without regard to case.
    subscript(dynamicMember member: String) -> Any? {
        if let value = values[member] { return value }
        let lowered = member.lowercased()
        if let key = values.keys.filter({ $0.lowercased() == lowered }).min() { return values[key] }
        return member == "count" ? values.count : nil
    }

    /// Sets `value` at a dotted path, creating records on the way.
    func assign(_ value: Any, at path: ArraySlice<String>) {
        guard let first = path.first else { return }
        if path.count == 1 {
            values[first] = value
            return
        }
        let child = values[first] as? TemplateRecord ?? TemplateRecord()
        child.assign(value, at: path.dropFirst())
        values[first] = child
    }

    var isEmpty: Bool { values.isEmpty }

    var description: String {
        "{" + values.keys.sorted().map { "\($0): \(ValueNode.text(of: values[$0] ?? ""))" }.joined(separator: ", ")
            + "}"
    }
}

extension JSONValue {
    /// The value as templates see it: String, Int, Double, Bool, arrays, records; nil for null.
    var templateValue: Any? {
        switch self {
        case .null: nil
        case .bool(let b): b
        case .integer(let i): i
        case .number(let d): d
        case .string(let s): s
        case .array(let items): items.compactMap(\.templateValue)
        case .object(let members):
            // A null member is left out, so the template sees it as missing.
            TemplateRecord(
                Dictionary(
                    members.compactMap { key, value in value.templateValue.map { (key, $0) } },
                    uniquingKeysWith: { _, last in last }))
        }
    }
}
