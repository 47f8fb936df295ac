import DigestCore
import DigestServe
import DigestTestSupport
import Foundation
import Testing

/// The HTTP layer of `digest serve` in this process, with a handler that never finishes: the one limit a
/// request to the real command cannot reach. (Stalled clients, too many connections and SIGTERM are
/// tested on `digest serve` itself in ServeTests.) No timing is asserted here: this test process's
/// threads are shared with every other suite, which may keep them busy for a while.
@Suite("The HTTP server's limits", .serialized)
struct HTTPServerTests {
    /// Answers `/stuck` after an hour, anything else at once.
    struct Responder: HTTPResponder {
        let events: Lines

        func respond(to request: HTTPRequest) async -> HTTPResponse {
            switch request.path {
            case "/stuck": try? await Task.sleep(for: .seconds(3600))
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

    func start(_ limits: HTTPLimits) throws -> (HTTPServer, Task<Void, any Error>, Lines) {
        let lines = Lines()
        let server = try HTTPServer(
            host: "127.0.0.1", port: 0, limits: limits, responder: Responder(events: lines),
            log: { lines.append($0) })
        // High priority: its jobs go ahead of the other suites' queued tests on the shared threads. (Measured:
        // the 503 reached the client after 0.22 s while the test itself resumed 21 s later.)
        return (server, Task(priority: .high) { try await server.run() }, lines)
    }

    @Test func aHandlerThatTakesTooLongGives503() async throws {
        var limits = HTTPLimits()
        limits.handlerTimeout = .milliseconds(200)
        let (server, task, _) = try start(limits)
        let port = Int(server.port)
        // The client blocks on its socket on a thread of its own (HTTPTestClient uses offThePool). It waits
        // up to ten minutes: CPU-bound tests of other suites can hold both of the pool's threads, and so
        // this server, for tens of seconds (50 s once in CI). The handler would take an hour, so a 503
        // can only be the server's limit.
        let response = try await HTTPTestClient.exchange(
            port: port, "GET /stuck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: 600)
        #expect(response.status == 503)
        #expect(response.headers["x-content-type-options"] == "nosniff")
        server.shutdown()
        try await task.value
    }
}
