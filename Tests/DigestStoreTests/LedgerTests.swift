import DigestCore
import DigestMail
import DigestSending
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// A transport that answers from a script: for the ledger's logic only. The real SMTP paths are in
/// DigestIntegrationTests.
final class ScriptedTransport: MailTransport, @unchecked Sendable {
    let answer: @Sendable (EmailAddress, Int) -> DeliveryOutcome.Status
    let lock = NSLock()
    var attempts: [EmailAddress: Int] = [:]

    init(_ answer: @escaping @Sendable (EmailAddress, Int) -> DeliveryOutcome.Status) {
        self.answer = answer
    }

    func deliver(_ message: OutgoingMessage) -> DeliveryOutcome {
        let attempt = lock.withLock {
            attempts[message.recipient, default: 0] += 1
            return attempts[message.recipient] ?? 1
        }
        let status = answer(message.recipient, attempt)
        let code =
            switch status {
            case .accepted: 250
            case .deferred: 451
            case .rejected: 550
            case .inDoubt: 0
            }
        return DeliveryOutcome(
            recipient: message.recipient, status: status, replyCode: code == 0 ? nil : code,
            reply: "\(code) 5.1.1 scripted", bodySent: status != .rejected)
    }
}

@Suite("Delivery ledger")
struct LedgerTests {
    func store(_ kind: StoreKind, readers: Int) async throws -> any ListStore {
        try fill(try await kind.make("ledger"), readers: readers)
    }

    func fill(_ store: any ListStore, readers: Int) throws -> any ListStore {
        var text = "email,name\n"
        for index in 0..<readers { text += "r\(index)@example.org,R \(index)\n" }
        _ = try store.importRows(
            try SubscriberCSV.parse(Data(text.utf8), status: .active).rows, source: "test", now: Date())
        return store
    }

    func sender(
        _ store: any ListStore, _ transport: ScriptedTransport,
        options: SendOptions = SendOptions(connections: 3, backoff: 0.001)
    ) -> BulkSender {
        BulkSender(
            store: store, run: "2017-11-18", options: options,
            makeMessage: { delivery in
                OutgoingMessage(
                    envelopeFrom: EmailAddress("d@example.com")!, recipient: delivery.email,
                    messageID: "m\(delivery.subscriberId)", data: Array("x\r\n".utf8))
            },
            makeTransport: { transport })
    }

