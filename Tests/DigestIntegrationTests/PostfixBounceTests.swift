import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// `digest send` through a real relay, a private Postfix: Postfix accepts every recipient, refuses the unknown
/// ones at delivery and mails its own DSNs to the run's VERP return path.
@Suite("Bounces through a real Postfix", .serialized)
struct PostfixBounceTests {
    let cli = DigestBinary()
    static let key = ["DIGEST_UNSUBSCRIBE_KEY": "postfix-test-key-0123456789abcdef"]

    struct Inspected: Decodable {
        var kind: String
        var delivered_to: String
        var reports: [Report]
        struct Report: Decodable {
            var recipient: String
            var status: String
            var `class`: String
            var reason: String
        }
    }

    @Test func postfixMailsADSNToTheSignedReturnPathOfEachUnknownReaderAndDeliversTheRestOnce() async throws {
        let existing = (1...7).map { "dtreader\($0)@list.test" }
        let unknown = ["gone1@list.test", "gone2@list.test", "gone3@list.test"]
        let bounces = "bounces@bounce.test"
        // The bounce mailbox is a Maildir of another server's, as a Dovecot user's ~/Maildir would be.
        let home = try Repository.temporaryFolder("bounce-home")
        #expect(chown(home.path, uid_t(PostfixTestServer.mailOwner.uid), gid_t(PostfixTestServer.mailOwner.gid)) == 0)
        let postfix = try await PostfixTestServer.start(
            mailboxes: existing, maildirs: [bounces: home.appendingPathComponent("Maildir")])
        let workspace = try await cli.workspaceCopy(readers: existing + unknown)
        let config = workspace.appendingPathComponent("publication.yaml")
        try (try String(contentsOf: config, encoding: .utf8) + "bounce:\n  domain: bounce.test\n").write(
            to: config, atomically: true, encoding: .utf8)

        let sent = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", postfix.url], in: workspace, environment: Self.key)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        // Postfix took all ten at RCPT: nobody is bounced by the send itself.
        #expect(sent.stdout.contains("10 sent"), "\(sent.stdout)")

        let dsns = try await postfix.waitForMessages(for: bounces, count: 3, timeout: 90)
        #expect(dsns.count == 3, "\(postfix.log())")
        #expect(dsns.allSatisfy { $0.path.hasPrefix(home.appendingPathComponent("Maildir").path) })
        for reader in existing {
            let messages = postfix.messages(for: reader)
            #expect(messages.count == 1, "\(reader): \(messages.count) messages")
            let text = try String(contentsOf: try #require(messages.first), encoding: .utf8)
            #expect(text.hasPrefix("Return-Path: <bounces+"), "\(text.prefix(200))")
        }

        let signer = try #require(BounceSigner(secret: Array(Self.key.values.first!.utf8), listID: "eaworldview.com"))
        let verp = BounceAddress(domain: "bounce.test", signer: signer)
        let store = try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
        var recipients: [String] = []
        for dsn in dsns {
            let result = try await cli.digest(["bounces", "inspect", dsn.path, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let inspected = try JSONDecoder().decode(Inspected.self, from: Data(result.stdout.utf8))
            #expect(inspected.kind == "bounce")
            #expect(inspected.reports.count == 1)
            let report = try #require(inspected.reports.first)
            #expect(report.class == "hard")
            #expect(report.status == "5.1.1")
            #expect(report.reason == "mailbox-unknown")
            recipients.append(report.recipient)
            // The return path names the same reader, signed, whatever the report quotes.
            let token = try #require(verp.parse(inspected.delivered_to), "\(inspected.delivered_to)")
            #expect(token.run == "2017-11-18")
            let reader = try #require(EmailAddress(report.recipient))
            #expect(try store.subscriber(reader)?.id == token.subscriberID)
        }
        #expect(recipients.sorted() == unknown)
        await postfix.stop()
    }

    /// Issue 16's whole loop: `digest send` through Postfix, whose DSNs land in a Dovecot mailbox; `digest
    /// bounces fetch` over IMAPS takes exactly the unknown readers off; the next `digest send` skips them.
    @Test func theWholeLoopDSNsFromPostfixFetchedOverIMAPSTakeTheDeadAddressesOffBeforeTheNextEdition()
        async throws
    {
        let existing = (1...7).map { "dtreader\($0)@list.test" }
        let unknown = ["gone1@list.test", "gone2@list.test", "gone3@list.test"]
        let password = "postfix-loop-password"
        let dovecot = try await DovecotTestServer.start(users: [("bounces", password)])
        let postfix = try await PostfixTestServer.start(
            mailboxes: existing, maildirs: ["bounces@bounce.test": dovecot.maildir(of: "bounces")])
        let workspace = try await cli.workspaceCopy(readers: existing + unknown)
        let config = workspace.appendingPathComponent("publication.yaml")
        let bounce = """
            bounce:
              domain: bounce.test
              mailbox: \(dovecot.imapsURL(user: "bounces"))
              after: move:Processed

            """
        try (try String(contentsOf: config, encoding: .utf8) + bounce).write(
            to: config, atomically: true, encoding: .utf8)
        let environment = Self.key.merging([
            "DIGEST_BOUNCE_PASSWORD": password, "DIGEST_BOUNCE_CA_FILE": dovecot.caFile,
        ]) { $1 }

        let sent = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", postfix.url], in: workspace, environment: environment)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        try await postfix.waitForMessages(for: "bounces@bounce.test", count: 3, timeout: 90)

        let fetched = try await cli.digest(["bounces", "fetch"], in: workspace, environment: environment)
        #expect(fetched.status == 0, "\(fetched.stdout)\(fetched.stderr)\n\(dovecot.log())")
        for reader in unknown {
            #expect(try cli.status(of: reader, in: workspace) == "bounced", "\(reader)\n\(fetched.stdout)")
        }
        for reader in existing { #expect(try cli.status(of: reader, in: workspace) == "active") }
        #expect(try dovecot.messages(of: "bounces", folder: "Processed").count == 3)
        #expect(try dovecot.messages(of: "bounces").isEmpty)
        // Again: nothing new, nothing counted twice.
        let again = try await cli.digest(["bounces", "fetch"], in: workspace, environment: environment)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(
            try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path).bounceEvents(runs: [
                "2017-11-18"
            ]).count == 3)

        // The next edition, the next day's, skips them.
        let editions = workspace.appendingPathComponent("Editions")
        try FileManager.default.createDirectory(
            at: editions.appendingPathComponent("2017-11-19"), withIntermediateDirectories: true)
        let today = try String(
            contentsOf: editions.appendingPathComponent("2017-11-18/edition.yaml"), encoding: .utf8)
        try today.replacingOccurrences(of: "date: 2017-11-18", with: "date: 2017-11-19").write(
            to: editions.appendingPathComponent("2017-11-19/edition.yaml"), atomically: true, encoding: .utf8)
        let next = try await cli.digest(
            ["send", "2017-11-19", "--yes", "--no-check", "--smtp", postfix.url], in: workspace,
            environment: environment)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("7 sent"), "\(next.stdout)")
        try await postfix.waitForMessages(for: "dtreader1@list.test", count: 2, timeout: 60)
        #expect(postfix.messages(for: "bounces@bounce.test").isEmpty, "no new DSN: nobody unknown was mailed")
        await postfix.stop()
        await dovecot.stop()
    }
}
