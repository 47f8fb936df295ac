import DigestStore
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

/// `digest report`'s text, from figures made by hand: every state, clicks per story, a range.
@Suite("The report as text")
struct ReportTextTests {
    static let golden = Repository.root.appendingPathComponent("Tests/DigestWorkflowTests/Golden")

    static let edition = EditionReport(
        date: "2017-11-18", subject: "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town",
        sentAt: Date(timeIntervalSince1970: 1_510_988_400), recipients: 3_010, sent: 2_950, deferred: 21, failed: 12,
        inDoubt: 2, leftDuringRun: 5, notYetSent: 20, hardBounces: 9, softBounces: 21, complaints: nil,
        unsubscribes: 7,
        stories: [
            .init(number: 1, title: "Syria Daily: Regime & Russia Try Again", url: "https://a.example/1", clicks: 412,
                scannerClicks: 30),
            .init(number: 2, title: "What Comes After the SDF's Capture of Raqqa? Who Rebuilds?",
                url: "https://a.example/2", clicks: 190, scannerClicks: 28),
            .init(number: 3, title: "Iran Daily", url: "https://a.example/3", clicks: 0, scannerClicks: 29),
        ])

    @Test func anEditionWithEveryStateMatchesTheGoldenFile() throws {
        try Golden.check(ReportText.edition(Self.edition, width: 80), file: "report-edition.txt", folder: Self.golden)
    }

    @Test func withoutCountedClicksTheReportSaysHowToCountThem() {
        var report = Self.edition
        report.stories = nil
        #expect(ReportText.edition(report).contains("Clicks are not counted (tracking.clicks: stories"))
    }

    @Test func aRangeFitsTheTerminalAndMatchesTheGoldenFile() throws {
        let range = Report.Range(
            days: [
                .init(date: "2017-11-17", joined: 12, left: 3, bounced: 1),
                .init(date: "2017-11-18", joined: 4, left: 9, bounced: 2),
            ], editions: [Self.edition])
        let text = ReportText.range(range, width: 60)
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 60 }, "\(text)")
        try Golden.check(text, file: "report-range-60.txt", folder: Self.golden)
    }
}
