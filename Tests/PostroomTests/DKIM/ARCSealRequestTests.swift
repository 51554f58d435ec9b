import PostroomCore
import Testing

@Suite struct ARCSealRequestTests {
    private func header(_ controls: [(ControlHeader, String)]) throws -> Message {
        var message = try Message(parsing: Array("From: a@example.org\nSubject: x\n\nbody\n".utf8))
        for (kind, value) in controls { message.appendControl(kind, value) }
        return message
    }

    @Test func readsTheControlFieldsRouteWrites() throws {
        let request = ARCSealRequest(
            domain: "lists.example.org", instance: 2, chainValidation: .pass,
            results: "lists.example.org; dkim=pass header.d=example.com; arc=pass")
        let message = try header(request.controlValues)
        #expect(message.fields.map(\.name).contains("X-Postroom-ARC-Seal"))
        #expect(try ARCSealRequest(controls: message) == request)
        #expect(try ARCSealRequest(controls: try header([])) == nil)
    }

    @Test(arguments: [
        ("lists.example.org 51 pass", "instance \"51\" is not 1 to 50"),
        ("lists.example.org 0 none", "instance \"0\""),
        ("lists.example.org 2 maybe", "\"maybe\" is not none, pass or fail"),
        ("lists.example.org 2 none", "cv=none cannot go with instance 2"),
        ("lists.example.org 1 pass", "cv=pass cannot go with instance 1"),
        ("lists.example.org 1", "is not DOMAIN INSTANCE CV"),
        ("not_a_domain 1 none", "is not a domain"),
    ])
    func malformedSealFields(value: String, reason: String) throws {
        let message = try header([(.arcSeal, value), (.arcResults, "lists.example.org; arc=none")])
        do {
            _ = try ARCSealRequest(controls: message)
            Issue.record("\(value) was accepted")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func resultsMustBeThereOnceAndOnOneLine() throws {
        let seal = (ControlHeader.arcSeal, "lists.example.org 1 none")
        for controls in [
            [seal], [seal, (.arcResults, "a; arc=none"), (.arcResults, "b; arc=none")],
            [seal, (.arcResults, "a;\r\nInjected: yes")], [seal, (.arcResults, "  ")],
        ] {
            #expect(throws: ARCChainError.self) { try ARCSealRequest(controls: try header(controls)) }
        }
    }

    /// What is already in the message must fit: none for cv=none, N-1 good sets for pass,
    /// nothing at or above N for fail.
    @Test func checkExistingSets() throws {
        let set1 = """
            ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=s; b=AA==
            ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=x.example; s=s; h=from; bh=AA=; b=AA==
            ARC-Authentication-Results: i=1; x.example; arc=none

            """
        let fields = try Message(parsing: Array((set1 + "From: a@example.org\n\nbody\n").utf8)).fields
        let request = { (instance: Int, cv: ARCChainValidation) in
            ARCSealRequest(domain: "lists.example.org", instance: instance, chainValidation: cv, results: "l; arc=pass")
        }
        try request(2, .pass).checkExisting(fields)
        try request(2, .fail).checkExisting(fields)
        try request(1, .none).checkExisting([])
        #expect(request(2, .pass).previousSets(in: fields).map(\.instance) == [1])
        #expect(request(2, .fail).previousSets(in: fields).isEmpty)
        for (instance, cv) in [(1, ARCChainValidation.none), (3, .pass), (1, .fail)] {
            #expect(throws: ARCChainError.self, "\(instance) \(cv)") { try request(instance, cv).checkExisting(fields) }
        }
        let ended = try Message(
            parsing: Array((set1.replacingOccurrences("cv=none", "cv=fail") + "From: a@example.org\n\nb\n").utf8))
        #expect(throws: ARCChainError.self) { try request(2, .pass).checkExisting(ended.fields) }
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
