import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// The exports of the services editors move from, as written from each service's documented columns
/// (`Fixtures/exports/`). Every address says where it must land: `SERVICE-STATUS-N@example.org`, where
/// STATUS is active, unsubscribed, bounced, complained, or rejected (the row is refused with its line).
@Suite("Importing the services' exports")
struct ExportImportTests {
    static let folder = Repository.root.appendingPathComponent("Tests/DigestStoreTests/Fixtures/exports")

    static let fixtures: [(file: String, service: ExportService)] = [
        ("subscribed_members_export_3f2a1b.csv", .mailchimp),
        ("unsubscribed_members_export_3f2a1b.csv", .mailchimp),
        ("cleaned_members_export_3f2a1b.csv", .mailchimp),
        ("substack.csv", .substack),
        ("ghost-members.csv", .ghost),
        ("listmonk-subscribers.csv", .listmonk),
        ("listmonk-list-subscriptions.csv", .listmonk),
        ("buttondown-subscribers.csv", .buttondown),
        ("kit-subscribers.csv", .kit),
        ("beehiiv-subscribers.csv", .beehiiv),
    ]

    /// The status an address of the fixtures must land with; nil for a row that must be refused.
    static func expected(_ address: String) -> Subscriber.Status?? {
        let parts = address.split(separator: "-")
        guard parts.count >= 3 else { return .none }
        if parts[1] == "rejected" { return .some(nil) }
        return Subscriber.Status(rawValue: String(parts[1])).map { .some($0) } ?? .none
    }

    static func rawAddresses(_ data: Data) -> [(line: Int, address: String)] {
        String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .enumerated().compactMap { index, line in
                guard let match = line.firstMatch(of: /[a-z]+-[a-z]+-[0-9]+@example\.org/) else { return nil }
                return (index + 1, String(match.output))
            }
    }

