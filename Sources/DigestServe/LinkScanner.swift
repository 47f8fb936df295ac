/// Tells requests that look like a mail security gateway or a link preview from a person's click, as far
/// as a request alone can tell. Gateways (Microsoft Safe Links, Mimecast, Proofpoint, Barracuda) fetch
/// every link of a message within seconds of its delivery, often with HEAD, often without a user agent or
/// with a tool's; some present a browser's user agent, and those cannot be told from a reader.
enum LinkScanner {
    /// Words in user agents of scanners, previewers and HTTP tools, lower case.
    static let signatures = [
        "bot", "crawler", "spider", "preview", "scanner", "safelinks", "mimecast", "proofpoint", "barracuda",
        "fireeye", "trendmicro", "symantec", "forcepoint", "cisco", "ironport", "sophos", "bitdefender", "zscaler",
        "urldefense", "python-requests", "python-urllib", "curl/", "wget/", "go-http-client", "java/", "okhttp",
        "libwww", "httpclient", "headlesschrome", "phantomjs",
    ]

    static func looksLikeOne(_ request: HTTPRequest) -> Bool {
        if request.method == "HEAD" { return true }
        guard let agent = request.headers["user-agent"]?.lowercased(), !agent.isEmpty else { return true }
        return signatures.contains { agent.contains($0) }
    }
}
