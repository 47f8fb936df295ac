import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// `digest serve` run from the built binary on loopback, with a real SQLite store, as a reader's mail
/// provider, a browser and a prober would reach it.
@Suite("digest serve", .serialized)
struct ServeTests {
    let cli = DigestBinary()
    static let key = DigestBinary.serveKey

    @Test func oneClickUnsubscribeFromARealMessageIsRecordedAndIdempotentAndAForgedTokenChangesNothing() async throws {
        let readers = ["ana@example.org", "bob@example.org", "chen@example.org"]
        let workspace = try await cli.workspaceCopy(readers: readers)
        let token = try await cli.tokenFromASentMessage(to: "ana@example.org", workspace: workspace)
        let server = try cli.serve(workspace)

        // A mail scanner following the link: a page with a button, nobody unsubscribed.
        let page = try await HTTPTestClient.request(port: server.port, "GET", "/unsubscribe?t=\(token)")
        #expect(page.status == 200)
        #expect(page.body.contains("<form method=\"post\">"))
        #expect(page.body.contains("name=\"List-Unsubscribe\" value=\"One-Click\""))
        #expect(try cli.status(of: "ana@example.org", in: workspace) == "active")

        // The provider's RFC 8058 POST: 200, no redirect, and the store says so at once.
        let first = try await HTTPTestClient.request(
            port: server.port, "POST", "/unsubscribe?t=\(token)", body: "List-Unsubscribe=One-Click")
        #expect(first.status == 200, "\(first.raw)")
        #expect(first.headers["location"] == nil)
        #expect(try cli.status(of: "ana@example.org", in: workspace) == "unsubscribed")
        let again = try await HTTPTestClient.request(
            port: server.port, "POST", "/unsubscribe?t=\(token)", body: "List-Unsubscribe=One-Click")
        #expect(again.status == 200)
        #expect(try cli.status(of: "ana@example.org", in: workspace) == "unsubscribed")

        // Ana's signature on Bob's id, a token of another key, garbage: 400, and nobody else leaves.
        let parts = token.split(separator: ".")
        let forged = Base64URL.encode(Array("2".utf8)) + "." + parts[1]
        let otherKey = try #require(
            UnsubscribeSigner(secret: Array("another-key-0123456789".utf8), listID: "eaworldview.com"))
        for bad in [forged, otherKey.token(for: "3"), "garbage", ""] {
            let response = try await HTTPTestClient.request(
                port: server.port, "POST", "/unsubscribe?t=\(bad)", body: "List-Unsubscribe=One-Click")
            #expect(response.status == 400, "token \(bad)")
        }
        // A POST without the one-click body is refused too.
        let noBody = try await HTTPTestClient.request(port: server.port, "POST", "/unsubscribe?t=\(token)", body: "")
        #expect(noBody.status == 400)
        #expect(try cli.status(of: "bob@example.org", in: workspace) == "active")
        #expect(try cli.status(of: "chen@example.org", in: workspace) == "active")

