import CCurl
import Glibc

/// SMTP and SMTPS through libcurl, one easy handle (and so one connection) reused for every
/// message, with STARTTLS, AUTH and timeouts.
public final class SMTPTransport: Transport {
    /// How STARTTLS is used on `smtp://` URLs.
    public enum TLSPolicy: String, Sendable, CaseIterable {
        /// Refuse to send without TLS.
        case required
        /// Use TLS when the server offers it.
        case opportunistic
        /// Never use STARTTLS.
        case off
    }

    /// Settings for a connection.
    public struct Settings: Sendable {
        /// `smtp://host:port` or `smtps://host:port`.
        public var url: String
        /// STARTTLS policy for `smtp://`.
        public var tls: TLSPolicy = .opportunistic
        /// AUTH user name.
        public var username: String?
        /// AUTH password (read from a protected file by the caller).
        public var password: String?
        /// A CA bundle to trust (for a private or self-signed certificate).
        public var caFile: String?
        /// Seconds to wait for a connection.
        public var connectTimeout = 30
        /// Seconds to wait for each server reply.
        public var responseTimeout = 300
        /// Seconds one message may take in all.
        public var overallTimeout = 600
        /// The name given in EHLO.
        public var heloName = MessageNameGenerator.systemHostName()

        /// Settings for `url` with the defaults above.
        public init(url: String) { self.url = url }
    }

    private let settings: Settings
    private var handle: UnsafeMutableRawPointer?
    private let transcript = Transcript()
    /// Connections opened so far (1 after many messages means reuse worked).
    public private(set) var connectionsOpened = 0

    /// A transport; nothing connects until the first message.
    public init(settings: Settings) throws(PostroomError) {
        guard settings.url.hasPrefix("smtp://") || settings.url.hasPrefix("smtps://") else {
            throw .usage("--smtp needs an smtp:// or smtps:// URL, got \"\(settings.url)\"")
        }
        self.settings = settings
        Self.initializeLibrary
    }

    deinit { close() }

