import CCurl

/// A ping to a monitoring URL after each pass (healthchecks.io, Uptime Kuma, cron monitors).
///
/// A failed ping is reported, never a reason to stop sending.
public struct HealthCheck: Sendable {
    /// The URL to request.
    public var url: String
    /// `GET`, `POST` (with the pass summary as the body) or `HEAD`.
    public var method: String
    /// The status that counts as success; nil accepts any 2xx.
    public var expectedStatus: Int?
    /// Seconds the whole request may take.
    public var timeout: Int

    /// A health check; the method is checked here.
    public init(
        url: String, method: String = "GET", expectedStatus: Int? = nil, timeout: Int = 10
    ) throws(PostroomError) {
        guard ["GET", "POST", "HEAD"].contains(method.uppercased()) else {
            throw .usage("--healthcheck-method must be GET, POST or HEAD, not \"\(method)\"")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw .usage("--healthcheck-url needs an http:// or https:// URL, got \"\(url)\"")
        }
        self.url = url
        self.method = method.uppercased()
        self.expectedStatus = expectedStatus
        self.timeout = timeout
    }

    /// Sends the ping; returns nil on success, else what went wrong.
    public func ping(summary: String) -> String? {
        guard let handle = curl_easy_init() else { return "libcurl could not create a handle" }
        defer { curl_easy_cleanup(handle) }
        _ = postroom_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = postroom_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeout)
        _ = postroom_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = postroom_curl_setopt_string(handle, CURLOPT_USERAGENT, "postroom-deliver")
        // Discard the response body rather than let libcurl print it.
        _ = postroom_curl_setopt_io_callback(handle, CURLOPT_WRITEFUNCTION, { _, size, count, _ in size * count })
        switch method {
        case "HEAD": _ = postroom_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        case "POST": _ = postroom_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, summary)
        default: break
        }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { return String(cString: curl_easy_strerror(code)) }
        var status = 0
        _ = postroom_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let ok = expectedStatus.map { $0 == status } ?? (200..<300).contains(status)
        return ok ? nil : "HTTP status \(status)" + (expectedStatus.map { ", expected \($0)" } ?? "")
    }
}
