/// Jobs as a standalone mbox stream: each one a complete template message with its
/// recipient's control fields, which `render` reads as a filter.
public enum JobStream {
    /// Writes every job of `request` to standard output in mboxrd format; each copy not made
    /// (an invalid, suppressed or repeated address) is a line in `log`, as in the spool.
    public static func write(_ request: Request, suppression: SuppressionList, log: SpoolLog) throws(PostroomError) {
        let template = try Message(parsing: request.template, source: "the template")
        let templateFields = template.fields.filter { !ControlHeader.isControl($0.name) }
        for event in request.expansion(name: "stdin", suppression: suppression) {
            let job: Job
            switch try event.get() {
            case .job(let made): job = made
            case .skipped(let line, let copy, let address, let reason):
                log.recordSkipped(request: "stdin", line: line, copy: copy, address: address, reason: reason)
                continue
            }
            // The job's control fields first, then the template's own fields and body.
            var message = Message(fields: job.message.fields + templateFields, body: template.body)
            for (name, value) in request.variables { message.appendControl(.variable, "\(name)=\(value)") }
            if !request.isBulk { message.setControl(.bulk, "no") }
            OutputStream.writeAll(mboxEntry(message.bytes), to: 1)
        }
    }

    /// `From ` line, lines matching `>*From ` quoted with one more `>`, and a blank line after.
    static func mboxEntry(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array("From MAILER-DAEMON \(MessageDate.format(Timestamp.now().seconds, utc: true))\n".utf8)
        var atLineStart = true
        var index = 0
        while index < bytes.count {
            if atLineStart {
                var look = index
                while look < bytes.count && bytes[look] == UInt8(ascii: ">") { look += 1 }
                if bytes[look...].starts(with: "From ".utf8) { out.append(UInt8(ascii: ">")) }
            }
            out.append(bytes[index])
            atLineStart = bytes[index] == 10
            index += 1
        }
        if out.last != 10 { out.append(10) }
        out.append(10)
        return out
    }
}
