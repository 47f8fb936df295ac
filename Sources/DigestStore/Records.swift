import DigestCore
import Foundation
import GRDB

/// A reader on the list.
public struct Subscriber: Equatable, Sendable, Codable, FetchableRecord, MutablePersistableRecord {
    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case active, unsubscribed, bounced, complained
    }

    public static let databaseTableName = "subscriber"

    public var id: Int64?
    /// The address as given, with the domain in lower case.
    public var email: String
    public var name: String
    public var status: Status
    public var joinedAt: Date
    /// How the reader joined: `import:readers.csv`, `add`, …
    public var source: String
    /// Other columns of an import, as a JSON object of strings.
    public var attributes: String
    public var updatedAt: Date

    public init(
        id: Int64? = nil, email: String, name: String = "", status: Status = .active, joinedAt: Date, source: String,
        attributes: String = "{}", updatedAt: Date
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.status = status
        self.joinedAt = joinedAt
        self.source = source
        self.attributes = attributes
        self.updatedAt = updatedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

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
    }

    public static let databaseTableName = "delivery"

    /// The run's name: the edition's date, or `DATE+dry-run`.
    public var run: String
    public var subscriberId: Int64
    public var email: String
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
