/// `route --explain ADDR`: which rule takes an address and the copies it would make, writing
/// nothing (as `exim -bt` does), for a sample post from `--sender` (default: a made-up poster).
extension RouteCommand {
    func explain(_ address: String, environment: [String: String]) -> Int32 {
        var out: [String] = []
        let status: Sysexit
        do throws(PostroomError) {
            let configuration = try Configuration(path: config, environment: environment)
            guard let rulesPath = configuration.value(Configuration.rules, flag: rules) else {
                throw .configuration(
                    location: configuration.path, reason: "no rule table: set 'rules' in postroom.conf or pass --rules")
            }
            let context = RouteContext(
                spool: configuration.spool(flag: spool), configuration: configuration, recipient: address)
            let table = try RuleTable(path: rulesPath, context: context)
            let poster = sender ?? "someone@example.net"
            let sample = Array(
                "From: \(poster)\nTo: \(address)\nSubject: route --explain\nMessage-ID: <explain@localhost>\n\nA sample post.\n"
                    .utf8)
            let message = try IncomingMessage(
                bytes: sample, recipient: address, sender: poster, limits: .none)
            let (decision, line, passes) = try Router(table: table, context: context).decide(message)
            out += passes.map { "passed: \($0)" }
            switch decision {
            case nil, .pass?:
                out.append("<\(address)>: no rule takes it: route exits 67")
                status = .noUser
            case .refuse(let code, let text)?:
                out.append("<\(address)>: line \(line ?? 0) refuses it: route exits \(code.rawValue) (\(text))")
                status = code
            case .drop(let reason)?:
                out.append("<\(address)>: dropped: \(reason)")
                status = .ok
            case .record(let record)?:
                out.append("<\(address)>: line \(line ?? 0): \(record.summary)")
                status = .ok
            case .deliver(let plan)?:
                out.append("<\(address)>: line \(line ?? 0): \(plan.summary)")
                for copy in plan.copies {
                    let to = copy.envelope.recipients.joined(separator: ", ")
                    let place: String
                    switch copy.destination {
                    case .outgoing: place = "outgoing"
                    case .held: place = "held"
                    case .maildir(let path): place = "maildir \(path)"
                    }
                    out.append("  \(place): from <\(copy.envelope.sender ?? "")> to <\(to)> (\(copy.note))")
                }
                status = .ok
            }
        } catch {
            out.append("route: \(error.description)")
            status = error.exitStatus
        }
        OutputStream.writeAll(Array(out.map { $0 + "\n" }.joined().utf8), to: 1)
        return status.rawValue
    }
}
