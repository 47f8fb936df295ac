import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// `digest send` to a subscriber list, through real SMTP servers on loopback.
@Suite("Sending to subscribers", .serialized)
struct BulkSendTests {
    let cli = DigestBinary()
    static let key = ["DIGEST_UNSUBSCRIBE_KEY": "bulk-send-test-key-0123456789"]

    func counts(_ server: SMTPTestServer) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for message in try server.received() {
            for recipient in message.recipients { counts[recipient, default: 0] += 1 }
        }
        return counts
    }

    @Test func everySubscriberGetsOneMessageFailuresAreReportedAndBouncesMarked() async throws {
        let readers = (0..<40).map { "reader\($0)@example.org" } + ["gone@example.org", "busy@example.org"]
        let workspace = try await cli.workspaceCopy(readers: readers)
        let server = try SMTPTestServer(reject: ["gone@example.org"], deferred: ["busy@example.org"])
        defer { server.stop() }
        let arguments = [
            "send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "3", "--retry-delay", "0.05", "--max-attempts",
            "2",
        ]
        let first = try await cli.digest(arguments, in: workspace, environment: Self.key)
        #expect(first.status == 75, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("Run 2017-11-18: recorded 42 recipients"))
        #expect(first.stdout.contains("Run 2017-11-18: 40 sent, 1 failed, 1 deferred"))
        #expect(first.stdout.contains("gone@example.org  550 5.1.1 <gone@example.org>: Recipient address rejected"))
        #expect(first.stdout.contains("busy@example.org  451 4.3.0"))
        var received = try counts(server)
        #expect(received.count == 40)
        #expect(received.values.allSatisfy { $0 == 1 })
        let bounced = try await cli.digest(["subscribers", "list", "--status", "bounced"], in: workspace)
        #expect(bounced.stdout.contains("gone@example.org  bounced"))
        // Run again: only the deferred reader is tried; nobody gets a second copy.
        let second = try await cli.digest(arguments, in: workspace, environment: Self.key)
        #expect(second.status == 75)
        #expect(second.stdout.contains("1 to go"))
        received = try counts(server)
        #expect(received.count == 40 && received.values.allSatisfy { $0 == 1 })
    }

    @Test func connectionDroppedInTheMiddleOfTheDataIsRetriedOnAFreshConnection() async throws {
        let readers = ["a@example.org", "drop@example.org", "c@example.org"]
        let workspace = try await cli.workspaceCopy(readers: readers)
        let server = try SMTPTestServer(dropData: ["drop@example.org"])
        defer { server.stop() }
        let result = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "1", "--retry-delay", "0.05"], in: workspace,
            environment: Self.key)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try counts(server) == ["a@example.org": 1, "drop@example.org": 1, "c@example.org": 1])
    }

    @Test func killedRunsResumeAndNobodyGetsTwoCopies() async throws {
        let readers = (0..<5_000).map { "r\($0)@example.org" }
        let workspace = try await cli.workspaceCopy(readers: readers)
        let server = try SMTPTestServer()
        defer { server.stop() }
        var environment = ProcessInfo.processInfo.environment
        environment.merge(Self.key) { $1 }
        var random = SeededGenerator(seed: 9)
        for round in 0..<4 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DigestBinary.path)
            process.arguments = ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "4"]
            process.currentDirectoryURL = workspace
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .seconds(Double.random(in: 0.4...(1.2 + Double(round) * 0.4), using: &random)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let last = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "4"], in: workspace, environment: Self.key)
        let store = try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
        let doubt = Set(try store.deliveries("2017-11-18", state: .doubt, limit: 10_000).map(\.email.description))
        #expect(doubt.count <= 4 * 4, "at most the messages in flight at each kill are in doubt")
        #expect(last.status == (doubt.isEmpty ? 0 : 75), "\(last.stdout)")
        let received = try counts(server)
        for reader in readers where !doubt.contains(reader) {
            #expect(received[reader] == 1, "\(reader) got \(received[reader] ?? 0) copies")
        }
        for reader in doubt {
            #expect((received[reader] ?? 0) <= 1, "\(reader) was in doubt and got \(received[reader] ?? 0) copies")
        }
        #expect(try store.deliveryCounts("2017-11-18")[.sent] == readers.count - doubt.count)
    }
}

/// STARTTLS and AUTH against aiosmtpd with a certificate the test makes.
@Suite("TLS and authentication", .serialized)
struct TLSAuthenticationTests {
    let cli = DigestBinary()

    func certificate() async throws -> (cert: String, key: String) {
        let folder = try Repository.temporaryFolder("tls")
        let cert = folder.appendingPathComponent("cert.pem").path
        let key = folder.appendingPathComponent("key.pem").path
        let result = try await Subprocess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj",
                "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        return (cert, key)
    }

    @Test func messagesArriveOverSTARTTLSWithTheRightPasswordAndNotWithAWrongOne() async throws {
        let tls = try await certificate()
        let server = try SMTPTestServer(tls: tls, auth: "digest:correct horse")
        defer { server.stop() }
        let url = "smtp://localhost:\(server.port)"
        var environment = [
            "DIGEST_SMTP_USER": "digest", "DIGEST_SMTP_PASSWORD": "correct horse", "DIGEST_SMTP_CA_FILE": tls.cert,
        ]
        let good = try await cli.digest(
            ["send", "2017-11-18", "--to", "a@example.org", "--smtp", url], environment: environment)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(try server.received().count == 1)

        environment["DIGEST_SMTP_PASSWORD"] = "wrong"
        let bad = try await cli.digest(
            ["send", "2017-11-18", "--to", "b@example.org", "--smtp", url], environment: environment)
        #expect(bad.status == 75)
        #expect(bad.stdout.contains("authentication failed"))
        #expect(!bad.stdout.contains("wrong") && !bad.stderr.contains("wrong"), "the password is never printed")
        #expect(try server.received().count == 1)

        // Without the CA file the self-signed certificate is not trusted, and nothing is sent.
        environment["DIGEST_SMTP_PASSWORD"] = "correct horse"
        environment.removeValue(forKey: "DIGEST_SMTP_CA_FILE")
        let untrusted = try await cli.digest(
            ["send", "2017-11-18", "--to", "c@example.org", "--smtp", url], environment: environment)
        #expect(untrusted.status == 75)
        #expect(untrusted.stdout.contains("certificate"))
        #expect(try server.received().count == 1)
    }

    @Test func bulkRunStopsAtAWrongPasswordAndLosesNothing() async throws {
        let tls = try await certificate()
        let server = try SMTPTestServer(tls: tls, auth: "digest:right")
        defer { server.stop() }
        let workspace = try await DigestBinary().workspaceCopy(readers: [
            "a@example.org", "b@example.org", "c@example.org",
        ])
        var environment = BulkSendTests.key
        environment.merge([
            "DIGEST_SMTP_USER": "digest", "DIGEST_SMTP_PASSWORD": "wrong", "DIGEST_SMTP_CA_FILE": tls.cert,
        ]) { $1 }
        let url = "smtp://localhost:\(server.port)"
        let bad = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", url, "--connections", "1"], in: workspace, environment: environment)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("authentication failed"))
        #expect(bad.stderr.contains("run digest send 2017-11-18 --yes --smtp \(url) --connections 1 again"))
        #expect(try server.received().isEmpty)
        environment["DIGEST_SMTP_PASSWORD"] = "right"
        let good = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", url, "--connections", "1"], in: workspace, environment: environment)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(try server.received().count == 3)
    }
}
