import Foundation

/// One HTTP/1.1 request as the server read it: the head parsed and checked, the body whole.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent (`/unsubscribe?t=…`).
    public var target: String
    /// The path with percent-escapes decoded, checked to hold no `..` segment, backslash or control character.
    public var path: String
    /// The query's `name=value` pairs, decoded (`+` as a space).
    public var query: [String: String]
    public var version: String
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The peer's address, for the access log.
    public var remote: String

    public init(
        method: String, target: String, path: String, query: [String: String] = [:], version: String = "HTTP/1.1",
        headers: [String: String] = [:], body: [UInt8] = [], remote: String = "-"
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.remote = remote
    }

    /// Whether the client asked to keep the connection open (HTTP/1.1 by default, 1.0 only when asked).
    var keepAlive: Bool {
        let connection = headers["connection"]?.lowercased() ?? ""
        if version == "HTTP/1.0" { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }

    /// The target as the access log shows it: the query of /unsubscribe holds a reader's token (a
    /// capability to unsubscribe them), so it is never written down.
    public var loggedTarget: String {
        guard let mark = target.firstIndex(of: "?") else { return target }
        if path == "/unsubscribe" || path.hasPrefix("/unsubscribe/") { return target[..<mark] + "?[redacted]" }
        // A confirmation token is a capability too: confirming a sign-up.
        if path == "/confirm" { return target[..<mark] + "?[redacted]" }
        return target
    }
}

