import FlyingSocks
import Foundation

/// What answers requests; it never throws: every failure is a response.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) async -> HTTPResponse
}

/// A small HTTP/1.1 server over FlyingSocks' non-blocking sockets (epoll on Linux): keep-alive, strict
/// limits on heads and bodies, a deadline on reading each request, on writing each response and on
/// each handler, a cap on open connections, an access log line per request, and a graceful stop.
///
/// FlyingFox's own HTTP layer reads request lines and headers without a size limit and has no read
/// timeout, which a server facing the internet needs; its socket layer is what is used here.
public final class HTTPServer: Sendable {
    public let limits: HTTPLimits
    let responder: any HTTPResponder
    let log: @Sendable (String) -> Void
    let listener: Socket
    /// The address the server listens on, e.g. `127.0.0.1:8025`.
    public let address: String
    public let port: UInt16
    let state = Locked(State())

    struct State {
        var draining = false
        var nextID = 0
        var connections: [Int: Connection] = [:]
        var acceptTask: Task<Void, Never>?
    }

    struct Connection {
        var task: Task<Void, Never>?
        /// Reading or answering a request (not idle between requests).
        var busy = false
    }

    /// Binds and listens at once, so a taken port or a bad host is reported before anything else.
    /// `host` is an IP address (`127.0.0.1`, `0.0.0.0`, `::1`, `::`) or `localhost`; port 0 picks a free one.
    public init(
        host: String, port: UInt16, limits: HTTPLimits = HTTPLimits(), responder: any HTTPResponder,
        log: @escaping @Sendable (String) -> Void
    ) throws {
        self.limits = limits
        self.responder = responder
        self.log = log
        let ip = host == "localhost" ? "127.0.0.1" : host
        let socket: Socket
        do {
            if ip.contains(":") {
                let address = try sockaddr_in6.inet6(ip6: ip, port: port)
                socket = try Socket(domain: Int32(sockaddr_in6.family))
                try socket.setValue(true, for: .localAddressReuse)
                try socket.bind(to: address)
            } else {
                let address = try sockaddr_in.inet(ip4: ip, port: port)
                socket = try Socket(domain: Int32(sockaddr_in.family))
                try socket.setValue(true, for: .localAddressReuse)
                try socket.bind(to: address)
            }
            try socket.listen(maxPendingConnection: 1024)
        } catch SocketError.failed(_, let errno, _) where errno == EADDRINUSE {
            throw ServeError("port \(port) on \(host) is taken by another program: choose another --port")
        } catch SocketError.failed(_, let errno, _) where errno == EACCES {
            throw ServeError("port \(port) needs root: choose a port above 1023 (and let the reverse proxy have 443)")
        } catch {
            throw ServeError("cannot listen on \(host) port \(port): \(error.localizedDescription)")
        }
        self.listener = socket
        switch try? socket.sockname() {
        case .ip4(let name, let bound)?:
            self.address = "\(name):\(bound)"
            self.port = bound
        case .ip6(let name, let bound)?:
            self.address = "[\(name)]:\(bound)"
            self.port = bound
        default:
            self.address = "\(host):\(port)"
            self.port = port
        }
    }

