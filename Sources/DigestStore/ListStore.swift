import DigestCore
import DigestMail
import Foundation

/// The subscriber list and the delivery ledger, wherever they are kept: the workspace's SQLite file
/// (`SQLiteStore`) or a PostgreSQL database shared by several machines (`PostgresStore`). Both behave the
/// same for every method; `Store.open(_:)` opens the one a location names.
public protocol ListStore: AnyObject, Sendable {
    /// Where the store is, for messages: the SQLite file's path, or the PostgreSQL URL (no password).
    var location: String { get }

    // MARK: Subscribers

    /// Adds an active subscriber, or returns the one that has the address already.
    func add(_ address: EmailAddress, name: String, source: String, now: Date) throws -> Store.AddResult
    /// Other addresses on the list that differ from `address` only in case.
    func caseVariants(of address: EmailAddress) throws -> [EmailAddress]
    func subscriber(_ address: EmailAddress) throws -> Subscriber?
    /// The subscriber with this id.
    func subscriber(id: Int64) throws -> Subscriber?
    /// Sets a subscriber's status; false when there is no such subscriber.
    @discardableResult
    func setStatus(_ address: EmailAddress, to status: Subscriber.Status, now: Date) throws -> Bool
    /// Unsubscribes the active readers among `ids`, all in one transaction, committed before it returns.
    func unsubscribe(ids: [Int64], now: Date) async throws -> [Int64: Store.UnsubscribeOutcome]
    /// Removes a subscriber and their ledger rows; false when there is no such subscriber.
    func remove(_ address: EmailAddress) throws -> Bool
    /// Subscribers in address order, optionally of one status, handed over one at a time.
    func forEachSubscriber(status: Subscriber.Status?, _ body: (Subscriber) throws -> Void) throws
    func counts() throws -> [Subscriber.Status: Int]
    /// Imports parsed rows in one transaction (see `SQLiteStore.importRows`).
    func importRows(_ rows: [SubscriberCSV.Row], source: String, service: String, now: Date) throws -> ImportCounts
    /// Makes a reader who left active again (see `SQLiteStore.resubscribe`).
    func resubscribe(_ address: EmailAddress, overridingBounceOrComplaint: Bool, source: String, now: Date) throws
        -> Store.ResubscribeOutcome

    // MARK: Sign-ups

    func requestSignup(_ address: EmailAddress, name: String, interval: TimeInterval, now: Date) async throws
        -> Store.SignupDecision
    func releaseSignupSend(_ address: EmailAddress) async throws
    func confirmSignup(_ address: EmailAddress, nonce: String, now: Date) async throws -> Store.ConfirmOutcome
    @discardableResult
    func purgeSignups(before cutoff: Date) async throws -> Int
    func pendingSignups() throws -> [PendingSignup]

    // MARK: Runs and the ledger

    /// Starts or resumes `run` (see `SQLiteStore.startRun`).
    func startRun(_ run: String, resendInDoubt: Bool, now: Date, plan: Store.RunPlan) throws -> Store.RunStart
    /// The run's rows in one state, in subscriber order.
    func deliveries(_ run: String, state: Delivery.State, limit: Int) throws -> [Delivery]
    func deliveryCounts(_ run: String) throws -> [Delivery.State: Int]
    /// Notes that a session of `run` ended with nothing left to send (or not).
    func noteSessionEnd(_ run: String, finished: Bool, now: Date) throws
    /// Every run, oldest first; with `date`, the runs of that edition.
    func runs(date: String?) throws -> [Store.RunSummary]

    /// The pending rows of `run` after subscriber id `cursor`, in id order, each with its reader's status now.
    func ledgerPending(run: String, after cursor: Int64, limit: Int) throws -> [(Delivery, String)]
    /// The highest subscriber id among the pending rows of `run`.
    func ledgerLastPending(run: String) throws -> Int64?
    /// The deferred rows of `run` whose time has come.
    func ledgerDeferred(run: String, maxRunAttempts: Int, now: Date, limit: Int) throws -> [Delivery]
    /// When the next deferred row of `run` may be tried; nil when none is left.
    func ledgerNextAttempt(run: String, maxRunAttempts: Int) throws -> Date?
    /// Runs `body` in one transaction of the ledger's writes.
    func ledgerWrite(_ body: (any LedgerTransaction) throws -> Void) throws
    /// Commits the bulk sender's steps in one transaction (its group commit); the claims' results in order.
    func ledgerCommit(_ steps: [LedgerStep], now: Date) throws -> [Bool]

