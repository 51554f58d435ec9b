/// `render` as a filter: one template message with its recipient in control fields.
public enum StandaloneRender {
    /// Renders `bytes`: a template message whose recipient comes from
    /// `X-Postroom-Envelope-To` (else its To field), data from `X-Postroom-Recipient`
    /// and `X-Postroom-Var`, plus `variables`.
    public static func render(
        _ bytes: [UInt8], renderer: Renderer, variables: [(name: String, value: String)]
    ) throws(PostroomError)
        -> Message
    {
        let input = try Message(parsing: bytes, source: "standard input")
        if input.control(.request) != nil && input.body.isEmpty {
            throw .usage("standard input is a spool job; render it in the spool (render --queue) where its request is")
        }
        var recipient = JSONValue.object([])
        if let text = input.control(.recipient) {
            recipient = try JSONValue.parse(
                Array(text.utf8), location: "standard input \(ControlHeader.recipient.rawValue)")
        }
        var envelopeTo = input.control(.envelopeTo)
        var toName = input.control(.toName) ?? ""
        if envelopeTo == nil, let to = input.value(of: "To"),
            let first = try? AddressParser.parseList(to).flatMap(\.mailboxes).first
        {
            envelopeTo = first.address
            toName = first.displayName ?? ""
        }
        guard let envelopeTo else {
            throw .malformed(
                what: "message", location: "standard input", reason: "no recipient: add To or X-Postroom-Envelope-To")
        }
        var shared: [(name: String, value: String)] = []
        for text in input.controls(.variable) { shared.append(try Request.variable(text)) }
        let template = try MessageTemplate(bytes, source: "standard input")
        return try renderer.render(
            template,
            RenderInput(
                name: MessageNameGenerator.shared.next(), envelopeTo: envelopeTo, toName: toName,
                copy: SendTo.Copy(rawValue: input.control(.copy) ?? "self") ?? .self, recipient: recipient,
                variables: shared + variables, isBulk: input.control(.bulk)?.lowercased() != "no"))
    }
}
