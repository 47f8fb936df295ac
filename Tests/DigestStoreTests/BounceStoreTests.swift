import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

@Suite("Bounce and complaint events")
struct BounceStoreTests {
    let start = Date(timeIntervalSince1970: 1_790_000_000)

    func store(_ kind: StoreKind, _ addresses: [String]) async throws -> any ListStore {
        let store = try await kind.make("bounces")
        for address in addresses {
            _ = try store.add(try #require(EmailAddress(address)), name: "", source: "test", now: start)
        }
        return store
    }

    func event(
        _ key: String, _ address: String, _ kind: BounceEvent.Kind, at: Date, status: String = "", reason: String = ""
    ) throws -> BounceEvent {
        BounceEvent(
            reportKey: key, address: try #require(EmailAddress(address)), run: "", kind: kind, status: status,
            replyCode: "", diagnostic: "", reason: reason, source: "file", at: at)
    }

    @Test(arguments: StoreKind.allCases) func aHardBounceTakesTheReaderOffAtOnceAndSaysWhy(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, ["dead@example.org", "alive@example.org"])
        let outcomes = try store.recordBounces(
            [try event("<r1@mx>", "dead@example.org", .hard, at: start, status: "5.1.1", reason: "mailbox-unknown")],
            policy: BouncePolicy(), now: start)
        #expect(outcomes == [.bounced])
        #expect(try store.subscriber(EmailAddress("dead@example.org")!)?.status == .bounced)
        #expect(try store.subscriber(EmailAddress("alive@example.org")!)?.status == .active)
        let reasons = try store.offListReasons(status: .bounced)
        #expect(
            reasons[EmailAddress("dead@example.org")!]?.hasPrefix("hard bounce 5.1.1 mailbox-unknown (file, ") == true)
    }

    @Test(arguments: StoreKind.allCases) func softBouncesRemoveAReaderOnlyAtTheLimitWithinTheWindow(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, ["full@example.org"])
        let policy = BouncePolicy(softLimit: 3, softDays: 15)
        let day: TimeInterval = 86_400
        // Two soft bounces, then a gap longer than the window: the count starts again.
        #expect(
            try store.recordBounces([try event("a", "full@example.org", .soft, at: start)], policy: policy, now: start)
                == [.counted(soft: 1)])
        #expect(
            try store.recordBounces(
                [try event("b", "full@example.org", .soft, at: start + day)], policy: policy, now: start + day)
                == [.counted(soft: 2)])
        let later = start + 20 * day
        #expect(
            try store.recordBounces([try event("c", "full@example.org", .soft, at: later)], policy: policy, now: later)
                == [.counted(soft: 1)])
        #expect(
            try store.recordBounces(
                [try event("d", "full@example.org", .soft, at: later + day)], policy: policy, now: later + day)
                == [.counted(soft: 2)])
        #expect(try store.subscriber(EmailAddress("full@example.org")!)?.status == .active)
        #expect(
            try store.recordBounces(
                [try event("e", "full@example.org", .soft, at: later + 2 * day)], policy: policy, now: later + 2 * day)
                == [.bounced])
        #expect(try store.subscriber(EmailAddress("full@example.org")!)?.status == .bounced)
    }

    @Test(arguments: StoreKind.allCases) func aRefusalOfTheMessageNeverRemovesAReader(_ kind: StoreKind) async throws {
        let store = try await store(kind, ["reader@example.org"])
        for index in 0..<10 {
            let at = start + Double(index)
            #expect(
                try store.recordBounces(
                    [try event("p\(index)", "reader@example.org", .none, at: at, status: "5.7.1", reason: "policy")],
                    policy: BouncePolicy(softLimit: 1), now: at) == [.recorded])
        }
        #expect(try store.subscriber(EmailAddress("reader@example.org")!)?.status == .active)
    }

    @Test(arguments: StoreKind.allCases) func aComplaintMarksTheReaderComplainedEvenAfterTheyLeft(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, ["angry@example.org", "gone@example.org"])
        _ = try store.setStatus(EmailAddress("gone@example.org")!, to: .unsubscribed, now: start)
        let outcomes = try store.recordBounces(
            [
                try event("arf1", "angry@example.org", .complaint, at: start, reason: "abuse"),
                try event("arf2", "gone@example.org", .complaint, at: start, reason: "abuse"),
            ], policy: BouncePolicy(), now: start)
        #expect(outcomes == [.complained, .complained])
        #expect(try store.subscriber(EmailAddress("gone@example.org")!)?.status == .complained)
        // A form cannot put a complainer back, so no confirmation is ever mailed to them.
        #expect(try store.offListReasons(status: .complained).count == 2)
    }

    @Test(arguments: StoreKind.allCases) func aReportReadTwiceCountsOnceAndUnknownAddressesAreSaidSo(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, ["full@example.org"])
        let soft = try event("<same@mx>", "full@example.org", .soft, at: start)
        #expect(try store.recordBounces([soft], policy: BouncePolicy(), now: start) == [.counted(soft: 1)])
        #expect(try store.recordBounces([soft], policy: BouncePolicy(), now: start) == [.duplicate])
        #expect(
            try store.recordBounces(
                [try event("x", "stranger@example.org", .hard, at: start)], policy: BouncePolicy(), now: start)
                == [.unknownReader])
        #expect(try store.bounceEvents(for: EmailAddress("full@example.org")!).count == 1)
    }

    @Test(arguments: StoreKind.allCases) func aMailboxMessageIsProcessedOnceWithItsEventsInOneTransaction(
        _ kind: StoreKind
    ) async throws {
        let store = try await store(kind, ["dead@example.org"])
        let events = [try event("<r1@mx>", "dead@example.org", .hard, at: start)]
        #expect(
            try store.recordMailboxMessage(
                mailbox: "imaps://b@mx/INBOX", messageID: "7/1", events: events, policy: BouncePolicy(), now: start)
                == [.bounced])
        #expect(
            try store.recordMailboxMessage(
                mailbox: "imaps://b@mx/INBOX", messageID: "7/1", events: events, policy: BouncePolicy(), now: start)
                == nil)
        // The same report under a new UIDVALIDITY is a new message, but its event is not counted again.
        #expect(
            try store.recordMailboxMessage(
                mailbox: "imaps://b@mx/INBOX", messageID: "8/1", events: events, policy: BouncePolicy(), now: start)
                == [.duplicate])
        #expect(try store.processedMailboxMessages(mailbox: "imaps://b@mx/INBOX") == ["7/1", "8/1"])
        #expect(try store.processedMailboxMessages(mailbox: "pop3s://b@mx/") == [])
    }

    @Test(arguments: StoreKind.allCases) func aComplaintAboutAConfirmationBlocksTheAddressForGood(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind, [])
        let ana = try #require(EmailAddress("ana@example.org"))
        guard case .send = try await store.requestSignup(ana, name: "Ana", interval: 600, now: start) else {
            Issue.record("the sign-up sends nothing")
            return
        }
        #expect(
            try store.recordBounces(
                [try event("arf", "ana@example.org", .complaint, at: start)], policy: BouncePolicy(), now: start)
                == [.complained])
        #expect(try store.pendingSignups().isEmpty)
        #expect(try store.subscriber(ana)?.status == .complained)
        #expect(
            try await store.requestSignup(ana, name: "Ana", interval: 600, now: start + 700) == .refused(.complained))
    }
}
