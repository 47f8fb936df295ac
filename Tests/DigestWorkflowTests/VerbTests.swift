import DigestCore
import DigestMail
import DigestSending
import DigestStore
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

/// The editor's verbs called in-process, with an injected clock and environment: no binary needed.
@Suite("The editor's verbs, in-process")
struct VerbTests {
    /// 10:00 UTC on 18 November 2017, the sample edition's day in the publication's zone.
    static let morning = Date(timeIntervalSince1970: 1_510_999_200)
    static let fixtures = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures")

    func environment(_ workspace: URL, _ variables: [String: String] = [:]) -> DigestEnvironment {
        DigestEnvironment(
            now: { Self.morning }, identity: SequentialMessageIdentity(seed: "verbs"), variables: variables,
            currentDirectory: workspace)
    }

    /// A copy of the sample workspace whose feeds are local fixture files and without the sample edition.
    func workspaceWithLocalFeeds() throws -> URL {
        let workspace = try DigestBinary().workspaceCopy()
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("Editions/2017-11-18"))
        let config = workspace.appendingPathComponent("publication.yaml")
        let feeds = [("podcast.xml", "Listen"), ("video.xml", "Watch")].map {
            "  - url: \"\(Self.fixtures.appendingPathComponent($0.0).absoluteString)\"\n    section: \($0.1)\n"
        }
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(
            of: "  - url: https://eaworldview.com/feed/\n    section: Today\n", with: feeds.joined())
        try text.write(to: config, atomically: true, encoding: .utf8)
        return workspace
    }

    @Test func gatherReadsEveryFeedWritesTodaysEditionAndAddsNothingTwice() throws {
        let workspace = try workspaceWithLocalFeeds()
        let heard = Counter()
        let first = try Gather.run(
            workspace: nil, date: nil, environment: environment(workspace), onFeed: { _ in heard.add() })
        #expect(first.date.description == "2017-11-18")
        #expect(first.file == "Editions/2017-11-18/edition.yaml")
        #expect(first.failedFeeds == 0)
        #expect(heard.value == 2)
        #expect(first.merge.added.contains("Podcast: Lebanon is Caught Up in Saudi-Iran Confrontation"))
        let edition = try Workspace(root: workspace).loadEdition(first.date)
        #expect(edition.sections.map(\.title) == ["Listen", "Watch"])
        let again = try Gather.run(workspace: nil, date: nil, environment: environment(workspace))
        #expect(again.merge.added.isEmpty)
        #expect(try Workspace(root: workspace).loadEdition(first.date) == edition)
    }

    @Test func renderGivesTheGoldenPartsAndTheSameMessageTwice() throws {
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment(Repository.root))
        let files = try Render.files(loaded)
        #expect(files.map(\.name) == ["digest.txt", "digest.html", "digest.eml"])
        let golden = Repository.root.appendingPathComponent("Tests/DigestCoreTests/Golden")
        #expect(files[0].data == (try Data(contentsOf: golden.appendingPathComponent("sample.txt"))))
        #expect(files[1].data == (try Data(contentsOf: golden.appendingPathComponent("sample.html"))))
        #expect(try Render.files(loaded)[2].data == files[2].data)
    }

    @Test func checkOfflineFindsNoErrorInTheSample() throws {
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment(Repository.root))
        let report = Check.run(loaded, linkTimeout: nil)
        #expect(report.links == nil)
        #expect(report.errors == 0, "\(report.findings)")
    }

    @Test func subscriberRunNeedsTheUnsubscribeKey() throws {
        let workspace = try DigestBinary().workspaceCopy()
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment(workspace))
        #expect(throws: WorkflowError.self) {
            try SubscriberRun.prepare(loaded, settings: SendSettings(), environment: environment(workspace))
        }
    }

    @Test func subscriberRunIntoAMaildirReachesEachReaderOnceAcrossAResume() throws {
        let workspace = try DigestBinary().workspaceCopy()
        let environment = environment(workspace, ["DIGEST_UNSUBSCRIBE_KEY": "verb-test-key-0123456789abcdef"])
        let store = try environment.openStore(Workspace(root: workspace))
        let readers = try (0..<12).map { index in
            SubscriberCSV.Row(
                line: index + 2, address: try #require(EmailAddress("reader\(index)@example.org")),
                name: "Reader \(index)")
        }
        _ = try store.importRows(readers, source: "test", now: Self.morning)
        let maildir = try Repository.temporaryFolder("verbs-maildir")
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment)
        var settings = SendSettings(options: SendOptions(connections: 2, limit: 5), dryRun: maildir)
        let first = try SubscriberRun.prepare(loaded, settings: settings, environment: environment)
        #expect(first.key == "2017-11-18+dry-run")
        #expect(first.start.isNew && first.start.recipients == 12)
        #expect(first.send().progress.sent == 5)
        settings.options.limit = nil
        let rest = try SubscriberRun.prepare(loaded, settings: settings, environment: environment)
        #expect(!rest.start.isNew)
        #expect(rest.remaining == 7)
        #expect(rest.send().progress.sent == 7)
        #expect(try rest.ledger().allSent)
        let files = try FileManager.default.contentsOfDirectory(atPath: maildir.appendingPathComponent("new").path)
        #expect(files.count == 12)
        let recipients = try files.map { name -> String in
            let text = try String(
                contentsOf: maildir.appendingPathComponent("new").appendingPathComponent(name), encoding: .utf8)
            return text.components(separatedBy: "\r\n").first { $0.hasPrefix("To:") } ?? ""
        }
        #expect(Set(recipients).count == 12)
        #expect(recipients.contains("To: Reader 3 <reader3@example.org>"))
    }
}

/// Counts calls from any thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

@Suite("Importing subscribers, in-process")
struct SubscriberImportVerbTests {
    @Test func aMailchimpCleanedExportImportsBouncedWithItsServiceAndAPlainListNeedsAStatus() throws {
        let workspace = try DigestBinary().workspaceCopy()
        let exports = Repository.root.appendingPathComponent("Tests/DigestStoreTests/Fixtures/exports")
        try FileManager.default.copyItem(
            at: exports.appendingPathComponent("cleaned_members_export_3f2a1b.csv"),
            to: workspace.appendingPathComponent("cleaned.csv"))
        try "email,name\nana@example.org,Ana\n".write(
            to: workspace.appendingPathComponent("plain.csv"), atomically: true, encoding: .utf8)
        let environment = DigestEnvironment(
            now: { VerbTests.morning }, identity: SequentialMessageIdentity(seed: "import"), variables: [:],
            currentDirectory: URL(fileURLWithPath: workspace.path, isDirectory: true))
        let report = try SubscriberImport.run(
            file: "cleaned.csv", status: .active, workspace: nil, environment: environment)
        #expect(report.service == .mailchimp)
        #expect(report.counts.added == 1)
        let store = try environment.openStore(try environment.workspace(nil))
        let reader = try #require(try store.subscriber(EmailAddress("mailchimp-bounced-1@example.org")!))
        #expect(reader.status == .bounced)
        #expect(reader.service == "mailchimp" && reader.source == "import:cleaned.csv")
        #expect(reader.joinedAt == Timestamp.parse("2020-01-01T00:00:00Z"))
        #expect(throws: Problem.self) {
            try SubscriberImport.run(file: "plain.csv", status: nil, workspace: nil, environment: environment)
        }
        #expect(try SubscriberImport.run(file: "plain.csv", status: .active, workspace: nil, environment: environment)
            .counts.added == 1)
    }
}
