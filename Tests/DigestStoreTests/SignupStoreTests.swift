import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

@Suite("Pending sign-ups")
struct SignupStoreTests {
    func store(_ kind: StoreKind) async throws -> any ListStore {
        try await kind.make("signup")
    }

    @Test(arguments: StoreKind.allCases) func oneConfirmationPerIntervalAndTheSameLinkUntilConfirmed(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind)
        let ana = EmailAddress("ana@example.org")!
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        guard case .send(let nonce) = try await store.requestSignup(ana, name: "Ana", interval: 600, now: start) else {
            Issue.record("the first sign-up sends nothing")
            return
        }
        #expect(try await store.requestSignup(ana, name: "Ana", interval: 600, now: start + 599) == .tooSoon)
        #expect(try await store.requestSignup(ana, name: "Ana", interval: 600, now: start + 600) == .send(nonce: nonce))
        #expect(try store.pendingSignups().map(\.sends) == [2])
        // Pending is not on the list: no run would mail it.
        #expect(try store.subscriber(ana) == nil)
        #expect(try await store.confirmSignup(ana, nonce: "not-the-nonce", now: start + 700) == .notPending)
        guard case .confirmed(let reader) = try await store.confirmSignup(ana, nonce: nonce, now: start + 700) else {
            Issue.record("the right nonce does not confirm")
            return
        }
        #expect(reader.status == .active && reader.source == "form" && reader.name == "Ana")
        #expect(reader.joinedAt == start && reader.confirmedAt == start + 700)
        #expect(try await store.confirmSignup(ana, nonce: nonce, now: start + 800) == .notPending)
        #expect(try await store.requestSignup(ana, name: "", interval: 600, now: start + 900) == .alreadyActive)
    }

    @Test(arguments: StoreKind.allCases) func bouncedAndComplainedCannotSignUpUnsubscribedCan(_ kind: StoreKind)
        async throws
    {
        let store = try await store(kind)
        let rows = try SubscriberCSV.parse(
            Data("email,status\nu@example.org,unsubscribed\nb@example.org,bounced\nc@example.org,complained\n".utf8)
        ).rows
        _ = try store.importRows(rows, source: "import", now: Date())
        let now = Date()
        #expect(
            try await store.requestSignup(EmailAddress("b@example.org")!, name: "", interval: 0, now: now)
                == .refused(.bounced))
        #expect(
            try await store.requestSignup(EmailAddress("c@example.org")!, name: "", interval: 0, now: now)
                == .refused(.complained))
        guard
            case .send(let nonce) = try await store.requestSignup(
                EmailAddress("u@example.org")!, name: "", interval: 0, now: now)
        else {
            Issue.record("an unsubscribed reader cannot sign up again")
            return
        }
        guard
            case .confirmed(let back) = try await store.confirmSignup(
                EmailAddress("u@example.org")!, nonce: nonce, now: now)
        else {
            Issue.record("an unsubscribed reader cannot confirm")
            return
        }
        #expect(back.status == .active && back.source == "form" && back.confirmedAt == now)
    }

    @Test(arguments: StoreKind.allCases) func unconfirmedSignUpsArePurgedAfterTheyExpire(_ kind: StoreKind) async throws
    {
        let store = try await store(kind)
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        for (index, day) in [0.0, 3, 8].enumerated() {
            _ = try await store.requestSignup(
                EmailAddress("r\(index)@example.org")!, name: "", interval: 600, now: start + day * 86_400)
        }
        let purged = try await store.purgeSignups(before: start + 9 * 86_400 - 7 * 86_400)
        #expect(purged == 1)
        #expect(try store.pendingSignups().map(\.address.description) == ["r1@example.org", "r2@example.org"])
    }
}