    @Test(arguments: fixtures.map(\.file), StoreKind.allCases)
    func everyReaderOfAnExportLandsWithTheStatusTheServiceGaveThem(_ file: String, _ kind: StoreKind) async throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent(file))
        let result = try SubscriberCSV.parse(data, fileName: file)
        #expect(result.service == Self.fixtures.first { $0.file == file }?.service)
        let store = try await kind.make("exports")
        _ = try store.importRows(result.rows, source: "import:\(file)", service: result.service.rawValue, now: Date())
        let expectedRows = Self.rawAddresses(data)
        #expect(!expectedRows.isEmpty)
        for (line, raw) in expectedRows {
            guard case .some(let status) = Self.expected(raw) else {
                Issue.record("fixture address \(raw) does not say where it lands")
                continue
            }
            let stored = try store.subscriber(EmailAddress(raw)!)
            if let status {
                #expect(stored?.status == status, "\(file): \(raw)")
                #expect(stored?.service == result.service.rawValue)
            } else {
                #expect(stored == nil, "\(file): \(raw) must be refused")
                #expect(result.rejected.contains { $0.line == line }, "\(file):\(line) must be listed as rejected")
            }
        }
    }

    @Test func mailchimpUnsubscribedAndCleanedFilesAreKnownByTheirTimeColumnsWhateverTheirName() throws {
        for (file, status) in [
            ("unsubscribed_members_export_3f2a1b.csv", Subscriber.Status.unsubscribed),
            ("cleaned_members_export_3f2a1b.csv", .bounced),
        ] {
            let data = try Data(contentsOf: Self.folder.appendingPathComponent(file))
            let renamed = try SubscriberCSV.parse(data, fileName: "audience.csv")
            #expect(renamed.rows.allSatisfy { $0.status == status })
            // Even when the editor says "active" for the whole file.
            let forced = try SubscriberCSV.parse(data, fileName: "audience.csv", status: .active)
            #expect(forced.rows.allSatisfy { $0.status == status })
        }
    }

    @Test func mailchimpTimesTagsAndColumnsAreKept() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("subscribed_members_export_3f2a1b.csv"))
        let row = try #require(try SubscriberCSV.parse(data, fileName: "x.csv").rows.first)
        #expect(row.joinedAt.map(Timestamp.format) == "2023-01-15T10:20:30Z")
        #expect(row.confirmedAt.map(Timestamp.format) == "2023-01-15T10:22:01Z")
        #expect(row.tags == ["Local news", "Sports"])
        #expect(row.name == "Ana Haddad")
        #expect(row.attributesJSON.contains(#""LEID":"11111""#))
    }

    @Test func aFileThatDoesNotSayTheStatusIsRefusedUnlessTheEditorSaysIt() throws {
        let text = Data("email,name\na@example.org,Ana\n".utf8)
        do {
            _ = try SubscriberCSV.parse(text, fileName: "readers.csv")
            Issue.record("a file without a status was imported")
        } catch let error as SubscriberCSV.FileError {
            #expect(error.description.contains("readers.csv"))
            #expect(error.description.contains("no status column"))
            #expect(error.description.contains("--status"))
        }
        #expect(try SubscriberCSV.parse(text, status: .unsubscribed).rows.map(\.status) == [.unsubscribed])
        // A Substack export without email_disabled cannot say either.
        #expect(throws: SubscriberCSV.FileError.self) {
            try SubscriberCSV.parse(Data("email,active_subscription,expiry\na@example.org,false,\n".utf8))
        }
    }

    @Test func anUnknownStatusValueRejectsItsRowWithTheLineAndNeverMeansActive() throws {
        let result = try SubscriberCSV.parse(
            Data("email,status\na@example.org,active\nb@example.org,whatever\nc@example.org,\n".utf8))
        #expect(result.rows.map(\.address.description) == ["a@example.org"])
        #expect(result.rejected.map(\.line) == [3, 4])
        #expect(result.rejected[0].reason.contains("unknown status 'whatever'"))
    }

    @Test(arguments: StoreKind.allCases) func exportKeepsConsentTagsAndAttributesThroughAnotherImport(_ kind: StoreKind)
        async throws
    {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("subscribed_members_export_3f2a1b.csv"))
        let parsed = try SubscriberCSV.parse(data, fileName: "subscribed_members_export_3f2a1b.csv")
        let first = try await kind.make("exports")
        _ = try first.importRows(parsed.rows, source: "import:mc.csv", service: "mailchimp", now: Date())
        var text = SubscriberCSV.header()
        try first.forEachSubscriber(status: nil) { text += SubscriberCSV.line($0) }
        let again = try SubscriberCSV.parse(Data(text.utf8), fileName: "backup.csv")
        #expect(again.service == .digest)
        let second = try await kind.make("exports")
        _ = try second.importRows(again.rows, source: "import:backup.csv", service: "digest", now: Date())
        let before = try #require(try first.subscriber(EmailAddress("mailchimp-active-1@example.org")!))
        let after = try #require(try second.subscriber(EmailAddress("mailchimp-active-1@example.org")!))
        #expect(after.joinedAt == before.joinedAt)
        #expect(after.confirmedAt == before.confirmedAt)
        #expect(after.source == "import:mc.csv")
        #expect(after.service == "mailchimp")
        #expect(after.tagList == ["Local news", "Sports"])
        #expect(after.attributes == before.attributes)
        #expect(after.name == "Ana Haddad")
    }

    @Test(arguments: StoreKind.allCases) func addressesThatDifferOnlyInCaseAreKeptAsTwoAndSaidSo(_ kind: StoreKind)
        async throws
    {
        let result = try SubscriberCSV.parse(
            Data("email,status\nbob@example.com,active\nBob@EXAMPLE.COM,active\n".utf8))
        #expect(result.rows.count == 2)
        #expect(result.caseVariants.map(\.line) == [3])
        #expect(result.caseVariants[0].description.contains("Bob@example.com and bob@example.com"))
        let store = try await kind.make("case")
        _ = try store.importRows([result.rows[0]], source: "1", now: Date())
        let counts = try store.importRows(
            try SubscriberCSV.parse(Data("email,status\nBOB@example.com,active\n".utf8)).rows, source: "2", now: Date())
        #expect(counts.caseVariants.map(\.other.description) == ["bob@example.com"])
    }

    @Test(arguments: StoreKind.allCases) func aReaderWhoUnsubscribedCanComeBackButABouncedOneOnlyWhenTheEditorOverrides(
        _ kind: StoreKind
    ) async throws {
        let store = try await kind.make("back")
        let rows = try SubscriberCSV.parse(
            Data("email,status\nu@example.org,unsubscribed\nb@example.org,bounced\nc@example.org,spam\n".utf8)
        ).rows
        _ = try store.importRows(rows, source: "import", now: Date())
        let now = Date()
        #expect(
            try store.resubscribe(EmailAddress("u@example.org")!, source: "add --resubscribe", now: now)
                == .resubscribed(from: .unsubscribed))
        let back = try #require(try store.subscriber(EmailAddress("u@example.org")!))
        #expect(back.status == .active)
        #expect(back.source == "add --resubscribe")
        #expect(back.confirmedAt != nil)
        #expect(try store.resubscribe(EmailAddress("b@example.org")!, source: "x", now: now) == .refused(.bounced))
        #expect(try store.resubscribe(EmailAddress("c@example.org")!, source: "x", now: now) == .refused(.complained))
        #expect(try store.subscriber(EmailAddress("b@example.org")!)?.status == .bounced)
        #expect(
            try store.resubscribe(
                EmailAddress("b@example.org")!, overridingBounceOrComplaint: true, source: "x", now: now)
                == .resubscribed(from: .bounced))
        #expect(try store.resubscribe(EmailAddress("nobody@example.org")!, source: "x", now: now) == .unknown)
        #expect(try store.resubscribe(EmailAddress("u@example.org")!, source: "x", now: now) == .alreadyActive)
    }
}
