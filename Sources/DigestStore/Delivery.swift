import DigestCore
import Foundation
import GRDB

/// One reader's delivery of one edition: the delivery ledger's row.
public struct Delivery: Equatable, Sendable, Codable, FetchableRecord, PersistableRecord {
    public enum State: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Recorded as a recipient of the run, not yet tried.
        case pending
        /// Handed to the server; the reply is not recorded yet. Found after a crash, it is in doubt.
        case sending
        /// The server accepted it.
        case sent
        /// A temporary failure: tried again later in the run, or by the next run.
        case deferred
        /// A permanent failure: not tried again.
        case failed
        /// Was in flight when a run died: perhaps delivered. Resent only when asked.
        case doubt
        /// The reader left (unsubscribed, bounced, complained or was removed) after the run began: not sent,
        /// and not a failure.
        case left
        /// Handed to a later run of the same edition (`digest send --new-run`) before it was sent.
        case superseded
    }

    public static let databaseTableName = "delivery"

    /// The run's name: see `runKey(for:dryRun:)`.
    public var run: String
    public var subscriberId: Int64
    public var email: EmailAddress
    public var name: String
    public var state: State
    /// Attempts in all runs.
    public var attempts: Int
    /// Attempts in the current run (reset when a run starts).
    public var runAttempts: Int
    public var replyCode: Int?
    public var reply: String?
    public var messageId: String?
    public var nextAttemptAt: Date?
    public var updatedAt: Date
}

extension Delivery {
    /// The ledger's name for the run of an edition: its date, or `DATE+dry-run` for a dry run into a
    /// Maildir (a run of its own, so a rehearsal never marks a reader as sent). A later run of the same edition
    /// (`digest send --new-run`) is `DATE#2`, `DATE#3`, ….
    public static func runKey(for date: EditionDate, dryRun: Bool) -> String {
        date.description + (dryRun ? "+dry-run" : "")
    }
}