    @Test(arguments: StoreKind.allCases) func runRecordsTheActiveReadersOnceAndResumesWithThatList(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, readers: 10)
        try store.setStatus(EmailAddress("r3@example.org")!, to: .unsubscribed, now: Date())
        let first = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        #expect(first.isNew && first.recipients == 9)
        _ = try store.add(EmailAddress("late@example.org")!, name: "", source: "add", now: Date())
        let again = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        #expect(!again.isNew && again.recipients == 9)
    }

    @Test(arguments: StoreKind.allCases) func everyReaderGetsExactlyOneMessageAndTheLedgerSaysSo(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, readers: 200)
        let transport = ScriptedTransport { _, _ in .accepted }
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        sender(store, transport).send(remaining: 200)
        #expect(transport.attempts.count == 200)
        #expect(transport.attempts.values.allSatisfy { $0 == 1 })
        #expect(try store.deliveryCounts("2017-11-18") == [.sent: 200])
        // A second run sends nothing.
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        sender(store, transport).send(remaining: 0)
        #expect(transport.attempts.values.allSatisfy { $0 == 1 })
    }

    @Test(arguments: StoreKind.allCases) func temporaryFailuresAreRetriedThenLeftForTheNextRun(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, readers: 5)
        let transport = ScriptedTransport { address, attempt in
            if address.description == "r1@example.org" { return attempt < 3 ? .deferred : .accepted }
            if address.description == "r2@example.org" { return .deferred }
            return .accepted
        }
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        sender(store, transport, options: SendOptions(connections: 2, maxRunAttempts: 3, backoff: 0.001)).send(
            remaining: 5)
        #expect(transport.attempts[EmailAddress("r1@example.org")!] == 3)
        #expect(transport.attempts[EmailAddress("r2@example.org")!] == 3)
        #expect(try store.deliveryCounts("2017-11-18") == [.sent: 4, .deferred: 1])
        // The next run tries the deferred one again, with fresh attempts.
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        sender(store, transport, options: SendOptions(connections: 1, maxRunAttempts: 2, backoff: 0.001)).send(
            remaining: 1)
        #expect(transport.attempts[EmailAddress("r2@example.org")!] == 5)
    }

    @Test(arguments: StoreKind.allCases) func hardBounceMarksTheSubscriberBouncedButAPolicyRefusalDoesNot(
        _ kind: StoreKind
    ) async throws {
        let store = try await store(kind, readers: 3)
        _ = try store.startRun("e", resendInDoubt: false, now: Date())
        let ledger = LedgerPipeline(store: store, run: "e", maxRunAttempts: 3)
        defer { try? ledger.close() }
        let firstTicket = try ticket(ledger)
        let secondTicket = try ticket(ledger)
        #expect(firstTicket.waitClaimed() && secondTicket.waitClaimed())
        let first = firstTicket.delivery
        let second = secondTicket.delivery
        let bounce = DeliveryOutcome(
            recipient: first.email, status: .rejected, replyCode: 550,
            reply: "550 5.1.1 <x>: User unknown")
        let policy = DeliveryOutcome(
            recipient: second.email, status: .rejected, replyCode: 550,
            reply: "550 5.7.1 Message rejected as spam")
        ledger.record(.init(ticket: firstTicket, outcome: bounce, messageID: "1", retryAt: nil))
        ledger.record(.init(ticket: secondTicket, outcome: policy, messageID: "2", retryAt: nil))
        try ledger.flush()
        #expect(try store.subscriber(first.email)?.status == .bounced)
        #expect(try store.subscriber(second.email)?.status == .active)
        #expect(try store.deliveryCounts("e") == [.failed: 2, .pending: 1])
    }

    @Test(arguments: StoreKind.allCases) func messagesInFlightAtACrashAreInDoubtAndResentOnlyWhenAsked(
        _ kind: StoreKind
    ) async throws {
        let store = try await store(kind, readers: 3)
        _ = try store.startRun("e", resendInDoubt: false, now: Date())
        let ledger = LedgerPipeline(store: store, run: "e", maxRunAttempts: 3)
        defer { try? ledger.close() }
        let ticket = try ticket(ledger)
        #expect(ticket.waitClaimed())
        let claimed = ticket.delivery
        // The process dies here: the claim is committed, the reply never recorded.
        let resumed = try store.startRun("e", resendInDoubt: false, now: Date())
        #expect(resumed.inDoubt.map(\.email) == [claimed.email])
        #expect(try store.deliveryCounts("e") == [.doubt: 1, .pending: 2])
        let resent = try store.startRun("e", resendInDoubt: true, now: Date())
        #expect(resent.inDoubt.isEmpty)
        #expect(try store.deliveryCounts("e") == [.pending: 3])
    }

    @Test(arguments: StoreKind.allCases) func limitSendsOnlyTheNextN(_ kind: StoreKind) async throws {
        let store = try await store(kind, readers: 20)
        let transport = ScriptedTransport { _, _ in .accepted }
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        sender(store, transport, options: SendOptions(connections: 4, limit: 7)).send(remaining: 20)
        #expect(try store.deliveryCounts("2017-11-18") == [.sent: 7, .pending: 13])
    }

    @Test(arguments: StoreKind.allCases) func rateLimitSpacesMessages(_ kind: StoreKind) async throws {
        let store = try await store(kind, readers: 10)
        let transport = ScriptedTransport { _, _ in .accepted }
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        let started = Date()
        sender(store, transport, options: SendOptions(connections: 4, rate: 50)).send(remaining: 10)
        // Ten messages at 50 per second take at least 9 intervals of 20 ms.
        #expect(Date().timeIntervalSince(started) >= 0.18)
    }

    @Test(arguments: StoreKind.allCases) func readerWhoLeftDuringTheRunGetsNothing(_ kind: StoreKind) async throws {
        let store = try await store(kind, readers: 3)
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        try store.setStatus(EmailAddress("r1@example.org")!, to: .unsubscribed, now: Date())
        let transport = ScriptedTransport { _, _ in .accepted }
        sender(store, transport).send(remaining: 3)
        #expect(transport.attempts[EmailAddress("r1@example.org")!] == nil)
        #expect(try store.deliveryCounts("2017-11-18") == [.sent: 2, .left: 1])
    }

    @Test(arguments: StoreKind.allCases) func twoSendersOnOneRunNeverSendTheSameReader(_ kind: StoreKind) async throws {
        let location = try await kind.location("ledger")
        let first = try fill(try await location.open(), readers: 400)
        _ = try first.startRun("2017-11-18", resendInDoubt: false, now: Date())
        // A second process on the same store: its own connections to it.
        let second = try await location.open()
        let transport = ScriptedTransport { _, _ in .accepted }
        let senders = [sender(first, transport), sender(second, transport)]
        DispatchQueue.concurrentPerform(iterations: 2) { senders[$0].send(remaining: 400) }
        #expect(transport.attempts.count == 400)
        #expect(transport.attempts.values.allSatisfy { $0 == 1 }, "a reader got two copies")
        #expect(try first.deliveryCounts("2017-11-18") == [.sent: 400])
    }

    /// The ledger's next message, which the test needs to go on.
    func ticket(_ ledger: LedgerPipeline, recording reply: LedgerPipeline.Reply? = nil) throws -> LedgerPipeline.Ticket
    {
        guard case .ticket(let ticket) = try ledger.next(recording: reply) else {
            throw LedgerError(message: "the ledger handed out no message")
        }
        return ticket
    }

    @Test(arguments: StoreKind.allCases) func replyIsCommittedNoLaterThanTheNextClaim(_ kind: StoreKind) async throws {
        let store = try await store(kind, readers: 3)
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        let ledger = LedgerPipeline(store: store, run: "2017-11-18", maxRunAttempts: 3)
        defer { try? ledger.close() }
        let first = try ticket(ledger)
        #expect(first.waitClaimed())
        #expect(try store.deliveries("2017-11-18", state: .sending).map(\.email.description) == ["r0@example.org"])
        let reply = LedgerPipeline.Reply(
            ticket: first,
            outcome: DeliveryOutcome(
                recipient: EmailAddress("r0@example.org")!, status: .accepted, replyCode: 250, reply: "250 ok"),
            messageID: "m0", retryAt: nil)
        let second = try ticket(ledger, recording: reply)
        #expect(second.waitClaimed())
        // The moment the second may leave, the first's reply is on disk: one message in doubt at most.
        #expect(try store.deliveries("2017-11-18", state: .sent).map(\.email.description) == ["r0@example.org"])
        #expect(try store.deliveries("2017-11-18", state: .sending).map(\.email.description) == ["r1@example.org"])
    }

    @Test(arguments: StoreKind.allCases) func readerWhoLeavesAfterTheRowWasReadIsNotClaimed(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, readers: 3)
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        let ledger = LedgerPipeline(store: store, run: "2017-11-18", maxRunAttempts: 3)
        defer { try? ledger.close() }
        // The first call reads all three rows ahead; r1 leaves before its claim.
        #expect(try ticket(ledger).waitClaimed())
        try store.setStatus(EmailAddress("r1@example.org")!, to: .unsubscribed, now: Date())
        let second = try ticket(ledger)
        #expect(second.delivery.email.description == "r1@example.org")
        #expect(second.waitClaimed() == false)
        // Left during the run: not sent, and not a failure.
        #expect(try store.deliveries("2017-11-18", state: .failed).isEmpty)
        let left = try store.deliveries("2017-11-18", state: .left)
        #expect(left.map(\.email.description) == ["r1@example.org"])
        #expect(left.first?.reply == "left during the run: the subscriber is unsubscribed now")
    }

    /// One group commit holding every kind of step: each does what it says, in both stores, whether the commit
    /// runs as one statement or (with steps conditional on a claim of the same commit) as a transaction.
    @Test(arguments: StoreKind.allCases) func oneCommitOfEveryKindOfStepWritesEachAsItSays(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, readers: 8)
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        let rows = try store.deliveries("2017-11-18", state: .pending)
        #expect(rows.count == 8)
        func outcome(_ row: Delivery, _ status: DeliveryOutcome.Status, _ code: Int, _ text: String) -> DeliveryOutcome {
            DeliveryOutcome(recipient: row.email, status: status, replyCode: code, reply: text)
        }
        // First commit: claims only.
        let first = try store.ledgerCommit([.claim(rows[0]), .claim(rows[1]), .claim(rows[2])], now: Date())
        #expect(first == [true, true, true])
        // r7 leaves before its claim.
        try store.setStatus(rows[7].email, to: .unsubscribed, now: Date())
        let sending = try store.deliveries("2017-11-18", state: .sending)
        // Second commit, one statement: answers for the rows claimed before, new claims, a skip, and a claim of
        // a reader who left.
        let second = try store.ledgerCommit(
            [
                .record(
                    sending[0], outcome: outcome(sending[0], .accepted, 250, "250 ok"), messageID: "<a@x>",
                    retryAt: nil, ifClaimed: nil),
                .record(
                    sending[1], outcome: outcome(sending[1], .rejected, 550, "550 5.1.1 user unknown"),
                    messageID: "<b@x>", retryAt: nil, ifClaimed: nil),
                .record(
                    sending[2], outcome: outcome(sending[2], .deferred, 451, "451 try later"), messageID: "<c@x>",
                    retryAt: Date().addingTimeInterval(60), ifClaimed: nil),
                .claim(rows[3]), .skip(rows[4], reason: "left before the run reached them"), .claim(rows[7]),
            ], now: Date())
        #expect(second == [true, false])
        // Third commit, a transaction: claims, and a failure and a release of two of them.
        let third = try store.ledgerCommit(
            [
                .claim(rows[5]), .claim(rows[6]), .fail(rows[5], reason: "could not build the message", ifClaimed: 0),
                .release(rows[6], ifClaimed: 1),
            ], now: Date())
        #expect(third == [true, true])

        func state(_ row: Delivery) throws -> Delivery? {
            for state in Delivery.State.allCases {
                if let found = try store.deliveries("2017-11-18", state: state).first(where: {
                    $0.subscriberId == row.subscriberId
                }) { return found }
            }
            return nil
        }
        #expect(try state(rows[0])?.state == .sent)
        #expect(try state(rows[0])?.messageId == "<a@x>")
        #expect(try state(rows[0])?.attempts == 1)
        #expect(try state(rows[1])?.state == .failed)
        #expect(try state(rows[1])?.replyCode == 550)
        #expect(try store.subscriber(rows[1].email)?.status == .bounced)
        #expect(try store.subscriber(rows[0].email)?.status == .active)
        #expect(try state(rows[2])?.state == .deferred)
        #expect(try state(rows[2])?.nextAttemptAt != nil)
        #expect(try state(rows[3])?.state == .sending)
        #expect(try state(rows[4])?.state == .left)
        #expect(try state(rows[4])?.reply == "left before the run reached them")
        #expect(try state(rows[5])?.state == .failed)
        #expect(try state(rows[5])?.reply == "could not build the message")
        #expect(try state(rows[6])?.state == .pending)
        #expect(try state(rows[7])?.state == .left)
        #expect(try state(rows[7])?.reply == "left during the run: the subscriber is unsubscribed now")
        // A reply for a claim that did not succeed in the same commit changes nothing.
        let fourth = try store.ledgerCommit(
            [
                .claim(rows[4]),
                .record(
                    rows[4], outcome: outcome(rows[4], .accepted, 250, "250 ok"), messageID: "<d@x>", retryAt: nil,
                    ifClaimed: 0),
            ], now: Date())
        #expect(fourth == [false])
        #expect(try state(rows[4])?.state == .left)
    }

    /// A claim that finds its row gone makes the reading jump ahead (what keeps two senders apart); the rows
    /// it passed over are read again from the start, so everyone else still gets exactly one message.
    @Test(arguments: StoreKind.allCases) func aClaimThatFailsJumpsAheadAndTheRowsPassedOverAreStillSent(
        _ kind: StoreKind
    ) async throws {
        let store = try await store(kind, readers: 300)
        _ = try store.startRun("2017-11-18", resendInDoubt: false, now: Date())
        let leaver = EmailAddress("r2@example.org")!
        let transport = ScriptedTransport { address, _ in
            // The first message out: r2's row is read ahead already; r2 leaves before its claim.
            if address.description == "r0@example.org" {
                _ = try? store.setStatus(leaver, to: .unsubscribed, now: Date())
            }
            return .accepted
        }
        sender(store, transport, options: SendOptions(connections: 1, backoff: 0.001)).send(remaining: 300)
        #expect(transport.attempts[leaver] == nil)
        #expect(transport.attempts.count == 299)
        #expect(transport.attempts.values.allSatisfy { $0 == 1 }, "a reader got two copies")
        #expect(try store.deliveryCounts("2017-11-18") == [.sent: 299, .left: 1])
    }
}
