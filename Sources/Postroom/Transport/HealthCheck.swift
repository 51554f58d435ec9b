import CCurl

/// A ping to a monitoring URL after each pass (healthchecks.io, Uptime Kuma, cron monitors).
///
/// A failed ping is reported, never a reason to stop sending. A failed pass (the relay could
/// not be reached, exit 75) is told to the monitor as `report` says, so it alerts at once
/// instead of seeing a success.
public struct HealthCheck: Sendable {
    /// How a failed pass shows in the ping.
    public enum Report: String, Sendable, CaseIterable {
        /// healthchecks.io's convention: `URL/fail` for a failed pass, `URL` for a good one.
        case fail
        /// `URL/STATUS` with the exit status, `URL/0` for a good pass (healthchecks.io).
        case exitStatus = "exit-status"
        /// Uptime Kuma's push URL: `status=up` or `status=down` and `msg=` set in the query.
        case uptimeKuma = "uptime-kuma"
    }

    /// The URL to request.
    public var url: String
    /// `GET`, `POST` (with the pass summary as the body) or `HEAD`.
    public var method: String
    /// The status that counts as success; nil accepts any 2xx.
    public var expectedStatus: Int?
    /// Seconds the whole request may take.
    public var timeout: Int
    /// How a failed pass changes the request.
    public var report: Report

    /// A health check; the method is checked here.
    public init(
        url: String, method: String = "GET", expectedStatus: Int? = nil, timeout: Int = 10, report: Report = .fail
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
        self.report = report
    }

    /// The URL to request after a pass that ends with `exitStatus` (0: the pass went through).
    public func url(exitStatus: Int32, summary: String) -> String {
        // The query (and fragment) stay after whatever is appended to the path.
        let queryStart = url.firstIndex { $0 == "?" || $0 == "#" } ?? url.endIndex
        var path = String(url[..<queryStart])
        let rest = String(url[queryStart...])
        let trimmed = path.hasSuffix("/") && !path.hasSuffix("://") ? String(path.dropLast()) : path
        switch report {
        case .fail:
            if exitStatus != 0 { path = trimmed + "/fail" }
            return path + rest
        case .exitStatus:
            return trimmed + "/\(exitStatus)" + rest
        case .uptimeKuma:
            let fragment = rest.firstIndex(of: "#").map { String(rest[$0...]) } ?? ""
            let query = rest.hasPrefix("?") ? String(rest.dropFirst().prefix { $0 != "#" }) : ""
            var items = query.split(separator: "&").map(String.init).filter {
                !$0.hasPrefix("status=") && !$0.hasPrefix("msg=") && $0 != "status" && $0 != "msg"
            }
            items.append("status=" + (exitStatus == 0 ? "up" : "down"))
            items.append("msg=" + Unsubscribe.percentEncoded(summary))
            return path + "?" + items.joined(separator: "&") + fragment
        }
    }

    /// Sends the ping for a pass that ends with `exitStatus`; returns nil on success, else what went wrong.
    public func ping(summary: String, exitStatus: Int32 = 0) -> String? {
        guard let handle = curl_easy_init() else { return "libcurl could not create a handle" }
        defer { curl_easy_cleanup(handle) }
        _ = postroom_curl_setopt_string(handle, CURLOPT_URL, url(exitStatus: exitStatus, summary: summary))
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