    private static let initializeLibrary: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public func close() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
    }

    public func deliver(_ data: [UInt8], envelope: Envelope) -> DeliveryOutcome {
        if handle == nil { handle = makeHandle() }
        guard let handle else { return .deferred(reply: "libcurl could not create a handle", relay: settings.url, connectionFailed: true) }
        let upload = Upload(bytes: WireFormat.crlf(data))
        let recipients = envelope.recipients.reduce(nil as UnsafeMutablePointer<curl_slist>?) { list, address in
            curl_slist_append(list, "<\(address)>")
        }
        defer { curl_slist_free_all(recipients) }
        transcript.reset()
        let context = Unmanaged.passUnretained(upload).toOpaque()
        _ = postroom_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(envelope.sender ?? "")>")
        _ = postroom_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        _ = postroom_curl_setopt_pointer(handle, CURLOPT_READDATA, context)
        _ = postroom_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.bytes.count))
        let code = curl_easy_perform(handle)

        var connects = 0
        _ = postroom_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        connectionsOpened += connects
        var response = 0
        _ = postroom_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &response)
        let relay = relayName(handle)
        // libcurl may QUIT after a refusal within the same transfer: find the refusal itself.
        let reply = transcript.lastReply(withCode: response) ?? ""
        if code == CURLE_OK { return .sent(reply: reply, relay: relay) }
        let error = String(cString: curl_easy_strerror(code))
        // A failed transfer may leave the connection in an unknown state: start afresh. Cleanup
        // would send QUIT and wait, with no time limit of ours, for a server that may have hung,
        // so the socket is shut down first.
        var socket = curl_socket_t(-1)
        if postroom_curl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 {
            shutdown(socket, Int32(SHUT_RDWR))
        }
        close()
        // A refused login or a missing STARTTLS is our configuration, not the recipient's
        // fault: never fail the message for it; defer and let the pass stop.
        if code == CURLE_LOGIN_DENIED || code == CURLE_USE_SSL_FAILED {
            return .deferred(reply: reply.isEmpty ? error : "\(error): \(reply)", relay: relay, connectionFailed: true)
        }
        switch response {
        case 500..<600:
            return .failed(reply: reply.isEmpty ? "\(response) (\(error))" : reply, relay: relay)
        case 400..<500:
            return .deferred(reply: reply.isEmpty ? "\(response) (\(error))" : reply, relay: relay, connectionFailed: false)
        default:
            let detail = reply.isEmpty ? error : "\(error); last reply: \(reply)"
            return .deferred(reply: detail, relay: relay, connectionFailed: true)
        }
    }

    private func makeHandle() -> UnsafeMutableRawPointer? {
        guard let handle = curl_easy_init() else { return nil }
        let base = settings.url.hasSuffix("/") ? String(settings.url.dropLast()) : settings.url
        _ = postroom_curl_setopt_string(handle, CURLOPT_URL, "\(base)/\(settings.heloName)")
        _ = postroom_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        _ = postroom_curl_setopt_io_callback(handle, CURLOPT_READFUNCTION, readCallback)
        _ = postroom_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
        _ = postroom_curl_setopt_debug_callback(handle, CURLOPT_DEBUGFUNCTION, debugCallback)
        _ = postroom_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, Unmanaged.passUnretained(transcript).toOpaque())
        _ = postroom_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, settings.connectTimeout)
        _ = postroom_curl_setopt_long(handle, CURLOPT_TIMEOUT, settings.overallTimeout)
        _ = postroom_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, settings.responseTimeout)
        _ = postroom_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        let tls: curl_usessl = switch settings.tls {
        case .required: CURLUSESSL_ALL
        case .opportunistic: CURLUSESSL_TRY
        case .off: CURLUSESSL_NONE
        }
        _ = postroom_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(tls.rawValue))
        if let caFile = settings.caFile { _ = postroom_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let username = settings.username { _ = postroom_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
        if let password = settings.password { _ = postroom_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        return handle
    }

    private func relayName(_ handle: UnsafeMutableRawPointer) -> String {
        var ip: UnsafeMutablePointer<CChar>?
        var port = 0
        _ = postroom_curl_getinfo_string(handle, CURLINFO_PRIMARY_IP, &ip)
        _ = postroom_curl_getinfo_long(handle, CURLINFO_PRIMARY_PORT, &port)
        let host = settings.url.split(separator: "/").dropFirst().first.map { String($0.split(separator: ":").first ?? $0) } ?? "?"
        let address = ip.map { String(cString: $0) } ?? ""
        return address.isEmpty ? host : "\(host)[\(address)]:\(port)"
    }
}

/// The bytes libcurl reads for DATA.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    init(bytes: [UInt8]) { self.bytes = bytes }
}

/// The server's replies, as libcurl's debug callback reports them.
private final class Transcript {
    private var replies: [String] = []

    func reset() { replies.removeAll(keepingCapacity: true) }

    /// The last reply with code `code` (any when 0), continuation lines (`550-...`) joined.
    func lastReply(withCode code: Int) -> String? {
        let prefix = code > 0 ? String(code) : nil
        guard let end = replies.lastIndex(where: { prefix.map($0.hasPrefix) ?? true }) else { return nil }
        let last = replies[end]
        let status = String(last.prefix(3))
        var lines = [last]
        var index = end - 1
        while index >= 0, replies[index].hasPrefix(status + "-") {
            lines.insert(replies[index], at: 0)
            index -= 1
        }
        return status + " " + lines.map { String($0.dropFirst(4)).trimmingSpaces }.joined(separator: " ")
    }

    func add(_ text: String) {
        // "\r\n" is one Character: isNewline splits at it, == "\r" would not.
        for line in text.split(whereSeparator: \.isNewline) where line.count >= 3 {
            replies.append(String(line))
        }
        if replies.count > 64 { replies.removeFirst(replies.count - 64) }
    }
}

private let readCallback: postroom_curl_io_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
    let length = min(size * count, upload.bytes.count - upload.offset)
    guard length > 0 else { return 0 }
    upload.bytes.withUnsafeBytes { source in
        if let base = source.baseAddress { memcpy(buffer, base + upload.offset, length) }
    }
    upload.offset += length
    return length
}

private let debugCallback: postroom_curl_debug_callback = { _, type, data, size, context in
    guard type == CURLINFO_HEADER_IN, let data, let context else { return 0 }
    let transcript = Unmanaged<Transcript>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    transcript.add(String(decoding: bytes, as: UTF8.self))
    return 0
}