    // MARK: Frozen editions, the archive, clicks

    /// Publishes an edition to the archive without a run, frozen under `DATE+published`.
    func publish(_ frozen: FrozenEdition, now: Date) throws
    func archivedEditions() throws -> [Store.ArchivedEdition]
    func archivedEdition(date: String) throws -> FrozenEdition?
    /// The frozen renderings of the runs of `date` (not dry runs), newest first.
    func frozenRuns(date: String) throws -> [FrozenEdition]
    /// Adds clicks, in one transaction.
    func record(clicks: [Store.Click]) async throws
    func clicks(date: String) throws -> [Int: (human: Int, scanner: Int)]

    // MARK: Bounces and complaints

    /// Records the events of one mailbox message and marks the message processed, in one transaction; nil
    /// when the message was processed before.
    func recordMailboxMessage(
        mailbox: String, messageID: String, events: [BounceEvent], policy: BouncePolicy, now: Date
    ) throws -> [BounceOutcome]?
    /// The messages of `mailbox` already processed.
    func processedMailboxMessages(mailbox: String) throws -> Set<String>
    /// Records events (from webhooks, files), all in one transaction.
    func recordBounces(_ events: [BounceEvent], policy: BouncePolicy, now: Date) throws -> [BounceOutcome]
    /// Every event recorded for an address, oldest first.
    func bounceEvents(for address: EmailAddress) throws -> [BounceEvent]
    /// Every event recorded against the runs named, oldest first.
    func bounceEvents(runs: [String]) throws -> [BounceEvent]
    /// Why readers of `status` are off the list, keyed by address.
    func offListReasons(status: Subscriber.Status) throws -> [EmailAddress: String]

    // MARK: Figures

    func editionFigures(date: String) throws -> Store.EditionFigures
    func growth(days: [(date: String, start: Date, end: Date)]) throws -> [Store.DayGrowth]

    // MARK: The schema and moving

    /// The schema version the store is at (the number of migrations applied), and the version this build knows.
    func schemaVersion() throws -> Int
    /// Every row of every table, in a form both stores read (`store copy`).
    func exportTables() throws -> [StoreTable]
    /// Writes `tables` into this store, in one transaction; refuses when the store holds any row already.
    func importTables(_ tables: [StoreTable]) throws
    /// Rows per table.
    func tableCounts() throws -> [String: Int]
}

/// The ledger's writes inside one transaction of the bulk sender's writer.
public protocol LedgerTransaction {
    /// Claims a row read earlier as `sending`, if it is still as it was read and its reader is still
    /// active; a reader who left is marked `left`. False when the row is not this caller's to send.
    func claim(_ delivery: Delivery, now: Date) throws -> Bool
    /// Marks a row `left` unsent, if it is still as it was read.
    func skip(_ delivery: Delivery, reason: String, now: Date) throws
    func record(_ delivery: Delivery, outcome: DeliveryOutcome, messageID: String, retryAt: Date?, now: Date) throws
    func fail(_ delivery: Delivery, reason: String, now: Date) throws
    func release(_ delivery: Delivery, now: Date) throws
}

/// One write of the bulk sender's group commit. A reply, failure or release of a message claimed in the same
/// commit names its claim's step (`ifClaimed`) and is applied only if that claim succeeds.
public enum LedgerStep: Sendable {
    case claim(Delivery)
    case record(Delivery, outcome: DeliveryOutcome, messageID: String, retryAt: Date?, ifClaimed: Int?)
    case fail(Delivery, reason: String, ifClaimed: Int?)
    case release(Delivery, ifClaimed: Int?)
    case skip(Delivery, reason: String)
    /// Nothing to write (a reply for a message this sender never claimed).
    case nothing
}

