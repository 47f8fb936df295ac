import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

/// A mailbox in memory, for the verb's own logic (the real IMAP and POP3 paths run against Dovecot in
/// DigestIntegrationTests). `failAt` makes the fetch of that message fail as a dropped connection would.
final class MemoryMailbox: MailboxReader, @unchecked Sendable {
    var messages: [(entry: MailboxEntry, bytes: [UInt8])]
    var moved: [String: [String]] = [:]
    var deleted: [String] = []
    var fetched: [String] = []
    var finished = false
    var failAt: String?
    let protocolName = "imap"

    init(_ messages: [(String, String)]) {
        self.messages = messages.enumerated().map { index, message in
            (MailboxEntry(id: message.0, locator: String(index + 1)), Array(message.1.utf8))
        }
    }

    func list() throws -> [MailboxEntry] { messages.map(\.entry) }

    func fetch(_ entry: MailboxEntry) throws -> [UInt8] {
        if entry.id == failAt { throw MailboxError("the connection to 127.0.0.1:993 broke") }
        fetched.append(entry.id)
        return messages.first { $0.entry == entry }?.bytes ?? []
    }

    func delete(_ entry: MailboxEntry) throws {
        deleted.append(entry.id)
        messages.removeAll { $0.entry == entry }
    }

    func move(_ entry: MailboxEntry, to folder: String) throws {
        moved[folder, default: []].append(entry.id)
        messages.removeAll { $0.entry == entry }
    }

    func finish() throws { finished = true }
}

@Suite("digest bounces fetch, in-process")
struct BounceFetchVerbTests {
    static let morning = Date(timeIntervalSince1970: 1_796_000_000)
    static let key = "bounce-test-key-0123456789abcdef"

    func workspace(after: String = "keep", readers: [String]) throws -> (URL, SQLiteStore) {
        let workspace = try DigestBinary().workspaceCopy()
        let config = workspace.appendingPathComponent("publication.yaml")
        let bounce = """
            bounce:
              domain: bounce.eaworldview.com
              mailbox: imaps://bounces@mail.eaworldview.com/INBOX
              after: \(after)
              soft_limit: 2
              soft_days: 7

            """
        try (try String(contentsOf: config, encoding: .utf8) + bounce).write(
            to: config, atomically: true, encoding: .utf8)
        let store = try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
        for reader in readers { _ = try store.add(EmailAddress(reader)!, name: "", source: "test", now: Self.morning) }
        return (workspace, store)
    }

    func environment(_ workspace: URL, key: Bool = true) -> DigestEnvironment {
        var variables = ["DIGEST_BOUNCE_PASSWORD": "secret"]
        if key { variables["DIGEST_BOUNCE_KEY"] = Self.key }
        return DigestEnvironment(now: { Self.morning }, variables: variables, currentDirectory: workspace)
    }

    static func dsn(to: String, recipient: String, status: String, id: String) -> String {
        """
        Delivered-To: \(to)
        From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
        To: \(to)
        Subject: Undelivered Mail Returned to Sender
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b"
        Message-Id: <\(id)@mx.example.net>

        --b
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; \(recipient)
        Action: failed
        Status: \(status)
        Diagnostic-Code: smtp; \(status.hasPrefix("5.1") ? "550 5.1.1 User unknown" : "452 4.2.2 Mailbox full")

        --b--

        """
    }

