import DigestCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A response as the bytes came back: status, headers (names in lower case) and body.
public struct RawResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String
    public var raw: String
}

/// A plain TCP client on loopback that sends exactly the bytes it is given (no normalising of paths,
/// no helpful headers), so tests can send what a browser never would.
public enum HTTPTestClient {
    /// Connects to 127.0.0.1:`port`, sends `request`, and reads until the server closes or `timeout` passes.
    /// Off the cooperative pool (see `offThePool`): the server may be in this process.
    public static func exchange(port: Int, _ request: [UInt8], timeout: TimeInterval = 10) async throws
        -> RawResponse
    {
        try await offThePool { try exchangeBlocking(port: port, request, timeout: timeout) }
    }

    /// The same on the calling thread, for tests that run their own client threads.
    public static func exchangeBlocking(port: Int, _ request: [UInt8], timeout: TimeInterval = 10) throws
        -> RawResponse
    {
        let socket = try connect(port: port)
        defer { close(socket) }
        try send(socket, request)
        return parse(try readAllBlocking(socket, timeout: timeout))
    }

    public static func exchange(port: Int, _ request: String, timeout: TimeInterval = 10) async throws -> RawResponse {
        try await exchange(port: port, Array(request.utf8), timeout: timeout)
    }

    /// A GET or POST with `Connection: close` and any `headers`.
    public static func request(
        port: Int, _ method: String, _ target: String, body: String? = nil,
        contentType: String = "application/x-www-form-urlencoded", headers: [String: String] = [:]
    ) async throws -> RawResponse {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        return try await exchange(port: port, text)
    }

    public static func connect(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw SetupFailure(message: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(socket)
            throw SetupFailure(message: "cannot connect to 127.0.0.1:\(port)")
        }
        return socket
    }

    public static func send(_ socket: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw SetupFailure(message: "the server stopped reading after \(sent) bytes") }
            sent += count
        }
    }

    /// Reads until the peer closes, or `timeout` seconds pass (then returns what came), off the pool.
    public static func readAll(_ socket: Int32, timeout: TimeInterval) async throws -> [UInt8] {
        try await offThePool { try readAllBlocking(socket, timeout: timeout) }
    }

    private static func readAllBlocking(_ socket: Int32, timeout: TimeInterval) throws -> [UInt8] {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready <= 0 { break }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return received
    }

    public static func parse(_ bytes: [UInt8]) -> RawResponse {
        let raw = String(decoding: bytes, as: UTF8.self)
        guard let split = raw.range(of: "\r\n\r\n") else {
            return RawResponse(status: 0, headers: [:], body: "", raw: raw)
        }
        let lines = raw[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return RawResponse(status: status, headers: headers, body: String(raw[split.upperBound...]), raw: raw)
    }
}

/// `digest serve` started from the built binary on a free loopback port, its output in files.
public final class ServeProcess: @unchecked Sendable {
    public let port: Int
    public let process: Process
    public let output: URL
    public let errors: URL

    public init(binary: String, arguments: [String], environment: [String: String], directory: URL) throws {
        let folder = try Repository.temporaryFolder("serve-log")
        output = folder.appendingPathComponent("stdout.log")
        errors = folder.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0"] + arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            process.terminate()
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw SetupFailure(message: "digest serve did not start: \(stderr)")
        }
        port = found
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `timeout`); returns the exit status.
    @discardableResult
    public func stop(timeout: TimeInterval = 15) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    public var errorLog: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }
}

/// What `Tests/Support/http_load.py` prints when it is done: requests sent, answers by status, errors (with
/// the first few), retries of refused connections, and the time it took.
public struct LoadReport: Decodable, Sendable {
    public var requests: Int
    public var statuses: [String: Int]
    public var errors: Int
    public var firstErrors: [String]
    public var retries: Int
    public var seconds: Double
    public var rate: Double

    enum CodingKeys: String, CodingKey {
        case requests, statuses, errors, retries, seconds, rate
        case firstErrors = "first_errors"
    }

    /// Reads the script's standard output.
    public init(json: String) throws {
        self = try JSONDecoder().decode(LoadReport.self, from: Data(json.utf8))
    }
}
