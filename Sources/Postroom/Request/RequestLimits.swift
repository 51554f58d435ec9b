extension MessageLimits {
    /// Refuses a request whose messages would be over a limit: its template's header, and the
    /// template with its attachments in base64 (as `render` attaches them) for the size.
    public func check(_ request: Request, source: String) throws(PostroomError) {
        let template = try Message(parsing: request.template, source: "the template of \(source)")
        var outbound = template
        outbound.removeInternalFields()
        let header = outbound.fields.reduce(outbound.separator.count) { $0 + $1.raw.count }
        // base64 in 76-character lines: 77 bytes for each 57 of the file.
        let attached = request.attachments.reduce(0) { $0 + ($1.content.count + 56) / 57 * 77 }
        try refuse(size: header + outbound.body.count + attached, headerSize: header, source: source)
    }
}