    func verp(_ reader: String, store: SQLiteStore) throws -> String {
        let signer = try #require(BounceSigner(secret: Array(Self.key.utf8), listID: "eaworldview.com"))
        let id = try #require(try store.subscriber(EmailAddress(reader)!)?.id)
        return try #require(
            BounceAddress(domain: "bounce.eaworldview.com", signer: signer).address(
                for: BounceToken(run: "2017-11-18", subscriberID: id)))
    }

    @Test func theSignedTokenNamesTheReaderEvenWhenTheReportNamesAnotherAddress() throws {
        let (workspace, store) = try workspace(readers: ["ana@example.com"])
        let mailbox = MemoryMailbox([
            (
                "7/1",
                Self.dsn(
                    to: try verp("ana@example.com", store: store), recipient: "ana.forwarded@elsewhere.example",
                    status: "5.1.1", id: "a")
            )
        ])
        let report = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace), makeMailbox: { _ in mailbox })
        #expect(report.readers.map(\.text) == ["ana@example.com: bounced (hard, 5.1.1 mailbox-unknown) — off the list"])
        #expect(report.readers.first?.run == "2017-11-18")
        #expect(try store.subscriber(EmailAddress("ana@example.com")!)?.status == .bounced)
        #expect(mailbox.finished)
    }

    @Test func aForgedTokenIsIgnoredAndTheReportedAddressIsUsed() throws {
        let (workspace, store) = try workspace(readers: ["ana@example.com", "ben@example.com"])
        // Minted with another key: the token does not verify, so the address in the report decides.
        let forger = try #require(BounceSigner(secret: Array("another-key-0123456789abcdef".utf8), listID: "eaworldview.com"))
        let anaID = try #require(try store.subscriber(EmailAddress("ana@example.com")!)?.id)
        let forged = try #require(
            BounceAddress(domain: "bounce.eaworldview.com", signer: forger).address(
                for: BounceToken(run: "2017-11-18", subscriberID: anaID)))
        let mailbox = MemoryMailbox([("7/1", Self.dsn(to: forged, recipient: "ben@example.com", status: "5.1.1", id: "f"))])
        let report = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace), makeMailbox: { _ in mailbox })
        #expect(report.readers.map(\.address) == ["ben@example.com"])
        #expect(try store.subscriber(EmailAddress("ana@example.com")!)?.status == .active)
        #expect(try store.subscriber(EmailAddress("ben@example.com")!)?.status == .bounced)
    }

    @Test func softBouncesCountToTheLimitAndASecondFetchReadsNothingAgain() throws {
        let (workspace, store) = try workspace(readers: ["cleo@example.com"])
        let verp = try verp("cleo@example.com", store: store)
        let mailbox = MemoryMailbox([
            ("7/1", Self.dsn(to: verp, recipient: "cleo@example.com", status: "4.2.2", id: "s1")),
            ("7/2", Self.dsn(to: verp, recipient: "cleo@example.com", status: "4.2.2", id: "s2")),
        ])
        let first = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace), makeMailbox: { _ in mailbox })
        #expect(first.readers.map(\.outcome) == [.soft, .bounced])
        #expect(first.readers.first?.text == "cleo@example.com: soft bounce 1 of 2 in 7 days (4.2.2 mailbox-full)")
        #expect(first.summary.read == 2)
        let again = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace), makeMailbox: { _ in mailbox })
        #expect(again.summary.read == 0)
        #expect(again.readers.isEmpty)
        #expect(mailbox.fetched == ["7/1", "7/2"])
        #expect(BounceFetch.summaryLine(again.summary, after: .keep) == "0 new messages read of 2 in the mailbox.")
    }

    @Test func aMessageReadBeforeButStillThereIsMovedNotCountedAgain() throws {
        let (workspace, store) = try workspace(after: "move:Processed", readers: ["dan@example.com"])
        let message = Self.dsn(to: "bounces@bounce.eaworldview.com", recipient: "dan@example.com", status: "4.2.2", id: "m")
        // As if an earlier fetch was killed between its commit and the move.
        _ = try store.recordMailboxMessage(
            mailbox: "imaps://bounces@mail.eaworldview.com/INBOX", messageID: "7/1", events: [],
            policy: BouncePolicy(), now: Self.morning)
        let mailbox = MemoryMailbox([("7/1", message), ("7/2", message)])
        let report = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace), makeMailbox: { _ in mailbox })
        #expect(mailbox.fetched == ["7/2"])
        #expect(mailbox.moved["Processed"] == ["7/1", "7/2"])
        #expect(report.summary.moved == 2)
        #expect(report.summary.read == 1)
        #expect(BounceFetch.summaryLine(report.summary, after: .move("Processed")).hasSuffix("; 2 moved to Processed."))
    }

    @Test func aConnectionLostMidwayKeepsWhatWasRecordedAndSaysWhy() throws {
        let (workspace, store) = try workspace(after: "delete", readers: ["eve@example.com", "fay@example.com"])
        let mailbox = MemoryMailbox([
            ("7/1", Self.dsn(to: "x@example.org", recipient: "eve@example.com", status: "5.1.1", id: "e")),
            ("7/2", Self.dsn(to: "x@example.org", recipient: "fay@example.com", status: "5.1.1", id: "g")),
        ])
        mailbox.failAt = "7/2"
        let report = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace), makeMailbox: { _ in mailbox })
        #expect(report.summary.error == "the connection to 127.0.0.1:993 broke")
        #expect(report.summary.read == 1)
        #expect(mailbox.deleted == ["7/1"])
        #expect(try store.subscriber(EmailAddress("eve@example.com")!)?.status == .bounced)
        #expect(try store.subscriber(EmailAddress("fay@example.com")!)?.status == .active)
    }

    @Test func autoRepliesAndStrangersAreCountedNotRecordedAgainstAnyone() throws {
        let (workspace, _) = try workspace(readers: [])
        let autoReply = """
            From: someone@example.com
            To: bounces@bounce.eaworldview.com
            Subject: Out of office
            Auto-Submitted: auto-replied

            I am away.

            """
        let mailbox = MemoryMailbox([
            ("7/1", autoReply),
            ("7/2", Self.dsn(to: "x@example.org", recipient: "stranger@example.com", status: "5.1.1", id: "n")),
        ])
        let report = try BounceFetch.fetch(
            workspace: nil, environment: environment(workspace, key: false), makeMailbox: { _ in mailbox })
        #expect(report.summary.autoReplies == 1)
        #expect(report.summary.notOnList == 1)
        #expect(report.readers.map(\.text) == ["stranger@example.com: not on the list (hard, 5.1.1 mailbox-unknown)"])
        #expect(report.notes.count == 1)
        #expect(
            BounceFetch.summaryLine(report.summary, after: .keep)
                == "2 new messages read of 2 in the mailbox: 1 not on the list, 1 auto-reply ignored.")
    }

    @Test func withoutAMailboxOrAPasswordTheEditorIsToldWhatToSet() throws {
        let workspace = try DigestBinary().workspaceCopy()
        #expect(throws: WorkflowError.self) {
            try BounceFetch.fetch(workspace: nil, environment: environment(workspace), makeMailbox: { _ in
                MemoryMailbox([])
            })
        }
        let (configured, _) = try self.workspace(readers: [])
        let bare = DigestEnvironment(now: { Self.morning }, variables: [:], currentDirectory: configured)
        do {
            _ = try BounceFetch.fetch(workspace: nil, environment: bare, makeMailbox: { _ in MemoryMailbox([]) })
            Issue.record("no error without a password")
        } catch let error as WorkflowError {
            #expect(error.message.contains("DIGEST_BOUNCE_PASSWORD"))
        }
    }
}
