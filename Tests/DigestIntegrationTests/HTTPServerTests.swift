import DigestServe
import DigestTestSupport
import Foundation
import Testing

/// The HTTP layer of `digest serve` in this process, with short limits, against a plain TCP client on
/// loopback: stalled clients, slow handlers, too many connections, and stopping with a request in progress.
@Suite("The HTTP server's limits", .serialized)
struct HTTPServerTests {
    /// Answers `/slow` after half a second, `/stuck` after a minute, anything else at once.
    struct Responder: HTTPResponder {
        let events: Lines

        func respond(to request: HTTPRequest) async -> HTTPResponse {
            switch request.path {
            case "/slow":
                events.append("slow request started")
                try? await Task.sleep(for: .milliseconds(500))
            case "/stuck": try? await Task.sleep(for: .seconds(60))
            default: break
            }
            return HTTPResponse(status: 200, contentType: "text/plain", body: "done \(request.path)\n")
        }
    }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    /// Runs `body` on a thread of its own: the client blocks on sockets, the server must not wait for it.
    func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    func start(_ limits: HTTPLimits) throws -> (HTTPServer, Task<Void, any Error>, Lines) {
        let lines = Lines()
        let server = try HTTPServer(
            host: "127.0.0.1", port: 0, limits: limits, responder: Responder(events: lines),
            log: { lines.append($0) })
        return (server, Task { try await server.run() }, lines)
    }

    @Test func aStalledRequestGets408AndAnIdleConnectionIsClosed() async throws {
        var limits = HTTPLimits()
        limits.requestTimeout = .milliseconds(400)
        let (server, task, lines) = try start(limits)
        let port = Int(server.port)
        let (partial, idle) = try await offThePool {
            let started = Date()
            let partial = try HTTPTestClient.exchange(port: port, "GET / HTTP/1.1\r\nHost: x\r\nX-Half", timeout: 5)
            let socket = try HTTPTestClient.connect(port: port)
            defer { close(socket) }
            let idle = try HTTPTestClient.readAll(socket, timeout: 5)
            return ((partial.status, Date().timeIntervalSince(started)), idle)
        }
        #expect(partial.0 == 408)
        #expect(idle.isEmpty)
        #expect(partial.1 < 4, "both connections were closed by the server, long before the client gave up")
        server.shutdown()
        try await task.value
        #expect(lines.all.contains { $0.contains("\"-\" 408") })
    }

    @Test func aHandlerThatTakesTooLongGives503() async throws {
        var limits = HTTPLimits()
        limits.handlerTimeout = .milliseconds(200)
        let (server, task, _) = try start(limits)
        let port = Int(server.port)
        let status = try await offThePool { try HTTPTestClient.request(port: port, "GET", "/stuck").status }
        #expect(status == 503)
        server.shutdown()
        try await task.value
    }

    @Test func oneConnectionOverTheLimitGets503() async throws {
        var limits = HTTPLimits()
        limits.maxConnections = 2
        let (server, task, _) = try start(limits)
        let port = Int(server.port)
        let status = try await offThePool {
            let first = try HTTPTestClient.connect(port: port)
            let second = try HTTPTestClient.connect(port: port)
            defer {
                close(first)
                close(second)
            }
            usleep(200_000)
            return try HTTPTestClient.request(port: port, "GET", "/").status
        }
        #expect(status == 503)
        // Once those two are gone, it serves again.
        let after = try await offThePool { () -> Int in
            for _ in 0..<50 {
                let status = try HTTPTestClient.request(port: port, "GET", "/").status
                if status == 200 { return status }
                usleep(50_000)
            }
            return 0
        }
        #expect(after == 200)
        server.shutdown()
        try await task.value
    }

    @Test func stoppingFinishesTheRequestInProgressAndRefusesNewOnes() async throws {
        let (server, task, lines) = try start(HTTPLimits())
        let port = Int(server.port)
        let inProgress = Task {
            try await offThePool { try HTTPTestClient.request(port: port, "GET", "/slow") }
        }
        // An idle keep-alive connection too: it must not hold the stop up.
        let idle = try await offThePool { try HTTPTestClient.connect(port: port) }
        defer { close(idle) }
        // Stop only once the slow request is being answered, however busy the machine is.
        for _ in 0..<500 where !lines.all.contains("slow request started") {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(lines.all.contains("slow request started"))
        let stopping = ContinuousClock.now
        server.shutdown()
        try await task.value
        let response = try await inProgress.value
        #expect(response.status == 200)
        #expect(response.body == "done /slow\n")
        #expect(response.headers["connection"] == "close")
        #expect(ContinuousClock.now - stopping < .seconds(5))
        #expect(lines.all.contains { $0.contains("\"GET /slow HTTP/1.1\" 200") })
        let refused = try await offThePool { () -> Bool in
            (try? HTTPTestClient.request(port: port, "GET", "/")) == nil
        }
        #expect(refused)
    }
}
