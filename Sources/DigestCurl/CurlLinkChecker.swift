import CCurl
import DigestCore
import Foundation

/// Asks every link whether it still answers: a HEAD request first, then a GET for those whose HEAD
/// failed (many servers refuse HEAD), all at once through libcurl's multi interface on one thread,
/// each with a short timeout. A GET stops reading at the first byte of the body: the status is enough.
public struct CurlLinkChecker: Sendable {
    public var timeout: Int
    public var concurrency: Int
    public var userAgent: String

    public init(
        timeout: Int = 5, concurrency: Int = 16,
        userAgent: String = "digest/0.1 (link check; +https://github.com/digest)"
    ) {
        self.timeout = timeout
        self.concurrency = concurrency
        self.userAgent = userAgent
    }

    /// One pending or running request.
    final class Probe {
        let index: Int
        let url: String
        let handle: UnsafeMutableRawPointer
        var usesGET = false
        let started = Date()

        init(index: Int, url: String, handle: UnsafeMutableRawPointer) {
            self.index = index
            self.url = url
            self.handle = handle
        }
    }

    /// Checks `urls` and returns their outcomes in the same order.
    public func check(_ urls: [String]) -> [LinkCheck] {
        var results: [LinkCheck?] = Array(repeating: nil, count: urls.count)
        guard Curl.initialized, let multi = curl_multi_init() else {
            return urls.map {
                LinkCheck(
                    url: $0, outcome: .doubtful("libcurl could not be initialised"), status: 0, neededGET: false,
                    seconds: 0)
            }
        }
        defer { curl_multi_cleanup(multi) }
        var waiting = Array(urls.enumerated()).reversed().map { ($0.offset, $0.element) }
        var running: [UnsafeMutableRawPointer: Probe] = [:]

        func start(_ probe: Probe) {
            configure(probe)
            running[probe.handle] = probe
            curl_multi_add_handle(multi, probe.handle)
        }
        func admit() {
            while running.count < max(concurrency, 1), let (index, url) = waiting.popLast() {
                guard let handle = curl_easy_init() else {
                    results[index] = LinkCheck(
                        url: url, outcome: .doubtful("libcurl could not start a request"), status: 0, neededGET: false,
                        seconds: 0)
                    continue
                }
                start(Probe(index: index, url: url, handle: handle))
            }
        }

        admit()
        var active: Int32 = 0
        repeat {
            curl_multi_perform(multi, &active)
            // Requests added in this round start at the next perform, without waiting in poll first.
            var added = false
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                    let probe = running[handle]
                else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, handle)
                running[handle] = nil
                var status = 0
                _ = digest_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                // The GET's body is refused at its first byte, which libcurl reports as a write error.
                let answered = code == CURLE_OK || (code == CURLE_WRITE_ERROR && status > 0)
                if !probe.usesGET && !(answered && (200..<300).contains(status)) && Self.worthAGET(code) {
                    probe.usesGET = true
                    start(probe)
                    added = true
                    continue
                }
                results[probe.index] = LinkCheck(
                    url: probe.url, outcome: Self.outcome(code: code, answered: answered, status: status),
                    status: answered ? status : 0, neededGET: probe.usesGET,
                    seconds: Date().timeIntervalSince(probe.started))
                curl_easy_cleanup(handle)
            }
            let waitingBefore = waiting.count
            admit()
            added = added || waiting.count < waitingBefore
            if !added && active > 0 {
                curl_multi_poll(multi, nil, 0, 200, nil)
            }
        } while active > 0 || !running.isEmpty || !waiting.isEmpty
        return results.enumerated().map { index, result in
            result
                ?? LinkCheck(
                    url: urls[index], outcome: .doubtful("not checked"), status: 0, neededGET: false, seconds: 0)
        }
    }

    func configure(_ probe: Probe) {
        let handle = probe.handle
        _ = digest_curl_setopt_string(handle, CURLOPT_URL, probe.url)
        _ = digest_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = digest_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = digest_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        _ = digest_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
        _ = digest_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, timeout)
        _ = digest_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeout)
        _ = digest_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = digest_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
        _ = digest_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, refuseBody)
        if probe.usesGET {
            _ = digest_curl_setopt_long(handle, CURLOPT_NOBODY, 0)
            _ = digest_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        } else {
            _ = digest_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        }
    }

    /// A HEAD that failed at the HTTP level may work as a GET; a host that does not resolve or a
    /// request that timed out will not.
    static func worthAGET(_ code: CURLcode) -> Bool {
        code == CURLE_OK || code == CURLE_WRITE_ERROR || code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR
    }

    static func outcome(code: CURLcode, answered: Bool, status: Int) -> LinkCheck.Outcome {
        if answered {
            switch status {
            case 200..<300: return .answers
            case 401, 403, 429: return .doubtful("the server answered HTTP \(status) (it may turn robots away)")
            case 400..<500: return .broken("the server answered HTTP \(status)")
            default: return .doubtful("the server answered HTTP \(status)")
            }
        }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST: return .broken(LinkCheck.unresolvedHost)
        case CURLE_COULDNT_CONNECT: return .broken("the connection was refused")
        case CURLE_OPERATION_TIMEDOUT: return .doubtful("no answer within the time limit")
        case CURLE_TOO_MANY_REDIRECTS: return .broken("too many redirects")
        case CURLE_UNSUPPORTED_PROTOCOL: return .broken("not an http(s) link")
        default: return .doubtful(Curl.describe(code))
        }
    }
}

/// Takes no body: the status line and headers are all a link check needs.
let refuseBody: digest_curl_data_callback = { _, _, _, _ in 0 }
