import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// What every store does the same: the list, runs and their frozen renderings, the archive, clicks,
/// figures, and moving everything from one store to another.
@Suite("Both stores")
struct StoreContractTests {
    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    static func frozen(_ date: String, subject: String, links: [String]? = nil) throws -> FrozenEdition {
        let json =
            #"{"subject":"\#(subject)","preheader":"pre \#(subject)","html":"<p>x</p>","markedText":"x","links":[]}"#
        let rendered = try JSONDecoder().decode(RenderedEdition.self, from: Data(json.utf8))
        return FrozenEdition(
            date: date, forReaders: rendered, archive: rendered, editionFingerprint: "e", templatesFingerprint: "t",
            storyLinks: links, storyTitles: links.map { $0.map { "Title of \($0)" } })
    }

    func readers(_ store: any ListStore, _ count: Int) throws {
        var text = "email,name\n"
        for index in 0..<count { text += "r\(index)@example.org,R \(index)\n" }
        _ = try store.importRows(
            try SubscriberCSV.parse(Data(text.utf8), status: .active).rows, source: "test", now: Self.start)
    }

    @Test(arguments: StoreKind.allCases)
    func theListAddsFindsChangesAndRemovesReaders(_ kind: StoreKind) async throws {
        let store = try await kind.make("list")
        let ana = EmailAddress("ana@example.org")!
        guard case .added(let added) = try store.add(ana, name: "Ana", source: "add", now: Self.start) else {
            Issue.record("a new address is not added")
            return
        }
        #expect(added.id != nil && added.status == .active && added.joinedAt == Self.start)
        #expect(try store.add(ana, name: "Other", source: "add", now: Self.start) == .exists(added))
        #expect(try store.subscriber(id: added.id ?? 0) == added)
        _ = try store.add(EmailAddress("Ana@example.org")!, name: "", source: "add", now: Self.start)
        #expect(try store.caseVariants(of: ana).map(\.description) == ["Ana@example.org"])
        #expect(try store.setStatus(ana, to: .bounced, now: Self.start + 1))
        #expect(try !store.setStatus(EmailAddress("nobody@example.org")!, to: .bounced, now: Self.start))
        #expect(try store.counts() == [.active: 1, .bounced: 1])
        var seen: [String] = []
        try store.forEachSubscriber(status: nil) { seen.append($0.email.description) }
        // Byte order, as SQLite sorts: capitals first.
        #expect(seen == ["Ana@example.org", "ana@example.org"])
        seen = []
        try store.forEachSubscriber(status: .active) { seen.append($0.email.description) }
        #expect(seen == ["Ana@example.org"])
        #expect(try store.remove(ana))
        #expect(try !store.remove(ana))
        #expect(try store.subscriber(ana) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func oneClickUnsubscribesSaysWhatEachReaderWas(_ kind: StoreKind) async throws {
        let store = try await kind.make("unsubscribe")
        try readers(store, 3)
        try store.setStatus(EmailAddress("r1@example.org")!, to: .complained, now: Self.start)
        let ids = try (0..<3).map { try #require(try store.subscriber(EmailAddress("r\($0)@example.org")!)?.id) }
        let outcomes = try await store.unsubscribe(ids: [ids[0], ids[1], 999_999, ids[0]], now: Self.start + 5)
        #expect(outcomes == [ids[0]: .unsubscribed, ids[1]: .alreadyOff(.complained), 999_999: .unknown])
        #expect(try store.subscriber(id: ids[0])?.status == .unsubscribed)
        #expect(try store.subscriber(id: ids[0])?.updatedAt == Self.start + 5)
        #expect(try await store.unsubscribe(ids: [ids[0]], now: Self.start) == [ids[0]: .alreadyOff(.unsubscribed)])
    }

    @Test(arguments: StoreKind.allCases)
    func runsFreezeWhatTheySendAndTheArchiveServesIt(_ kind: StoreKind) async throws {
        let store = try await kind.make("runs")
        try readers(store, 4)
        let first = try Self.frozen(
            "2017-11-18", subject: "First", links: ["https://a.example/1", "https://a.example/2"])
        let start = try store.startRun(
            "2017-11-18", resendInDoubt: false, now: Self.start,
            plan: Store.RunPlan(date: "2017-11-18", freeze: first, relay: "smtp://relay"))
        #expect(start.isNew && start.recipients == 4 && start.frozen == first)
        _ = try store.startRun(
            "2017-11-18+dry-run", resendInDoubt: false, now: Self.start + 1,
            plan: Store.RunPlan(date: "2017-11-18", freeze: first, kind: .dryRun))
        try store.publish(try Self.frozen("2017-11-19", subject: "Published"), now: Self.start + 2)
        #expect(try store.archivedEditions().map(\.date) == ["2017-11-19", "2017-11-18"])
        #expect(try store.archivedEditions().map(\.preheader) == ["pre Published", "pre First"])
        #expect(try store.archivedEdition(date: "2017-11-18") == first)
        #expect(try store.archivedEdition(date: "2017-11-20") == nil)
        #expect(try store.frozenRuns(date: "2017-11-18") == [first])
        // A later run of the same edition leaves out who got it and takes over what was left.
        let sent = try #require(try store.deliveries("2017-11-18", state: .pending).first)
        try store.ledgerWrite { transaction in
            #expect(try transaction.claim(sent, now: Self.start + 3))
            try transaction.record(
                sent,
                outcome: DeliveryOutcome(recipient: sent.email, status: .accepted, replyCode: 250, reply: "250 ok"),
                messageID: "m1", retryAt: nil, now: Self.start + 3)
        }
        let second = try Self.frozen("2017-11-18", subject: "Second")
        let again = try store.startRun(
            "2017-11-18#2", resendInDoubt: false, now: Self.start + 10,
            plan: Store.RunPlan(date: "2017-11-18", freeze: second, supersedes: ["2017-11-18"]))
        #expect(again.recipients == 3)
        #expect(try store.deliveryCounts("2017-11-18") == [.sent: 1, .superseded: 3])
        #expect(try store.archivedEdition(date: "2017-11-18") == second)
        try store.noteSessionEnd("2017-11-18#2", finished: true, now: Self.start + 20)
        let runs = try store.runs(date: "2017-11-18")
        #expect(runs.map(\.name) == ["2017-11-18", "2017-11-18+dry-run", "2017-11-18#2"])
        #expect(runs.map(\.subject) == ["First", "First", "Second"])
        #expect(runs[0].relay == "smtp://relay" && runs[0].startedAt == Self.start)
        #expect(runs[2].finishedAt == Self.start + 20 && runs[2].counts == [.pending: 3])
        #expect(try store.runs().count == 3)
        #expect(try store.sentEditionDates() == ["2017-11-18"])
    }

    @Test(arguments: StoreKind.allCases)
    func clicksFiguresAndTheReportAddUp(_ kind: StoreKind) async throws {
        let store = try await kind.make("figures")
        try readers(store, 5)
        let links = ["https://a.example/1", "https://a.example/2"]
        _ = try store.startRun(
            "2017-11-18", resendInDoubt: false, now: Self.start,
            plan: Store.RunPlan(date: "2017-11-18", freeze: try Self.frozen("2017-11-18", subject: "S", links: links)))
        let rows = try store.deliveries("2017-11-18", state: .pending)
        let replies: [(DeliveryOutcome.Status, Int, String)] = [
            (.accepted, 250, "250 ok"), (.accepted, 250, "250 ok"), (.rejected, 550, "550 5.1.1 unknown"),
            (.rejected, 550, "550 5.7.1 spam"), (.deferred, 451, "451 later"),
        ]
        try store.ledgerWrite { transaction in
            for (row, reply) in zip(rows, replies) {
                #expect(try transaction.claim(row, now: Self.start))
                try transaction.record(
                    row,
                    outcome: DeliveryOutcome(recipient: row.email, status: reply.0, replyCode: reply.1, reply: reply.2),
                    messageID: "m", retryAt: Self.start + 60, now: Self.start)
            }
        }
        _ = try await store.unsubscribe(ids: [rows[0].subscriberId], now: Self.start + 30)
        try await store.record(clicks: [
            Store.Click(date: "2017-11-18", story: 1, scanner: false),
            Store.Click(date: "2017-11-18", story: 1, scanner: false),
            Store.Click(date: "2017-11-18", story: 2, scanner: true),
        ])
        try await store.record(clicks: [Store.Click(date: "2017-11-18", story: 1, scanner: false)])
        let clicks = try store.clicks(date: "2017-11-18")
        #expect(clicks[1]?.human == 3 && clicks[1]?.scanner == 0 && clicks[2]?.scanner == 1)
        let figures = try store.editionFigures(date: "2017-11-18")
        #expect(figures.counts == [.sent: 2, .failed: 2, .deferred: 1])
        #expect(figures.hardBounces == 1 && figures.softBounces == 1 && figures.unsubscribes == 1)
        #expect(figures.sentAt == Self.start)
        let report = try #require(try store.report(date: "2017-11-18"))
        #expect(report.stories?.map(\.clicks) == [3, 0])
        #expect(try store.subscriber(rows[2].email)?.status == .bounced)
        let growth = try store.growth(days: [("d", Self.start - 1, Self.start + 100)])
        #expect(growth.map { [$0.joined, $0.left, $0.bounced] } == [[5, 1, 1]])
        #expect(try store.ledgerNextAttempt(run: "2017-11-18", maxRunAttempts: 3) == Self.start + 60)
    }

    @Test(arguments: StoreKind.allCases)
    func theSchemaIsAtTheVersionThisBuildKnows(_ kind: StoreKind) async throws {
        let location = try await kind.location("schema")
        #expect(try await location.open().schemaVersion() == Store.schemaVersion)
        // Opening again migrates nothing and loses nothing.
        let store = try await location.open()
        try readers(store, 2)
        #expect(try await location.open().counts() == [.active: 2])
    }

    @Test(arguments: [(StoreKind.sqlite, StoreKind.postgres), (.postgres, .sqlite), (.postgres, .postgres)])
    func everythingCopiesToTheOtherStoreAndComesBackTheSame(_ from: StoreKind, _ to: StoreKind) async throws {
        let source = try await from.make("copyfrom")
        try readers(source, 30)
        _ = try await store(source, signups: 1)
        _ = try source.startRun(
            "2017-11-18", resendInDoubt: false, now: Self.start,
            plan: Store.RunPlan(date: "2017-11-18", freeze: try Self.frozen("2017-11-18", subject: "S", links: ["u"])))
        try await source.record(clicks: [Store.Click(date: "2017-11-18", story: 1, scanner: false)])
        try source.setStatus(EmailAddress("r3@example.org")!, to: .unsubscribed, now: Self.start + 0.123)
        let target = try await to.make("copyto")
        try target.importTables(try source.exportTables())
        #expect(try target.tableCounts() == source.tableCounts())
        #expect(try target.tableCounts()["delivery"] == 30)
        // The same readers, to the millisecond both stores keep.
        func same(_ subscriber: Subscriber?) -> String {
            guard let subscriber else { return "none" }
            let times = [subscriber.joinedAt, subscriber.updatedAt, subscriber.confirmedAt ?? .distantPast].map {
                Int64(($0.timeIntervalSince1970 * 1000).rounded())
            }
            return "\(subscriber.id ?? 0) \(subscriber.email) \(subscriber.name) \(subscriber.status) \(times) "
                + "\(subscriber.source) \(subscriber.attributes) \(subscriber.service) \(subscriber.tags)"
        }
        for address in ["r0@example.org", "r3@example.org"] {
            #expect(
                try same(target.subscriber(EmailAddress(address)!)) == same(source.subscriber(EmailAddress(address)!)))
        }
        #expect(try target.runs() == source.runs())
        #expect(try target.archivedEditions() == source.archivedEditions())
        #expect(try target.pendingSignups() == source.pendingSignups())
        // New readers get new ids after the copied ones.
        guard
            case .added(let new) = try target.add(
                EmailAddress("new@example.org")!, name: "", source: "add", now: Self.start)
        else {
            Issue.record("no reader added after a copy")
            return
        }
        #expect((new.id ?? 0) > 30)
        // A store with rows is never a copy's target.
        #expect(throws: (any Error).self) { try target.importTables(try source.exportTables()) }
    }

    func store(_ store: any ListStore, signups: Int) async throws -> any ListStore {
        for index in 0..<signups {
            _ = try await store.requestSignup(
                EmailAddress("s\(index)@example.org")!, name: "S", interval: 600, now: Self.start)
        }
        return store
    }
}
