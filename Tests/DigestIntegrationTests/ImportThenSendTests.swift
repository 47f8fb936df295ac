import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// Every service's export imported with the real `digest subscribers import`, then a real `digest send`
/// through aiosmtpd: only the readers the service had as subscribed receive the edition.
@Suite("Importing exports, then sending", .serialized)
struct ImportThenSendTests {
    let cli = DigestBinary()
    static let fixtures = Repository.root.appendingPathComponent("Tests/DigestStoreTests/Fixtures/exports")

    @Test func readersWhoLeftAnyServiceReceiveNothingFromTheNextSend() async throws {
        let workspace = try cli.workspaceCopy()
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter {
            $0.hasSuffix(".csv")
        }.sorted()
        #expect(files.count >= 10)
        var everyAddress: Set<String> = []
        for file in files {
            let copy = workspace.appendingPathComponent(file)
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(file), to: copy)
            let text = try String(contentsOf: copy, encoding: .utf8)
            for match in text.matches(of: /[a-z]+-[a-z]+-[0-9]+@example\.org/) { everyAddress.insert(String(match.output)) }
            let result = try await cli.digest(["subscribers", "import", file], in: workspace)
            #expect(result.status == 0, "\(file): \(result.stdout)\(result.stderr)")
        }
        let active = everyAddress.filter { $0.split(separator: "-")[1] == "active" }
        #expect(active.count >= 12)
        #expect(everyAddress.count - active.count >= 18)

        let server = try SMTPTestServer()
        defer { server.stop() }
        let send = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "2"], in: workspace,
            environment: ["DIGEST_UNSUBSCRIBE_KEY": "import-send-test-key-0123456789"])
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")
        var received: [String: Int] = [:]
        for message in try server.received() {
            for recipient in message.recipients { received[recipient, default: 0] += 1 }
        }
        #expect(Set(received.keys) == active, "mailed: \(received.keys.sorted())")
        #expect(received.values.allSatisfy { $0 == 1 })
    }

    @Test func aFileWithoutAStatusIsRefusedWithTheFixAndImportedWithStatus() async throws {
        let workspace = try cli.workspaceCopy()
        try "email,name\nana@example.org,Ana\n".write(
            to: workspace.appendingPathComponent("list.csv"), atomically: true, encoding: .utf8)
        let refused = try await cli.digest(["subscribers", "import", "list.csv"], in: workspace)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("list.csv"))
        #expect(refused.stderr.contains("--status"))
        let listed = try await cli.digest(["subscribers", "list", "--count"], in: workspace)
        #expect(listed.stdout.contains("0 active"))
        let imported = try await cli.digest(["subscribers", "import", "list.csv", "--status", "active"], in: workspace)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("1 added"))
    }

    @Test func anUnsubscribedReaderComesBackOnlyWhenAsked() async throws {
        let workspace = try cli.workspaceCopy()
        try "email,status\nana@example.org,unsubscribed\nbo@example.org,bounced\nBob@example.org,active\n".write(
            to: workspace.appendingPathComponent("list.csv"), atomically: true, encoding: .utf8)
        _ = try await cli.digest(["subscribers", "import", "list.csv"], in: workspace)
        let again = try await cli.digest(["subscribers", "add", "ana@example.org"], in: workspace)
        #expect(again.stdout.contains("--resubscribe"))
        let back = try await cli.digest(["subscribers", "add", "--resubscribe", "ana@example.org"], in: workspace)
        #expect(back.status == 0)
        #expect(back.stdout.contains("resubscribed ana@example.org (was unsubscribed)"))
        let bounced = try await cli.digest(["subscribers", "add", "--resubscribe", "bo@example.org"], in: workspace)
        #expect(bounced.status != 0)
        #expect(bounced.stderr.contains("--override-bounce-or-complaint"))
        let variant = try await cli.digest(["subscribers", "add", "bob@example.org"], in: workspace)
        #expect(variant.status == 0)
        #expect(variant.stderr.contains("differ only in case"), "\(variant.stdout)\(variant.stderr)")
    }
}
