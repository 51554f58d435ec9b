/// RFC 3464 delivery status notifications for messages that failed for good.
public enum FailureReport {
    /// The report for a failed message, to its envelope sender, from the null sender.
    ///
    /// Returns nil when the failed message itself had the null sender (it was a report):
    /// reports never cause reports, so two mail systems cannot bounce mail back and forth.
    public static func make(
        original: Message, envelope: Envelope, reply: String, relay: String, reportingHost: String, name: MessageName,
        arrival: Int, now: Int
    ) throws(PostroomError) -> Message? {
        guard let sender = envelope.sender, !sender.isEmpty else { return nil }
        let recipients = envelope.recipients.map { "<\($0)>" }.joined(separator: ", ")
        let status =
            reply.split(separator: " ").dropFirst().first.map(String.init)
            .flatMap { $0.split(separator: ".").count == 3 && $0.first == "5" ? $0 : nil } ?? "5.0.0"

        let text = try MIMEWriter.text(
            """
            This is the mail system at \(reportingHost).

            Your message could not be delivered to \(recipients).
            The mail server \(relay) answered:

                \(reply)

            The message's header is attached; its body was not kept in this report.
            """, subtype: "plain")

        var statusFields = "Reporting-MTA: dns; \(reportingHost)\nArrival-Date: \(MessageDate.format(arrival))\n"
        for recipient in envelope.recipients {
            statusFields += "\nFinal-Recipient: rfc822; \(recipient)\nAction: failed\nStatus: \(status)\n"
            statusFields += "Remote-MTA: dns; \(relay)\nDiagnostic-Code: smtp; \(HeaderWriter.sanitized(reply))\n"
        }
        var statusPart = Message()
        try statusPart.append("Content-Type", "message/delivery-status")
        statusPart.body = Array(statusFields.utf8)

        var headers = original
        headers.removeInternalFields()
        var headersPart = Message()
        try headersPart.append("Content-Type", "text/rfc822-headers")
        headersPart.body = headers.fields.flatMap(\.raw)

        let body = try MIMEWriter.multipart(
            "report", parameters: [("report-type", "delivery-status")], parts: [text, statusPart, headersPart],
            boundarySeed: "r" + name.messageIDLocalPart)
        var report = Message()
        try report.append("From", "Mail Delivery System <MAILER-DAEMON@\(reportingHost)>")
        try report.append("To", "<\(sender)>")
        try report.append("Subject", "Undelivered Mail Returned to Sender")
        try report.append("Date", MessageDate.format(now))
        try report.append("Message-ID", MessageID.make(for: name, domain: reportingHost))
        try report.append("Auto-Submitted", "auto-replied")
        try report.append("MIME-Version", "1.0")
        report.append(entity: body)
        report.setControl(.envelopeFrom, "")
        report.setControl(.envelopeTo, sender)
        return report
    }
}
