/// Variable envelope return paths: the envelope sender of a list copy names its member, so a
/// bounce says who bounced even when the bounce message itself does not.
///
/// The member `kid@example.com` of `S1234-students@site` gets the envelope sender
/// `S1234-students-bounces+kid=example.com@site`: the list's local part, `-bounces+`, the
/// member's local part, `=`, the member's domain. Decoding splits at the last `=`: a domain
/// never contains `=`, so local parts with `+` or `=` (`a+b=c@example.com` becomes
/// `…-bounces+a+b=c=example.com@site`) come back unchanged. A member whose local part is
/// quoted, or whose domain is an address literal, gets the plain `S1234-students-bounces@site`.
public enum VERP {
    /// The list's bounce address without a member: `LIST-bounces@domain`.
    public static func bounceAddress(list: String) -> String {
        let (local, domain) = IncomingMessage.split(list)
        return "\(local)\(suffix)@\(domain)"
    }

    /// The envelope sender for `member`'s copy of a post to `list`.
    public static func encode(member: String, list: String) -> String {
        let (listLocal, listDomain) = IncomingMessage.split(list)
        let (local, domain) = IncomingMessage.split(member)
        guard AddressSyntax.isDotAtom(local), AddressSyntax.isDotAtom(domain) else {
            return bounceAddress(list: list)
        }
        return "\(listLocal)\(suffix)+\(local)=\(domain)@\(listDomain)"
    }

    /// The list and member a VERP bounce address names, or nil when `address` is not one.
    /// The list's local part keeps the case it arrived in; compare it without regard to case.
    public static func decode(_ address: String) -> (list: String, member: String)? {
        let (local, domain) = IncomingMessage.split(address)
        guard !domain.isEmpty, let marker = local.firstRange(of: suffix + "+") else { return nil }
        let listLocal = local[..<marker.lowerBound]
        let encoded = local[marker.upperBound...]
        guard !listLocal.isEmpty, let equals = encoded.lastIndex(of: "=") else { return nil }
        let memberLocal = encoded[..<equals]
        let memberDomain = encoded[encoded.index(after: equals)...]
        guard !memberLocal.isEmpty, !memberDomain.isEmpty else { return nil }
        return ("\(listLocal)@\(domain)", "\(memberLocal)@\(memberDomain)")
    }

    /// What follows the list's local part in its bounce address.
    public static let suffix = "-bounces"

    /// The envelope sender `deliver --verp` gives a message: the site's bounce address with the
    /// spool name after a `+` (`bounces+1764640000.M1P2Q3.host.R4@site`), escaped as in the
    /// message's Message-ID, so a bounce names the file it is about.
    public static func encode(message name: MessageName, bounceAddress: String) -> String {
        let (local, domain) = IncomingMessage.split(bounceAddress)
        return "\(local)+\(name.messageIDLocalPart)@\(domain)"
    }

    /// The spool name a bounce address made by `encode(message:bounceAddress:)` carries, or nil.
    /// Only the part after the first `+` counts, and only when it reads as a spool name.
    public static func message(in address: String) -> MessageName? {
        let (local, domain) = IncomingMessage.split(address)
        guard !domain.isEmpty, let plus = local.firstIndex(of: "+") else { return nil }
        guard let name = MessageName(messageIDLocalPart: String(local[local.index(after: plus)...])),
            name.createdAt != nil, name.base.contains(".")
        else { return nil }
        return name
    }
}
