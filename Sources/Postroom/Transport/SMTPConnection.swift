import CCurl
import Glibc

/// One connection to an SMTP server. libcurl opens it: TCP, implicit TLS or STARTTLS with
/// certificate checks, the greeting, EHLO and AUTH. Then it carries the bytes of each mail
/// transaction, which `SMTPTransport` writes itself so that the envelope can be pipelined
/// (RFC 2920) and a message leaves in one write; libcurl's own SMTP transfer waits for every
/// reply in turn and sends the final dot apart.
final class SMTPConnection {
    /// Talking to the server failed: no usable reply came back.
    struct Failure: Error {
        /// What failed, for the log and the deferred message.
        var description: String
        /// The relay as far as it was reached.
        var relay: String?
        /// The server retired a used connection (421 before the transaction began), so the
        /// message can go over a new one at once.
        var retired = false
    }

    /// What the server announced in its EHLO reply.
    let capabilities: SMTPCapabilities
    /// `host[ip]:port`, as log lines name the relay.
    let relay: String
    /// Mail transactions completed on this connection.
    var transactions = 0
    /// Replies read so far: a failure before the first one on a reused connection means the
    /// server had closed it while idle, and the message can go over a new one at once.
    private(set) var repliesRead = 0
    /// The end of the current message's time, in monotonic milliseconds.
    var messageDeadline = Int64.max
    /// The next message's envelope commands, sent with the previous message's content and
    /// not yet answered.
    var announced: Announcement?

    /// A message whose envelope went ahead of its turn.
    struct Announcement {
        /// The message as the stage gave it (its content stays in its file until sent).
        var message: Outbound
        /// The message as it goes to this server: the same, or made 7-bit.
        var content: Outbound
        /// MAIL FROM, RCPT TO and DATA, as sent.
        var commands: [String]
    }

    private let handle: UnsafeMutableRawPointer
    private let socket: curl_socket_t
    private let responseTimeout: Int
    private var reader = SMTPReplyReader()
    private var receiveBuffer = [UInt8](repeating: 0, count: 16_384)

    private init(
        handle: UnsafeMutableRawPointer, socket: curl_socket_t, capabilities: SMTPCapabilities, relay: String,
        responseTimeout: Int
    ) {
        self.handle = handle
        self.socket = socket
        self.capabilities = capabilities
        self.relay = relay
        self.responseTimeout = responseTimeout
    }