/// A response: status, headers and the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, contentType: String, body: String, headers: [(String, String)] = []) {
        self.init(status: status, headers: [("Content-Type", contentType)] + headers, body: Array(body.utf8))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }

    /// The bytes on the wire: status line, headers (with Content-Length and Connection), body.
    func encoded(closing: Bool, includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n"
        head += closing ? "Connection: close\r\n\r\n" : "\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}

/// Limits on what a client may send; a request over any of them is answered with an error and the
/// connection closed, before the rest of it is read.
public struct HTTPLimits: Sendable {
    /// The request line and headers together.
    public var maxHeadBytes = 16 * 1024
    public var maxHeaderCount = 64
    /// A one-click POST body is 26 bytes; a browser's form POST a little more.
    public var maxBodyBytes = 16 * 1024
    /// From the moment the server waits for a request until it has all of it (an idle keep-alive
    /// connection included): slow or stalled clients lose their connection.
    public var requestTimeout: Duration = .seconds(10)
    /// How long a response may take to be written to a client that does not read.
    public var writeTimeout: Duration = .seconds(10)
    /// How long a handler may take before the client gets 503.
    public var handlerTimeout: Duration = .seconds(15)
    /// Connections open at once; one more gets 503 and is closed.
    public var maxConnections = 512
    /// After SIGTERM: how long requests in progress may take before their connections are closed.
    public var shutdownGrace: Duration = .seconds(10)

    public init() {}
}

/// Why a request head could not be used: the status to answer with and a sentence for the client.
struct HTTPParseError: Error, Equatable {
    var status: Int
    var message: String
}

/// Parses request heads strictly: origin-form targets, HTTP/1.0 or 1.1, `name: value` headers with
/// token names, one Content-Length of digits, no Transfer-Encoding.
enum HTTPParser {
    /// The index just past the blank line that ends the head, if `buffer` holds a whole head.
    static func headEnd(in buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        var index = 3
        while index < buffer.count {
            if buffer[index] == 0x0A && buffer[index - 1] == 0x0D && buffer[index - 2] == 0x0A
                && buffer[index - 3] == 0x0D
            {
                return index + 1
            }
            index += 1
        }
        return nil
    }

    /// The request of a head (without its body), and the body's length.
    static func parseHead(_ head: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> (
        HTTPRequest, bodyLength: Int
    ) {
        guard let text = String(bytes: head, encoding: .utf8) else {
            throw HTTPParseError(status: 400, message: "the request head is not UTF-8")
        }
        var lines = text.components(separatedBy: "\r\n")
        while lines.last == "" { lines.removeLast() }
        guard let requestLine = lines.first else { throw HTTPParseError(status: 400, message: "empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw HTTPParseError(status: 400, message: "the request line must be: METHOD /path HTTP/1.1")
        }
        let method = String(parts[0])
        let target = String(parts[1])
        let version = String(parts[2])
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw HTTPParseError(status: 400, message: "'\(method.prefix(20))' is not a method")
        }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(status: 505, message: "only HTTP/1.1 and HTTP/1.0 are spoken here")
        }
        guard target.hasPrefix("/"), target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPParseError(status: 400, message: "the request target must be a path starting with /")
        }
        var headers: [String: String] = [:]
        let headerLines = lines.dropFirst()
        if headerLines.count > limits.maxHeaderCount {
            throw HTTPParseError(status: 431, message: "more than \(limits.maxHeaderCount) header fields")
        }
        for line in headerLines {
            guard let colon = line.firstIndex(of: ":"), line.first != " ", line.first != "\t" else {
                throw HTTPParseError(status: 400, message: "a header line is not 'Name: value'")
            }
            let name = line[..<colon].lowercased()
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw HTTPParseError(status: 400, message: "a header name holds a character names cannot have")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            if name == "content-length", let earlier = headers[name], earlier != value {
                throw HTTPParseError(status: 400, message: "two different Content-Length headers")
            }
            headers[name] = headers[name].map { name == "content-length" ? $0 : $0 + ", " + value } ?? value
        }
        if headers["transfer-encoding"] != nil {
            throw HTTPParseError(
                status: 501, message: "chunked request bodies are not accepted: send the body with a Content-Length")
        }
        var bodyLength = 0
        if let length = headers["content-length"] {
            guard !length.isEmpty, length.count <= 12, length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(length)
            else {
                throw HTTPParseError(status: 400, message: "Content-Length must be a number of bytes")
            }
            bodyLength = value
        }
        if bodyLength > limits.maxBodyBytes {
            throw HTTPParseError(
                status: 413, message: "the body is over \(limits.maxBodyBytes) bytes: nothing here takes that much")
        }
        let (path, rawQuery) = try Self.splitTarget(target)
        let request = HTTPRequest(
            method: method, target: target, path: path, query: Self.parseQuery(rawQuery), version: version,
            headers: headers)
        return (request, bodyLength)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// The decoded path and the raw query. A path that decodes to a `.` or `..` segment, a backslash, a
    /// control character or bytes that are not UTF-8 is refused: no path reaches the disk, but nothing
    /// that looks like a way out of a folder is even routed.
    static func splitTarget(_ target: String) throws(HTTPParseError) -> (String, String) {
        let pieces = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(pieces[0])
        let rawQuery = pieces.count > 1 ? String(pieces[1]) : ""
        guard let path = percentDecode(rawPath, plusIsSpace: false) else {
            throw HTTPParseError(status: 400, message: "the path has a broken %-escape")
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0 == ".." || $0 == "." }), !path.contains("\\"),
            !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw HTTPParseError(status: 400, message: "the path may not hold '.' or '..' segments or backslashes")
        }
        return (path, rawQuery)
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(String(parts[0]), plusIsSpace: true) else { continue }
            let value = parts.count > 1 ? percentDecode(String(parts[1]), plusIsSpace: true) : ""
            if let value, items[name] == nil { items[name] = value }
        }
        return items
    }

    /// `%XX` escapes decoded (and `+` as a space in forms); nil for a broken escape or bytes that are not UTF-8.
    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String? {
        guard text.utf8.contains(where: { $0 == 0x25 || (plusIsSpace && $0 == 0x2B) }) else { return text }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == 0x25 {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else if byte == 0x2B && plusIsSpace {
                bytes.append(0x20)
            } else {
                bytes.append(byte)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body.
    static func formFields(_ body: [UInt8]) -> [String: String] {
        parseQuery(String(decoding: body, as: UTF8.self))
    }
}
