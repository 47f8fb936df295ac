import Foundation

/// What one edition did once sent, from the ledger, the list and the counted clicks: what `digest report`
/// and the `/reports/DATE` page show, and what `--json` prints.
public struct EditionReport: Codable, Sendable, Equatable {
    public var date: String
    public var subject: String
    public var sentAt: Date?
    public var recipients: Int
    public var sent: Int
    public var deferred: Int
    public var failed: Int
    public var inDoubt: Int
    /// Readers who left the list while the run went on.
    public var leftDuringRun: Int
    public var notYetSent: Int
    /// Refusals at RCPT that name a dead mailbox, and readers whose hard bounce came back in a report.
    public var hardBounces: Int
    /// Temporary refusals still deferred, and readers with a soft bounce in the reports.
    public var softBounces: Int
    /// Readers who reported the edition as spam (ARF reports, webhooks).
    public var complaints: Int?
    public var unsubscribes: Int
    /// Clicks per story, in the edition's order; nil when the edition's run did not count clicks.
    public var stories: [Story]?

    public struct Story: Codable, Sendable, Equatable {
        public var number: Int
        public var title: String
        public var url: String
        /// Clicks that look like a person's.
        public var clicks: Int
        /// Requests that look like a mail scanner's or a link preview's (HEAD, no or a tool's user agent).
        public var scannerClicks: Int

        public init(number: Int, title: String, url: String, clicks: Int, scannerClicks: Int) {
            self.number = number
            self.title = title
            self.url = url
            self.clicks = clicks
            self.scannerClicks = scannerClicks
        }
    }

    public var clicks: Int? { stories.map { $0.reduce(0) { $0 + $1.clicks } } }

    public init(
        date: String, subject: String, sentAt: Date?, recipients: Int, sent: Int, deferred: Int, failed: Int,
        inDoubt: Int, leftDuringRun: Int, notYetSent: Int, hardBounces: Int, softBounces: Int, complaints: Int?,
        unsubscribes: Int, stories: [Story]?
    ) {
        self.date = date
        self.subject = subject
        self.sentAt = sentAt
        self.recipients = recipients
        self.sent = sent
        self.deferred = deferred
        self.failed = failed
        self.inDoubt = inDoubt
        self.leftDuringRun = leftDuringRun
        self.notYetSent = notYetSent
        self.hardBounces = hardBounces
        self.softBounces = softBounces
        self.complaints = complaints
        self.unsubscribes = unsubscribes
        self.stories = stories
    }
}
