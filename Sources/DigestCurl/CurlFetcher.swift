import CCurl
import Foundation

/// What a fetch brought back.
public struct FetchedDocument: Sendable {
    public var url: String
    /// The address after redirects.
    public var finalURL: String
    public var status: Int
    public var body: Data
    public var etag: String?
    public var lastModified: String?
    public var contentType: String?
    /// 304: the copy fetched last time is still current.
    public var notModified: Bool
    public var seconds: Double

    /// The charset of the Content-Type header, if it names one.
    public var charset: String? {
        guard let contentType else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "charset" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }
        }
        return nil
    }
}

/// Why a fetch failed, said for the editor.
public struct FetchError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var reason: String
    public var description: String { "\(url): \(reason)" }

    public init(url: String, reason: String) {
        self.url = url
        self.reason = reason
    }
}

/// Fetches feeds and pages over HTTP(S) or from `file://` with libcurl: bounded redirects, gzip and
/// deflate, connect and total timeouts, a size cap, a clear User-Agent and conditional GET.
/// One fetcher is one easy handle (its connections are reused); use one per thread.
public final class CurlFetcher {
    public struct Configuration: Sendable {
        public var connectTimeout: Int
        public var totalTimeout: Int
        public var maximumBytes: Int
        public var userAgent: String

        public init(
            connectTimeout: Int = 10, totalTimeout: Int = 30, maximumBytes: Int = 20 * 1024 * 1024,
            userAgent: String = "digest/0.1 (newsletter digest builder; +https://github.com/digest)"
        ) {
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.maximumBytes = maximumBytes
            self.userAgent = userAgent
        }
    }

    final class Download {
        var body = Data()
        var limit = 0
        var tooLarge = false
        var headers: [String: String] = [:]
    }

    let handle: UnsafeMutableRawPointer
    let configuration: Configuration
    let download = Download()
    let errorBuffer: UnsafeMutablePointer<CChar>

    public init(configuration: Configuration = Configuration()) throws {
        guard Curl.initialized, let handle = curl_easy_init() else {
            throw FetchError(url: "", reason: "libcurl could not be initialised")
        }
        self.handle = handle
        self.configuration = configuration
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Fetches `url`. With `etag` or `lastModified` from an earlier fetch, a server may answer 304.
    public func fetch(_ url: String, etag: String? = nil, lastModified: String? = nil) -> Result<
        FetchedDocument, FetchError
    > {
        download.body = Data()
        download.limit = configuration.maximumBytes
        download.tooLarge = false
        download.headers = [:]
        errorBuffer[0] = 0
        let opaque = Unmanaged.passUnretained(download).toOpaque()
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        if let etag { headers = curl_slist_append(headers, "If-None-Match: \(etag)") }
        if let lastModified { headers = curl_slist_append(headers, "If-Modified-Since: \(lastModified)") }
        defer { curl_slist_free_all(headers) }
        _ = digest_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = digest_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https,file")
        _ = digest_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = digest_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        _ = digest_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
        _ = digest_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        _ = digest_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, configuration.connectTimeout)
        _ = digest_curl_setopt_long(handle, CURLOPT_TIMEOUT, configuration.totalTimeout)
        _ = digest_curl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(configuration.maximumBytes))
        _ = digest_curl_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent)
        _ = digest_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = digest_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        _ = digest_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = digest_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, bodyCallback)
        _ = digest_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        _ = digest_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, httpHeaderCallback)
        _ = digest_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        let started = Date()
        let code = curl_easy_perform(handle)
        _ = digest_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
        var status = 0
        _ = digest_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let megabytes = configuration.maximumBytes / (1024 * 1024)
        if download.tooLarge || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(FetchError(url: url, reason: "larger than the \(megabytes) MB limit; not read"))
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let reason =
                code == CURLE_OPERATION_TIMEDOUT
                ? "timed out (\(detail))"
                : Curl.explain(code, address: Curl.address(of: url)) ?? (detail.isEmpty ? Curl.describe(code) : detail)
            return .failure(FetchError(url: url, reason: reason))
        }
        let isFile = url.lowercased().hasPrefix("file:")
        if !isFile && status != 200 && status != 304 {
            return .failure(FetchError(url: url, reason: "the server answered HTTP \(status)"))
        }
        return .success(
            FetchedDocument(
                url: url, finalURL: url, status: isFile ? 200 : status, body: download.body,
                etag: download.headers["etag"],
                lastModified: download.headers["last-modified"], contentType: download.headers["content-type"],
                notModified: status == 304, seconds: Date().timeIntervalSince(started)))
    }
}

/// Collects the body, refusing to go past the size cap (libcurl then stops with a write error).
let bodyCallback: digest_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer, let context else { return 0 }
    let download = Unmanaged<CurlFetcher.Download>.fromOpaque(context).takeUnretainedValue()
    if download.body.count + length > download.limit {
        download.tooLarge = true
        return 0
    }
    download.body.append(UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: length)
    return length
}

/// Keeps the headers of the last response (a redirect starts a new set).
let httpHeaderCallback: digest_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer, let context else { return length }
    let download = Unmanaged<CurlFetcher.Download>.fromOpaque(context).takeUnretainedValue()
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        download.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        download.headers[name] = value
    }
    return length
}