    /// Whether `host` is something the server can listen on: an IPv4 or IPv6 address, or `localhost`.
    public static func isIPAddress(_ host: String) -> Bool {
        if host == "localhost" { return true }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Serves until `shutdown()`, then waits for the requests in progress (up to `limits.shutdownGrace`).
    public func run() async throws {
        #if os(Linux)
            let pool = SocketPool.ePoll()
        #else
            let pool = SocketPool.poll()
        #endif
        try await pool.prepare()
        let poolTask = Task { try await pool.run() }
        defer { poolTask.cancel() }
        let asyncListener = try AsyncSocket(socket: listener, pool: pool)
        let acceptTask = Task { await self.acceptLoop(asyncListener) }
        let alreadyDraining = state.withLock { state in
            state.acceptTask = acceptTask
            return state.draining
        }
        if alreadyDraining { acceptTask.cancel() }
        await acceptTask.value
        try? listener.close()
        // Connections idle between requests were closed by shutdown(); the busy ones finish their request.
        let clock = ContinuousClock()
        let deadline = clock.now + limits.shutdownGrace
        while clock.now < deadline, state.withLock({ !$0.connections.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = state.withLock { state in state.connections.values.compactMap(\.task) }
        for task in left { task.cancel() }
        for task in left { await task.value }
    }

    /// Stops accepting connections, closes idle ones, and lets `run()` return once the requests in
    /// progress are answered. Safe to call more than once, from any thread (a signal handler's queue).
    public func shutdown() {
        let (accept, idle) = state.withLock { state in
            state.draining = true
            return (state.acceptTask, state.connections.values.filter { !$0.busy }.compactMap(\.task))
        }
        accept?.cancel()
        for task in idle { task.cancel() }
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    func acceptLoop(_ listener: AsyncSocket) async {
        while !Task.isCancelled {
            let client: AsyncSocket
            do {
                client = try await listener.accept()
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                // Out of file descriptors and the like: say so, breathe, go on.
                log("error: accepting a connection failed: \(error)")
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let admitted: Int? = state.withLock { state in
                guard !state.draining, state.connections.count < limits.maxConnections else { return nil }
                state.nextID += 1
                state.connections[state.nextID] = Connection()
                return state.nextID
            }
            guard let id = admitted else {
                Task { await self.refuse(client) }
                continue
            }
            let task = Task { await self.serve(client, id: id) }
            state.withLock { state in
                if state.connections[id] != nil { state.connections[id]?.task = task }
            }
        }
    }

    func refuse(_ client: AsyncSocket) async {
        let response = HTTPResponse(
            status: 503, contentType: "text/plain; charset=utf-8", body: "The server is busy; try again shortly.\n",
            headers: SecurityHeaders.plain + [("Retry-After", "1")])
        _ = try? await withDeadline(.seconds(1)) { try await client.write(Data(response.encoded(closing: true))) }
        try? client.close()
    }

    func setBusy(_ id: Int, _ busy: Bool) {
        state.withLock { $0.connections[id]?.busy = busy }
    }

    /// One connection: requests one after another until the client closes, asks to close, breaks a
    /// rule, stalls, or the server stops.
    func serve(_ client: AsyncSocket, id: Int) async {
        let remote = Self.describe(try? client.socket.remotePeer())
        defer {
            try? client.close()
            _ = state.withLock { $0.connections.removeValue(forKey: id) }
        }
        var buffer: [UInt8] = []
        let clock = ContinuousClock()
        while !isDraining && !Task.isCancelled {
            let deadline = clock.now + limits.requestTimeout
            var request: HTTPRequest
            var started = clock.now
            do {
                var headEnd = HTTPParser.headEnd(in: buffer)
                while headEnd == nil {
                    if buffer.count > limits.maxHeadBytes {
                        throw HTTPParseError(
                            status: 431, message: "the request head is over \(limits.maxHeadBytes) bytes")
                    }
                    let chunk = try await withDeadline(deadline - clock.now) {
                        try await client.read(atMost: 16 * 1024)
                    }
                    if buffer.isEmpty {
                        started = clock.now
                        setBusy(id, true)
                    }
                    buffer += chunk
                    headEnd = HTTPParser.headEnd(in: buffer)
                }
                guard let end = headEnd, end <= limits.maxHeadBytes else {
                    throw HTTPParseError(status: 431, message: "the request head is over \(limits.maxHeadBytes) bytes")
                }
                let (parsed, bodyLength) = try HTTPParser.parseHead(buffer[..<end], limits: limits)
                request = parsed
                while buffer.count < end + bodyLength {
                    let chunk = try await withDeadline(deadline - clock.now) {
                        try await client.read(atMost: 16 * 1024)
                    }
                    buffer += chunk
                }
                request.body = Array(buffer[end..<(end + bodyLength)])
                buffer.removeFirst(end + bodyLength)
            } catch let error as HTTPParseError {
                await answerError(error.status, error.message, client: client, remote: remote, started: started)
                return
            } catch is DeadlineExceeded {
                // Idle between requests: close quietly. Part of a request came: say why.
                if !buffer.isEmpty {
                    await answerError(
                        408, "the request did not arrive in time", client: client, remote: remote, started: started)
                }
                return
            } catch {
                return  // the client went away, or the server is stopping
            }
            request.remote = remote
            let response: HTTPResponse
            do {
                let handled = request
                response = try await withDeadline(limits.handlerTimeout) { await self.responder.respond(to: handled) }
            } catch {
                response = HTTPResponse(
                    status: 503, contentType: "text/plain; charset=utf-8",
                    body: "The server took too long; try again.\n", headers: SecurityHeaders.plain)
            }
            let closing = !request.keepAlive || isDraining
            let bytes = response.encoded(closing: closing, includeBody: request.method != "HEAD")
            let written: Bool
            do {
                try await withDeadline(limits.writeTimeout) { try await client.write(Data(bytes)) }
                written = true
            } catch {
                written = false
            }
            logAccess(request, status: response.status, bytes: response.body.count, started: started)
            setBusy(id, false)
            if closing || !written { return }
        }
    }

    func answerError(
        _ status: Int, _ message: String, client: AsyncSocket, remote: String, started: ContinuousClock.Instant
    )
        async
    {
        let response = HTTPResponse(
            status: status, contentType: "text/plain; charset=utf-8", body: message + "\n",
            headers: SecurityHeaders.plain)
        _ = try? await withDeadline(limits.writeTimeout) {
            try await client.write(Data(response.encoded(closing: true)))
        }
        await linger(client)
        log("\(Self.timestamp()) \(remote) \"-\" \(status) \(response.body.count) - \(message)")
    }

    /// Closes our side for writing, then reads and drops what the client is still sending (an oversized
    /// body, say) for a moment: closing with unread bytes would make the kernel reset the connection,
    /// and the client could lose the error response before reading it.
    func linger(_ client: AsyncSocket) async {
        _ = Foundation.shutdown(client.socket.file.rawValue, Int32(SHUT_WR))
        let deadline = ContinuousClock.now + .seconds(2)
        var drained = 0
        while drained < 8 * 1024 * 1024 {
            guard
                let chunk = try? await withDeadline(
                    deadline - ContinuousClock.now,
                    {
                        try await client.read(atMost: 64 * 1024)
                    })
            else { return }
            drained += chunk.count
        }
    }

    func logAccess(_ request: HTTPRequest, status: Int, bytes: Int, started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        log(
            "\(Self.timestamp()) \(request.remote) \"\(request.method) \(request.loggedTarget) \(request.version)\" "
                + "\(status) \(bytes) \(String(format: "%.1f", milliseconds))ms")
    }

    static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func describe(_ address: Socket.Address?) -> String {
        switch address {
        case .ip4(let name, _)?: name
        case .ip6(let name, _)?: name
        case .unix(let path)?: path.isEmpty ? "unix" : path
        case nil: "-"
        }
    }
}

/// A failure of `digest serve` to start, with what to do.
public struct ServeError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

struct DeadlineExceeded: Error {}

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` when it takes longer than `duration`.
func withDeadline<T: Sendable>(_ duration: Duration, _ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    guard duration > .zero else { throw DeadlineExceeded() }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw DeadlineExceeded() }
        return first
    }
}

/// A value behind a lock, for state that threads and tasks share.
extension HTTPServer {
    /// A Host header that is a plain host name or address with an optional port: safe to echo into a link.
    static func isHostHeader(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 255
            && value.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) && $0.isASCII || ".-:[]".unicodeScalars.contains($0)
            }
    }
}

final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
