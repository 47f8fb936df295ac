import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Looks names up. The checks take any lookup, so they can be tested with recorded answers.
public protocol DNSLookup: Sendable {
    func query(_ name: String, _ type: DNSType) throws -> DNSAnswer
}

/// A DNS server's address: an IPv4 or IPv6 literal and a port.
public struct DNSServer: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16 = 53) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`, `HOST` (port 53), `[IPV6]:PORT` or a bare IPv6 address; nil when not an IP address.
    public init?(_ text: String) {
        var host = text
        var port: UInt16 = 53
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = UInt16(rest.dropFirst()), number > 0 else { return nil }
                port = number
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let number = UInt16(text[text.index(after: colon)...]), number > 0 else { return nil }
            port = number
        }
        guard DNSServer.family(of: host) != nil else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func family(of host: String) -> Int32? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return AF_INET }
        if inet_pton(AF_INET6, host, &v6) == 1 { return AF_INET6 }
        return nil
    }

    /// The `nameserver` lines of a resolv.conf, in order.
    public static func fromResolvConf(_ text: String) -> [DNSServer] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            return DNSServer(host: String(words[1]))
        }
    }
}

/// A small stub resolver: asks recursive servers over UDP, and again over TCP when the UDP answer comes
/// back truncated (TXT records of 2048- and 4096-bit DKIM keys pass 512 bytes). Blocking: call it off
/// Swift's cooperative pool (the checker does).
public struct DNSClient: DNSLookup {
    public var servers: [DNSServer]
    /// Seconds to wait for each answer.
    public var timeout: Double
    /// Tries per server over UDP before the next server.
    public var attempts: Int

    public init(servers: [DNSServer], timeout: Double = 3, attempts: Int = 2) {
        self.servers = servers
        self.timeout = timeout
        self.attempts = attempts
    }

    /// The servers of /etc/resolv.conf (127.0.0.1 when it names none, as glibc does).
    public static func system(timeout: Double = 3) -> DNSClient {
        let text = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let servers = DNSServer.fromResolvConf(text)
        return DNSClient(servers: servers.isEmpty ? [DNSServer(host: "127.0.0.1")] : servers, timeout: timeout)
    }

    public func query(_ name: String, _ type: DNSType) throws -> DNSAnswer {
        var lastFailure = DNSFailure("no DNS server configured")
        for server in servers {
            for _ in 0..<max(1, attempts) {
                do {
                    let id = UInt16.random(in: 0...UInt16.max)
                    let question = try DNSWire.query(id: id, name: name, type: type)
                    var parsed = try exchangeUDP(question, id: id, server: server)
                    if parsed.truncated {
                        parsed = try exchangeTCP(question, id: id, server: server)
                    }
                    if case .other(let code) = parsed.answer.code {
                        // SERVFAIL, REFUSED…: another server may do better.
                        lastFailure = DNSFailure("\(server) answered \(Self.codeName(code)) for \(name) \(type)")
                        break
                    }
                    return parsed.answer
                } catch let failure as DNSFailure {
                    lastFailure = failure
                }
            }
        }
        throw lastFailure
    }

    static func codeName(_ code: Int) -> String {
        switch code {
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "error \(code)"
        }
    }

    private func connectedSocket(_ server: DNSServer, type: Int32) throws -> Int32 {
        guard let family = DNSServer.family(of: server.host) else { throw DNSFailure("bad server \(server)") }
        #if canImport(Glibc)
            let fd = socket(family, Int32(type), 0)
        #else
            let fd = socket(family, type, 0)
        #endif
        guard fd >= 0 else { throw DNSFailure("cannot open a socket: \(String(cString: strerror(errno)))") }
        var time = timeval()
        time.tv_sec = .init(timeout)
        time.tv_usec = .init((timeout - floor(timeout)) * 1_000_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = server.port.bigEndian
            inet_pton(AF_INET, server.host, &address.sin_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = server.port.bigEndian
            inet_pton(AF_INET6, server.host, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw DNSFailure("cannot reach the DNS server \(server): \(reason)")
        }
        return fd
    }

    private func exchangeUDP(_ question: [UInt8], id: UInt16, server: DNSServer) throws -> DNSWire.Parsed {
        #if canImport(Glibc)
            let fd = try connectedSocket(server, type: Int32(SOCK_DGRAM.rawValue))
        #else
            let fd = try connectedSocket(server, type: SOCK_DGRAM)
        #endif
        defer { close(fd) }
        guard send(fd, question, question.count, 0) == question.count else {
            throw DNSFailure("cannot send to the DNS server \(server): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw DNSFailure("the DNS server \(server) did not answer in \(timeout) s") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw DNSFailure("the DNS server \(server) did not answer in \(timeout) s") }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else {
                throw DNSFailure("no answer from the DNS server \(server): \(String(cString: strerror(errno)))")
            }
            // A stray or late datagram for another question is ignored.
            if let parsed = try? DNSWire.parse(Array(buffer[0..<count])), parsed.id == id { return parsed }
        }
    }

    private func exchangeTCP(_ question: [UInt8], id: UInt16, server: DNSServer) throws -> DNSWire.Parsed {
        #if canImport(Glibc)
            let fd = try connectedSocket(server, type: Int32(SOCK_STREAM.rawValue))
        #else
            let fd = try connectedSocket(server, type: SOCK_STREAM)
        #endif
        defer { close(fd) }
        let framed = [UInt8(question.count >> 8), UInt8(question.count & 0xFF)] + question
        guard send(fd, framed, framed.count, 0) == framed.count else {
            throw DNSFailure("cannot send to the DNS server \(server) over TCP: \(String(cString: strerror(errno)))")
        }
        func read(_ count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let received = bytes.withUnsafeMutableBytes { raw in
                    recv(fd, raw.baseAddress.map { $0 + got }, count - got, 0)
                }
                if received < 0 && errno == EINTR { continue }
                guard received > 0 else {
                    throw DNSFailure("the DNS server \(server) did not answer over TCP in \(timeout) s")
                }
                got += received
            }
            return bytes
        }
        let prefix = try read(2)
        let parsed = try DNSWire.parse(try read(Int(prefix[0]) << 8 | Int(prefix[1])))
        guard parsed.id == id else { throw DNSFailure("the DNS server \(server) answered another question") }
        return parsed
    }
}

/// Answers from a table, for tests and for recording: a name and type with no entry does not exist.
public struct RecordedDNS: DNSLookup {
    public var answers: [String: DNSAnswer]
    public var failures: Set<String>

    /// `answers` keyed by `"name TYPE"` (e.g. `"example.org TXT"`), names without the final dot.
    public init(_ answers: [String: DNSAnswer], failures: Set<String> = []) {
        self.answers = answers
        self.failures = failures
    }

    public func query(_ name: String, _ type: DNSType) throws -> DNSAnswer {
        let key = "\(name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))) \(type)"
        if failures.contains(key) { throw DNSFailure("the DNS server did not answer in 3.0 s") }
        if let answer = answers[key] { return answer }
        let exists = answers.keys.contains { $0.hasPrefix(key.split(separator: " ")[0] + " ") }
        return DNSAnswer(code: exists ? .noError : .nameError, records: [])
    }
}
