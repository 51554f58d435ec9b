import TestSupport
import Testing

/// route's exit codes as an MTA must read them: 0 accepted; 65, 67, 73 and 77 bounced with the
/// command's reason; 75 deferred and kept in the queue. `queued` is how the queue listing shows
/// the deferred address.
func expectPipeExitCodesReadAsRouteDocumentsThem(_ mta: some PipingMTA, queued: (String) -> String) throws {
    let domain = type(of: mta).listDomain
    let accepted = type(of: mta).acceptedStatus
    let expected = [0: accepted, 65: "bounced", 67: "bounced", 73: "bounced", 75: "deferred", 77: "bounced"]
    for code in expected.keys.sorted() {
        try mta.submit(
            from: "poster\(code)@member.test", to: ["exit\(code)@\(domain)"], message: "Subject: code \(code)\n\nbody\n"
        )
    }
    for (code, status) in expected {
        #expect(mta.status(of: "exit\(code)@\(domain)", waitingUpTo: 10) == status, "exit \(code): \(mta.logText)")
    }
    // The deferred message stays queued; each bounce reaches its poster with the command's reason.
    let queue = try mta.queue()
    #expect(queue.contains(queued("exit75@\(domain)")) && !queue.contains("exit67@"), "\(queue)")
    let bounces = try mta.deliveredMessages(count: 4)
    #expect(bounces.count == 4)
    for code in [65, 67, 73, 77] {
        let bounce = bounces.first { $0.contains("To: poster\(code)@member.test") }
        #expect(bounce?.contains("pipe_recorder: exit \(code) for <exit\(code)@\(domain)>") == true, "\(bounce ?? "")")
    }
}