    /// Connects, says EHLO, starts TLS and logs in as `settings` say.
    static func open(_ settings: SMTPTransport.Settings) -> Result<SMTPConnection, Failure> {
        guard let handle = curl_easy_init() else {
            return .failure(Failure(description: "libcurl could not create a handle"))
        }
        let base = settings.url.hasSuffix("/") ? String(settings.url.dropLast()) : settings.url
        _ = postroom_curl_setopt_string(handle, CURLOPT_URL, "\(base)/\(settings.heloName)")
        _ = postroom_curl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
        _ = postroom_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = postroom_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, settings.connectTimeout)
        _ = postroom_curl_setopt_long(handle, CURLOPT_TIMEOUT, settings.overallTimeout)
        _ = postroom_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, settings.responseTimeout)
        let tls: curl_usessl =
            switch settings.tlsInForce {
            case .required: CURLUSESSL_ALL
            case .opportunistic: CURLUSESSL_TRY
            case .off: CURLUSESSL_NONE
            }
        _ = postroom_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(tls.rawValue))
        if let caFile = settings.caFile { _ = postroom_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if let username = settings.username { _ = postroom_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
        if let password = settings.password { _ = postroom_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        // The dialogue, for the EHLO keywords and for the reply behind a failure.
        let dialogue = ConnectDialogue()
        _ = postroom_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
        _ = postroom_curl_setopt_debug_callback(handle, CURLOPT_DEBUGFUNCTION, dialogueCallback)
        _ = postroom_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, Unmanaged.passUnretained(dialogue).toOpaque())
        let code = curl_easy_perform(handle)
        _ = postroom_curl_setopt_long(handle, CURLOPT_VERBOSE, 0)
        let relay = relayName(handle, host: settings.host)
        var socket = curl_socket_t(-1)
        _ = postroom_curl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket)
        guard code == CURLE_OK, socket >= 0 else {
            let error =
                switch code {
                case CURLE_OK: "no connection"
                case CURLE_USE_SSL_FAILED where settings.tls == .required:
                    "the server does not offer STARTTLS, and --tls required demands it"
                case CURLE_USE_SSL_FAILED:
                    "the server does not offer STARTTLS, and the password for --user is never sent without TLS "
                        + "(--tls off would send it in clear)"
                default: String(cString: curl_easy_strerror(code))
                }
            dispose(handle, socket: socket)
            let description = dialogue.lastReply.map { "\(error): \($0.text)" } ?? error
            return .failure(Failure(description: description, relay: relay))
        }
        let capabilities = dialogue.ehloReply.map { SMTPCapabilities(ehloLines: $0.lines) } ?? SMTPCapabilities()
        return .success(
            SMTPConnection(
                handle: handle, socket: socket, capabilities: capabilities, relay: relay,
                responseTimeout: settings.responseTimeout))
    }

    /// Whether an idle connection is still open: a server that timed it out has sent EOF or a
    /// 421, so anything readable between transactions means it is gone.
    var isOpen: Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// Sends all of `bytes`; `what` names them in errors.
    func send(_ bytes: [UInt8], what: @autoclosure () -> String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { buffer in
                curl_easy_send(handle, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, &sent)
            }
            switch code {
            case CURLE_OK: offset += sent
            case CURLE_AGAIN: try wait(for: POLLOUT, what: "to send \(what())")
            default:
                throw Failure(description: "could not send \(what()): \(String(cString: curl_easy_strerror(code)))")
            }
        }
    }

    /// Sends `command` and CRLF.
    func send(command: String) throws(Failure) {
        try send(Array((command + "\r\n").utf8), what: Self.verb(command))
    }

    /// The next reply; `what` names the command it answers.
    func reply(to what: @autoclosure () -> String) throws(Failure) -> SMTPReply {
        while true {
            do {
                if let reply = try reader.next() {
                    repliesRead += 1
                    return reply
                }
            } catch {
                throw Failure(description: "not an SMTP reply after \(what()): \"\(error.line)\"")
            }
            guard reader.pendingByteCount < 1 << 20 else {
                throw Failure(description: "the reply to \(what()) runs over 1 MiB without ending")
            }
            var received = 0
            let code = receiveBuffer.withUnsafeMutableBytes {
                curl_easy_recv(handle, $0.baseAddress, $0.count, &received)
            }
            switch code {
            case CURLE_OK where received == 0:
                throw Failure(description: "the server closed the connection before replying to \(what())")
            case CURLE_OK:
                receiveBuffer.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[..<received])) }
            case CURLE_AGAIN:
                try wait(for: POLLIN, what: "for the reply to \(what())")
            default:
                throw Failure(
                    description: "could not read the reply to \(what()): \(String(cString: curl_easy_strerror(code)))")
            }
        }
    }

    /// Ends the connection: QUIT when it is in a state to take one, else just closed.
    func close(quit: Bool) {
        if quit {
            messageDeadline = Self.now() + 10_000
            if (try? send(command: "QUIT")) != nil { _ = try? reply(to: "QUIT") }
        }
        Self.dispose(handle, socket: socket)
    }

    /// The command word of `command`, for messages (`MAIL FROM`, `RCPT TO`, `DATA`).
    static func verb(_ command: String) -> String {
        command.firstIndex(of: ":").map { String(command[..<$0]) } ?? command
    }

    /// Milliseconds on the monotonic clock.
    static func now() -> Int64 {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        return Int64(clock.tv_sec) * 1000 + Int64(clock.tv_nsec) / 1_000_000
    }

    private func wait(for events: Int32, what: @autoclosure () -> String) throws(Failure) {
        while true {
            let current = Self.now()
            let replyDeadline = current + Int64(responseTimeout) * 1000
            let deadline = min(replyDeadline, messageDeadline)
            guard deadline > current else { throw timeout(what(), replyLimited: replyDeadline <= messageDeadline) }
            var descriptor = pollfd(fd: socket, events: Int16(events), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: deadline - current))
            if ready > 0 { return }
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 {
                throw Failure(description: "poll failed waiting \(what()): \(String(cString: strerror(errno)))")
            }
            throw timeout(what(), replyLimited: replyDeadline <= messageDeadline)
        }
    }

    private func timeout(_ what: String, replyLimited: Bool) -> Failure {
        replyLimited
            ? Failure(description: "timed out after \(responseTimeout) s waiting \(what)")
            : Failure(description: "the message ran out of its overall time waiting \(what)")
    }

    /// Closes without QUIT: libcurl's cleanup would send one and wait, with no limit of ours,
    /// on a server that may have hung, so the socket is shut down first.
    private static func dispose(_ handle: UnsafeMutableRawPointer, socket: curl_socket_t) {
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
        curl_easy_cleanup(handle)
    }

    private static func relayName(_ handle: UnsafeMutableRawPointer, host: String) -> String {
        var ip: UnsafeMutablePointer<CChar>?
        var port = 0
        _ = postroom_curl_getinfo_string(handle, CURLINFO_PRIMARY_IP, &ip)
        _ = postroom_curl_getinfo_long(handle, CURLINFO_PRIMARY_PORT, &port)
        let address = ip.map { String(cString: $0) } ?? ""
        return address.isEmpty ? host : "\(host)[\(address)]:\(port)"
    }
}

/// The connect phase as libcurl's debug callback reports it: the commands it sent and the
/// server's replies.
private final class ConnectDialogue {
    private var reader = SMTPReplyReader()
    private var awaitingEHLO = false
    /// The last reply to EHLO (after STARTTLS, the second one counts).
    var ehloReply: SMTPReply?
    /// The server's last reply.
    var lastReply: SMTPReply?

    func sent(_ command: String) {
        awaitingEHLO = command.uppercased().hasPrefix("EHLO")
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        reader.append(bytes)
        if bytes.last != 10 { [UInt8(13), 10].withUnsafeBytes { reader.append($0) } }
        while let reply = try? reader.next() {
            lastReply = reply
            if awaitingEHLO {
                if reply.isSuccess { ehloReply = reply }
                awaitingEHLO = false
            }
        }
    }
}

private let dialogueCallback: postroom_curl_debug_callback = { _, type, data, size, context in
    guard let data, let context else { return 0 }
    let dialogue = Unmanaged<ConnectDialogue>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    switch type {
    case CURLINFO_HEADER_OUT: dialogue.sent(String(decoding: bytes, as: UTF8.self))
    case CURLINFO_HEADER_IN: dialogue.received(bytes)
    default: break
    }
    return 0
}