        #expect(server.stop() == 0)
        // The token is a capability: the access log never shows it.
        #expect(server.log.contains("\"POST /unsubscribe?[redacted] HTTP/1.1\" 200"))
        #expect(!server.log.contains(String(parts[1])))
        #expect(server.log.contains("digest serve: stopped"))
    }

    @Test func aOneClickBodyAsMultipartFormDataCountsToo() async throws {
        // RFC 8058 allows either form encoding; some providers send multipart.
        let workspace = try await cli.workspaceCopy(readers: ["ana@example.org", "bob@example.org"])
        let server = try cli.serve(workspace)
        defer { server.stop() }
        let signer = try #require(UnsubscribeSigner(secret: Array(Self.key.utf8), listID: "eaworldview.com"))
        let body =
            "--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b0undary--\r\n"
        let response = try await HTTPTestClient.request(
            port: server.port, "POST", "/unsubscribe?t=\(signer.token(for: "2"))", body: body,
            contentType: "multipart/form-data; boundary=b0undary")
        #expect(response.status == 200)
        #expect(try cli.status(of: "bob@example.org", in: workspace) == "unsubscribed")
        #expect(try cli.status(of: "ana@example.org", in: workspace) == "active")
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        let server = try cli.serve(try cli.workspaceCopy(), ["--preview"])
        defer { server.stop() }
        for target in ["/", "/editions/2017-11-18", "/preview/2017-11-18", "/nothing", "/unsubscribe?t=x"] {
            let response = try await HTTPTestClient.request(port: server.port, "GET", target)
            #expect(response.headers["x-content-type-options"] == "nosniff", "\(target)")
            #expect(response.headers["referrer-policy"] == "no-referrer", "\(target)")
            #expect(response.headers["x-frame-options"] == "DENY", "\(target)")
            #expect(
                response.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true, "\(target)")
        }
    }

    /// An edition file for `date` with `subject`, made from the sample's.
    func addEdition(_ date: String, subject: String, in workspace: URL) throws {
        let folder = workspace.appendingPathComponent("Editions/\(date)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var text = try String(
            contentsOf: workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "date: 2017-11-18", with: "date: \(date)")
        text = text.replacingOccurrences(
            of: "subject: \"Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town\"",
            with: "subject: \"\(subject)\"")
        try text.write(to: folder.appendingPathComponent("edition.yaml"), atomically: true, encoding: .utf8)
    }

    @Test func theArchiveShowsWhatReadersGotAndHidesDraftsEvenTodays() async throws {
        let workspace = try await cli.workspaceCopy(readers: ["ana@example.org", "bob@example.org"])
        let today = DateFormatter.isoDay.string(from: Date())
        try addEdition("2017-11-17", subject: "The Day Before", in: workspace)
        try addEdition("2099-01-01", subject: "A Draft From The Future", in: workspace)
        try addEdition(today, subject: "This Morning's Draft", in: workspace)
        // 2017-11-18 is sent to the readers; 2017-11-17 is published without a run.
        let smtp = try SMTPTestServer()
        defer { smtp.stop() }
        let sent = try await cli.digest(
            ["send", "2017-11-18", "--smtp", smtp.url, "--yes"], in: workspace,
            environment: ["DIGEST_UNSUBSCRIBE_KEY": Self.key])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(try await cli.digest(["publish", "2017-11-17"], in: workspace).status == 0)
        // After the send the editor retitles the edition: readers got the old subject, so the archive keeps it.
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        try (try String(contentsOf: file, encoding: .utf8)).replacingOccurrences(
            of: "Syria Daily: Regime & Russia Try Again", with: "Retitled After Sending"
        ).write(to: file, atomically: true, encoding: .utf8)
        let server = try cli.serve(workspace)
        defer { server.stop() }
        let archive = try await HTTPTestClient.request(port: server.port, "GET", "/")
        #expect(archive.status == 200)
        let newer = try #require(archive.body.range(of: "href=\"/editions/2017-11-18\""))
        let older = try #require(archive.body.range(of: "href=\"/editions/2017-11-17\""))
        #expect(newer.lowerBound < older.lowerBound)
        #expect(archive.body.contains("The Day Before"))
        #expect(archive.body.contains("Syria Daily: Regime &amp; Russia Try Again"))
        #expect(!archive.body.contains("Retitled After Sending"))
        #expect(!archive.body.contains("2099-01-01") && !archive.body.contains("From The Future"))
        #expect(!archive.body.contains(today) && !archive.body.contains("Morning&#39;s Draft"))

        let edition = try await HTTPTestClient.request(port: server.port, "GET", "/editions/2017-11-18")
        #expect(edition.status == 200)
        #expect(edition.headers["content-type"] == "text/html; charset=utf-8")
        #expect(edition.body.contains("Syria Daily: Regime &amp; Russia Try Again to Capture Last ISIS Town"))
        #expect(!edition.body.contains("Retitled After Sending"))
        // No reader in it: the publication's own unsubscribe page, no token, no name placeholder.
        #expect(edition.body.contains("https://eaworldview.com/newsletter/unsubscribe"))
        #expect(
            !edition.body.contains("?t=") && !edition.body.contains("\u{E00A}") && !edition.body.contains("\u{E00B}"))
        let text = try await HTTPTestClient.request(port: server.port, "GET", "/editions/2017-11-18.txt")
        #expect(text.status == 200 && text.body.contains("EA WorldView"))

        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/editions/2099-01-01").status == 404)
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/editions/\(today)").status == 404)
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/editions/2017-11-19").status == 404)
        // Without --preview there is no preview, not even of a published edition.
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/preview/2017-11-18").status == 404)
        #expect(try await HTTPTestClient.request(port: server.port, "POST", "/", body: "x=1").status == 405)
    }

    @Test func previewOfADateWithoutAnEditionIs404WithItsExplanation() async throws {
        let server = try cli.serve(try cli.workspaceCopy(), ["--preview"])
        defer { server.stop() }
        let missing = try await HTTPTestClient.request(port: server.port, "GET", "/preview/2017-11-19")
        #expect(missing.status == 404)
        #expect(missing.body.contains("there is no edition for 2017-11-19"))
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/preview/2017-11-18").status == 200)
    }

    @Test(arguments: [
        "/editions/../publication.yaml", "/editions/..%2fpublication.yaml", "/editions/%2e%2e/publication.yaml",
        "/editions/2017-11-18/../../publication.yaml", "/editions/..%5c..%5cpublication.yaml",
        "/editions/2017-11-18%00.txt", "/preview/..%2f..%2fpublication.yaml", "/preview/2017-11-18%2f..%2f..%2fedition",
        "//etc/passwd", "/../../../../etc/passwd", "/editions/%252e%252e%252fpublication.yaml",
        "/editions/2017-11-18/edition.yaml", "/Editions/2017-11-18/edition.yaml", "/publication.yaml",
        "/preview/2017-11-18/../../../digest.sqlite", "/editions/%ff%fe",
    ])
    func pathsThatTryToLeaveTheArchiveGetNothing(_ target: String) async throws {
        let server = try cli.serve(try cli.workspaceCopy(), ["--preview"])
        defer { server.stop() }
        let response = try await HTTPTestClient.exchange(
            port: server.port, "GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect([400, 404].contains(response.status), "\(target): \(response.status)")
        #expect(
            !response.body.contains("smtp:") && !response.body.contains("root:") && !response.body.contains("sections:")
        )
        // And the server is still there.
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/").status == 200)
    }

    @Test func oversizedAndMalformedRequestsGetAClearErrorAndTheServerStaysUp() async throws {
        let server = try cli.serve(try cli.workspaceCopy())
        defer { server.stop() }
        let port = server.port
        // A 10 MB body announced: refused before it is read.
        let big = try await HTTPTestClient.exchange(
            port: port,
            "POST /unsubscribe?t=x HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\nList-Unsubscribe=One-Click")
        #expect(big.status == 413)
        #expect(big.headers["connection"] == "close")
        #expect(big.body.contains("over 16384 bytes"))
        // A body that is really sent, 1 MB of it.
        let socket = try HTTPTestClient.connect(port: port)
        let head = "POST /unsubscribe?t=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"
        try? HTTPTestClient.send(socket, Array(head.utf8) + [UInt8](repeating: 0x41, count: 1_048_576))
        let sent = HTTPTestClient.parse(try await HTTPTestClient.readAll(socket, timeout: 5))
        close(socket)
        #expect(sent.status == 413)
        // A head of 100 KB.
        let longHeader = "GET / HTTP/1.1\r\nHost: x\r\nX-Long: \(String(repeating: "a", count: 100_000))\r\n\r\n"
        #expect(try await HTTPTestClient.exchange(port: port, longHeader).status == 431)
        // A target of 100 KB.
        #expect(
            try await HTTPTestClient.exchange(
                port: port, "GET /\(String(repeating: "b", count: 100_000)) HTTP/1.1\r\n\r\n"
            )
            .status == 431)
        // Chunked bodies, two lengths, a bad length, a bad request line, HTTP/2 preface, binary noise.
        let chunked =
            "POST /unsubscribe?t=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        #expect(try await HTTPTestClient.exchange(port: port, chunked).status == 501)
        let twoLengths = "POST /unsubscribe HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
        #expect(try await HTTPTestClient.exchange(port: port, twoLengths).status == 400)
        #expect(
            try await HTTPTestClient.exchange(port: port, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").status == 400
        )
        #expect(try await HTTPTestClient.exchange(port: port, "GET\r\n\r\n").status == 400)
        #expect(try await HTTPTestClient.exchange(port: port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").status == 505)
        _ = try await HTTPTestClient.exchange(
            port: port, (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }, timeout: 2)
        // Still serving, and a keep-alive connection carries two requests.
        let twice = try await HTTPTestClient.exchange(
            port: port, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        #expect(twice.status == 404)
        #expect(twice.raw.contains("HTTP/1.1 200 OK"))
        #expect(server.stop() == 0)
    }

    /// Statuses seen by several threads at once.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [Int: Int] = [:]
        func add(_ status: Int) { lock.withLock { counts[status, default: 0] += 1 } }
        var all: [Int: Int] { lock.withLock { counts } }
    }

    @Test func fiveHundredMangledRequestsAreEachAnsweredAndNeverTakeTheServerDown() async throws {
        let server = try cli.serve(try cli.workspaceCopy(), ["--request-timeout", "0.25"])
        defer { server.stop() }
        let valid = Array(
            ("POST /unsubscribe?t=abc HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 26\r\n\r\nList-Unsubscribe=One-Click").utf8)
        let pieces = ["\r\n", "\n", "\r", "\0", "%", "%zz", "/../", ":", " ", "\u{FF}", "999999999999", "\t", "?", "é"]
        var random = SeededGenerator(seed: 8)
        var cases: [[UInt8]] = []
        for _ in 0..<500 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let at = Int.random(in: 0..<max(1, bytes.count), using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes = Array(bytes.prefix(at))
                case 2: bytes.insert(contentsOf: Array((pieces.randomElement(using: &random) ?? "").utf8), at: at)
                case 3 where !bytes.isEmpty: bytes.remove(at: at)
                default: bytes.insert(contentsOf: bytes[at...].prefix(40), at: at)
                }
            }
            cases.append(bytes)
        }
        let port = server.port
        let tally = Tally()
        let requests = cases
        // 25 clients at once, each on a thread of its own (most requests wait out the 0.25 s limit).
        let group = DispatchGroup()
        for worker in 0..<25 {
            group.enter()
            Thread {
                for index in stride(from: worker, to: requests.count, by: 25) {
                    let status =
                        (try? HTTPTestClient.exchangeBlocking(port: port, requests[index], timeout: 5))?.status ?? -1
                    tally.add(status)
                }
                group.leave()
            }.start()
        }
        try await offThePool { group.wait() }
        let statuses = tally.all
        // Each one gets an answer: the server's verdict on it, or 408 once it stalls; none is an internal error.
        let allowed: Set<Int> = [200, 400, 404, 405, 408, 413, 431, 501, 505]
        #expect(Set(statuses.keys).subtracting(allowed).subtracting([0]).isEmpty, "\(statuses)")
        // Only a request cut to nothing gets no answer at all (an idle connection is closed quietly).
        #expect(statuses[0, default: 0] <= 10, "\(statuses)")
        #expect(server.process.isRunning)
        #expect(try await HTTPTestClient.request(port: port, "GET", "/").status == 200)
        #expect(server.stop() == 0)
    }

    @Test func aStalledRequestGets408AndAnIdleConnectionIsClosed() async throws {
        let server = try cli.serve(try cli.workspaceCopy(), ["--request-timeout", "0.5"])
        defer { server.stop() }
        let started = Date()
        // The client would wait 60 s; the server gives up on each of them after half a second.
        let partial = try await HTTPTestClient.exchange(
            port: server.port, "GET / HTTP/1.1\r\nHost: x\r\nX-Half", timeout: 60)
        #expect(partial.status == 408)
        #expect(partial.headers["connection"] == "close")
        let socket = try HTTPTestClient.connect(port: server.port)
        defer { close(socket) }
        #expect(try await HTTPTestClient.readAll(socket, timeout: 60).isEmpty)
        #expect(Date().timeIntervalSince(started) < 30, "the server closed both, long before the client gave up")
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/").status == 200)
        #expect(server.log.contains("\"-\" 408"))
    }

    @Test func oneConnectionOverTheLimitGets503UntilOneCloses() async throws {
        let server = try cli.serve(try cli.workspaceCopy(), ["--max-connections", "2"])
        defer { server.stop() }
        let first = try HTTPTestClient.connect(port: server.port)
        let second = try HTTPTestClient.connect(port: server.port)
        try await Task.sleep(for: .milliseconds(300))
        let third = try await HTTPTestClient.request(port: server.port, "GET", "/")
        #expect(third.status == 503)
        #expect(third.headers["retry-after"] == "1")
        close(first)
        close(second)
        var after = 0
        for _ in 0..<100 where after != 200 {
            after = try await HTTPTestClient.request(port: server.port, "GET", "/").status
            if after != 200 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(after == 200)
    }

    @Test func sigtermLetsTheRequestInProgressFinishAndThenStops() async throws {
        let workspace = try await cli.workspaceCopy(readers: ["ana@example.org"])
        let server = try cli.serve(workspace)
        let signer = try #require(UnsubscribeSigner(secret: Array(Self.key.utf8), listID: "eaworldview.com"))
        // A one-click POST whose body is half sent when SIGTERM comes, and an idle keep-alive connection.
        let idle = try HTTPTestClient.connect(port: server.port)
        defer { close(idle) }
        let socket = try HTTPTestClient.connect(port: server.port)
        defer { close(socket) }
        let body = "List-Unsubscribe=One-Click"
        let head =
            "POST /unsubscribe?t=\(signer.token(for: "1")) HTTP/1.1\r\nHost: x\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        try HTTPTestClient.send(socket, Array((head + body.prefix(10)).utf8))
        try await Task.sleep(for: .seconds(1))
        kill(server.process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        try HTTPTestClient.send(socket, Array(body.dropFirst(10).utf8))
        let response = HTTPTestClient.parse(try await HTTPTestClient.readAll(socket, timeout: 20))
        #expect(response.status == 200, "\(response.raw)")
        #expect(response.headers["connection"] == "close")
        #expect(server.stop() == 0)
        #expect(server.log.contains("digest serve: stopped"))
        #expect(try cli.status(of: "ana@example.org", in: workspace) == "unsubscribed")
        #expect((try? HTTPTestClient.connect(port: server.port)) == nil, "nothing listens any more")
    }

    @Test func aBadHostOrATakenPortIsAClearErrorAtStart() async throws {
        let host = try await cli.digest(["serve", "--host", "news.example.com"])
        #expect(host.status == 64)
        #expect(host.stderr.contains("'news.example.com' is not an IP address: give one, e.g. --host 127.0.0.1"))
        let server = try cli.serve(try cli.workspaceCopy())
        defer { server.stop() }
        let taken = try await cli.digest(["serve", "--port", String(server.port)])
        #expect(taken.status == 1)
        #expect(
            taken.stderr.contains("port \(server.port) on 127.0.0.1 is taken by another program: choose another --port")
        )
    }

    @Test func theUnsubscribeEndpointSaysSoWhenTheServerHasNoKey() async throws {
        let workspace = try await cli.workspaceCopy(readers: ["ana@example.org"])
        let server = try cli.serve(workspace, key: nil)
        defer { server.stop() }
        let signer = try #require(UnsubscribeSigner(secret: Array(Self.key.utf8), listID: "eaworldview.com"))
        let response = try await HTTPTestClient.request(
            port: server.port, "POST", "/unsubscribe?t=\(signer.token(for: "1"))", body: "List-Unsubscribe=One-Click")
        #expect(response.status == 503)
        #expect(response.body.contains("DIGEST_UNSUBSCRIBE_KEY"))
        #expect(server.errorLog.contains("DIGEST_UNSUBSCRIBE_KEY"))
        #expect(try cli.status(of: "ana@example.org", in: workspace) == "active")
    }

    @Test func thePreviewShowsTheDraftAndItsStampChangesWhenTheEditionOrATemplateIsSaved() async throws {
        let workspace = try cli.workspaceCopy()
        let server = try cli.serve(workspace, ["--preview"])
        defer { server.stop() }
        let port = server.port
        let page = try await HTTPTestClient.request(port: port, "GET", "/preview/2017-11-18?mobile=1")
        #expect(page.status == 200)
        #expect(page.body.contains("<iframe class=\"mobile\""))
        #expect(page.body.contains("srcdoc=\"&lt;!DOCTYPE html&gt;"))
        #expect(page.body.contains("sandbox=\"allow-popups allow-popups-to-escape-sandbox\""))
        #expect(page.body.contains("<script src=\"/preview/live.js\" defer></script>"))
        let dark = try await HTTPTestClient.request(port: port, "GET", "/preview/2017-11-18?dark=1")
        #expect(dark.body.contains("@media all {") && !dark.body.contains("prefers-color-scheme: dark"))
        let text = try await HTTPTestClient.request(port: port, "GET", "/preview/2017-11-18.txt")
        let golden = try String(
            contentsOf: CommandLineTests.coreGolden.appendingPathComponent("sample.txt"), encoding: .utf8)
        #expect(text.status == 200 && text.body == golden)
        #expect(
            try await HTTPTestClient.request(port: port, "GET", "/preview/live.js").body.contains("location.reload"))

        func stamp() async throws -> String {
            try await HTTPTestClient.request(port: port, "GET", "/preview/2017-11-18/stamp").body
        }
        let first = try await stamp()
        #expect(try await stamp() == first)
        // The editor saves the edition: a new stamp, and the page shows the change.
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        let original = try String(contentsOf: file, encoding: .utf8)
        try original.replacingOccurrences(of: "Try Again to Capture", with: "Try Once More to Take").write(
            to: file, atomically: true, encoding: .utf8)
        let second = try await stamp()
        #expect(second != first)
        #expect(
            try await HTTPTestClient.request(port: port, "GET", "/preview/2017-11-18").body.contains(
                "Try Once More to Take"))
        // A template saved: another stamp.
        let template = workspace.appendingPathComponent("Templates/digest.txt.mustache")
        try (try String(contentsOf: template, encoding: .utf8) + "\n").write(
            to: template, atomically: true, encoding: .utf8)
        #expect(try await stamp() != second)
        // A broken edition: the problem on the page, which still reloads itself.
        try original.replacingOccurrences(of: "kind: video", with: "kind: vidoe").write(
            to: file, atomically: true, encoding: .utf8)
        let broken = try await HTTPTestClient.request(port: port, "GET", "/preview/2017-11-18")
        #expect(broken.status == 500)
        #expect(broken.body.contains("edition.yaml:") && broken.body.contains("vidoe"))
        #expect(broken.body.contains("data-stamp-url=\"/preview/2017-11-18/stamp\""))
    }
}

extension DateFormatter {
    /// `YYYY-MM-DD` in UTC (near midnight London may differ by a day: no matter, a draft of any date is private).
    static let isoDay: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }()
}
