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

    /// The whole loop, as an editor runs it: `digest send` through Postfix, whose DSNs land in the bounce
    /// mailbox that Dovecot serves; `digest bounces fetch` over IMAPS takes exactly the dead readers off; the
    /// next edition's send skips them and reaches every other reader once.
    @Test func aDeadAddressMailedThroughARealRelayIsOffTheListBeforeTheNextEdition() async throws {
        let existing = (1...5).map { "dtloop\($0)@list.test" }
        let unknown = ["nobody1@list.test", "nobody2@list.test"]
        let password = "loop-mailbox-password"
        let dovecot = try await DovecotTestServer.start()
        let maildir = try dovecot.addUser("bounces", password: password)
        let postfix = try await PostfixTestServer.start(
            mailboxes: existing, maildirs: ["bounces@bounce.test": maildir])
        do {
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

            let first = try await cli.digest(
                ["send", "2017-11-18", "--yes", "--smtp", postfix.url], in: workspace, environment: environment)
            #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
            let dsns = try await postfix.waitForMessages(for: "bounces@bounce.test", count: 2, timeout: 90)
            #expect(dsns.count == 2, "\(postfix.log())")

            let fetched = try await cli.digest(["bounces", "fetch"], in: workspace, environment: environment)
            #expect(fetched.status == 0, "\(fetched.stdout)\(fetched.stderr)\n\(dovecot.log())")
            let store = try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
            var statuses: [String: Subscriber.Status] = [:]
            try store.forEachSubscriber(status: nil) { statuses[$0.email.description] = $0.status }
            #expect(unknown.allSatisfy { statuses[$0] == .bounced }, "\(statuses)\n\(fetched.stdout)")
            #expect(existing.allSatisfy { statuses[$0] == .active }, "\(statuses)")
            // Processed reports were moved out of the INBOX, and a second fetch finds nothing new.
            #expect(try dovecot.messages(of: "bounces").isEmpty)
            let again = try await cli.digest(["bounces", "fetch"], in: workspace, environment: environment)
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            #expect(try store.bounceEvents(runs: ["2017-11-18"]).count == 2)

            // The list says why they are off it.
            let listed = try await cli.digest(["subscribers", "list", "--status", "bounced"], in: workspace)
            for address in unknown {
                #expect(listed.stdout.contains("\(address)  bounced  Reader  (hard bounce 5.1.1"), "\(listed.stdout)")
            }
            // The report counts them against the edition.
            let report = try await cli.digest(["report", "2017-11-18", "--json"], in: workspace)
            let figures = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
            #expect(figures?["hardBounces"] as? Int == 2, "\(report.stdout)")

            // The next edition: the dead addresses are skipped, everyone else gets it once.
            let editions = workspace.appendingPathComponent("Editions")
            try FileManager.default.createDirectory(
                at: editions.appendingPathComponent("2017-11-19"), withIntermediateDirectories: true)
            let edition = try String(
                contentsOf: editions.appendingPathComponent("2017-11-18/edition.yaml"), encoding: .utf8)
            try edition.replacingOccurrences(of: "date: 2017-11-18", with: "date: 2017-11-19").write(
                to: editions.appendingPathComponent("2017-11-19/edition.yaml"), atomically: true, encoding: .utf8)
            let next = try await cli.digest(
                ["send", "2017-11-19", "--yes", "--smtp", postfix.url], in: workspace, environment: environment)
            #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
            #expect(next.stdout.contains("5 sent"), "\(next.stdout)")
            for reader in existing {
                _ = try await postfix.waitForMessages(for: reader, count: 2, timeout: 90)
                #expect(postfix.messages(for: reader).count == 2, "\(reader)")
            }
            try await Task.sleep(for: .seconds(2))
            #expect(try dovecot.messages(of: "bounces").isEmpty, "a dead address was mailed again: \(postfix.log())")
        } catch {
            await postfix.stop()
            await dovecot.stop()
            throw error
        }
        await postfix.stop()
        await dovecot.stop()
    }
}