/// One table's rows as text (nil for NULL), in column order: what `store copy` moves.
public struct StoreTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]
    public var rows: [[String?]]

    public init(name: String, columns: [String], rows: [[String?]]) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }
}

extension ListStore {
    /// The steps one after another in one `ledgerWrite` transaction.
    public func ledgerCommit(_ steps: [LedgerStep], now: Date) throws -> [Bool] {
        var results: [Bool] = []
        try ledgerWrite { transaction in
            results.removeAll()
            var claimed: [Int: Bool] = [:]
            func applies(_ condition: Int?) -> Bool { condition.map { claimed[$0] ?? false } ?? true }
            for (index, step) in steps.enumerated() {
                switch step {
                case .claim(let delivery):
                    let ok = try transaction.claim(delivery, now: now)
                    claimed[index] = ok
                    results.append(ok)
                case .record(let delivery, let outcome, let messageID, let retryAt, let condition):
                    if applies(condition) {
                        try transaction.record(
                            delivery, outcome: outcome, messageID: messageID, retryAt: retryAt, now: now)
                    }
                case .fail(let delivery, let reason, let condition):
                    if applies(condition) { try transaction.fail(delivery, reason: reason, now: now) }
                case .release(let delivery, let condition):
                    if applies(condition) { try transaction.release(delivery, now: now) }
                case .skip(let delivery, let reason):
                    try transaction.skip(delivery, reason: reason, now: now)
                case .nothing:
                    break
                }
            }
        }
        return results
    }

    public func importRows(_ rows: [SubscriberCSV.Row], source: String, now: Date) throws -> ImportCounts {
        try importRows(rows, source: source, service: "", now: now)
    }

    public func resubscribe(_ address: EmailAddress, source: String, now: Date) throws -> Store.ResubscribeOutcome {
        try resubscribe(address, overridingBounceOrComplaint: false, source: source, now: now)
    }

    public func startRun(_ run: String, resendInDoubt: Bool, now: Date) throws -> Store.RunStart {
        try startRun(run, resendInDoubt: resendInDoubt, now: now, plan: Store.RunPlan())
    }

    public func deliveries(_ run: String, state: Delivery.State) throws -> [Delivery] {
        try deliveries(run, state: state, limit: 1_000)
    }

    public func runs() throws -> [Store.RunSummary] {
        try runs(date: nil)
    }

    /// The report of the edition of `date`; nil when it was never sent to subscribers.
    public func report(date: String) throws -> EditionReport? {
        let figures = try editionFigures(date: date)
        guard !figures.runs.isEmpty else { return nil }
        let frozen = try frozenRuns(date: date).first
        let counts = figures.counts
        var stories: [EditionReport.Story]?
        if let frozen, let links = frozen.storyLinks {
            let clicks = try clicks(date: date)
            let titles = frozen.storyTitles ?? []
            stories = links.enumerated().map { index, url in
                let number = index + 1
                return EditionReport.Story(
                    number: number, title: index < titles.count ? titles[index] : url, url: url,
                    clicks: clicks[number]?.human ?? 0, scannerClicks: clicks[number]?.scanner ?? 0)
            }
        }
        return EditionReport(
            date: date, subject: frozen?.archive.subject ?? "", sentAt: figures.sentAt,
            recipients: counts.filter { $0.key != .superseded }.values.reduce(0, +), sent: counts[.sent] ?? 0,
            deferred: counts[.deferred] ?? 0, failed: counts[.failed] ?? 0, inDoubt: counts[.doubt] ?? 0,
            leftDuringRun: counts[.left] ?? 0, notYetSent: (counts[.pending] ?? 0) + (counts[.sending] ?? 0),
            hardBounces: figures.hardBounces + figures.reportedHard,
            softBounces: figures.softBounces + figures.reportedSoft, complaints: figures.complaints,
            unsubscribes: figures.unsubscribes, stories: stories)
    }

    /// The dates of the editions sent to subscribers, oldest first.
    public func sentEditionDates() throws -> [String] {
        var dates: [String] = []
        for run in try runs() where !run.name.contains("+dry-run") {
            let date = run.date ?? run.name
            if !dates.contains(date) { dates.append(date) }
        }
        return dates
    }
}
