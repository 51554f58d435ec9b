/// Options for the programs an MTA starts once per message (`route`, `mark`), read by hand:
/// ArgumentParser brings Foundation and its start-up cost. Accepts `--name value`,
/// `--name=value` and flags.
package struct OptionScanner {
    private var remaining: ArraySlice<String>
    private var inline: String?
    /// The option being read, without an inline `=value`.
    package private(set) var option = ""
    /// The argument as given, for messages.
    package private(set) var argument = ""

    /// A scanner over `arguments` (without the program name).
    package init(_ arguments: [String]) { remaining = arguments[...] }

    /// The next option, or nil when there are no more arguments.
    package mutating func next() -> String? {
        guard let argument = remaining.popFirst() else { return nil }
        self.argument = argument
        option = argument
        inline = nil
        if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
            option = String(argument[..<equals])
            inline = String(argument[argument.index(after: equals)...])
        }
        return option
    }

    /// The current option's value: what follows its `=`, else the next argument.
    package mutating func value() throws(PostroomError) -> String {
        if let inline {
            self.inline = nil
            return inline
        }
        guard let next = remaining.popFirst() else { throw .usage("\(option) needs a value") }
        return next
    }

    /// The error for an argument the program does not know.
    package var unknown: PostroomError { .usage("unknown argument \"\(argument)\"") }
}
