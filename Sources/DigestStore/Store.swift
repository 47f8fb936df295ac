import DigestCore
import DigestMail
import Foundation

/// What both stores share: their answers' types, and opening the store a location names.
public enum Store {
    /// The number of schema migrations this build knows; both stores number theirs the same.
    public static let schemaVersion = 6

    /// Opens (creating and migrating when needed) the store at `location`; with `migrate` false, as it is.
    public static func open(_ location: StoreLocation, migrate: Bool = true) throws -> any ListStore {
        switch location {
        case .sqlite(let path): try SQLiteStore(path: path, migrate: migrate)
        case .postgres(let settings): try PostgresStore(settings, migrate: migrate)
        }
    }

    public enum AddResult: Equatable, Sendable {
        case added(Subscriber)
        case exists(Subscriber)
    }

    /// What a one-click unsubscribe found.
    public enum UnsubscribeOutcome: Equatable, Sendable {
        /// The reader was active and is unsubscribed now.
        case unsubscribed
        /// The reader was already off the list (unsubscribed, bounced or complained): nothing changed.
        case alreadyOff(Subscriber.Status)
        /// No subscriber has this id (removed since the message went out): nothing to change.
        case unknown
    }

    /// What `resubscribe` did.
    public enum ResubscribeOutcome: Equatable, Sendable {
        /// The reader is active again; they were `from` before.
        case resubscribed(from: Subscriber.Status)
        /// The reader was active already: nothing changed.
        case alreadyActive
        /// The reader bounced or complained, and the caller did not say to override that: nothing changed.
        case refused(Subscriber.Status)
        /// No reader has this address.
        case unknown
    }

    /// What `startRun` found.
    public struct RunStart: Equatable, Sendable {
        /// True when this call recorded the recipients: the first start of the run.
        public var isNew: Bool
        public var recipients: Int
        /// Messages in flight when an earlier run died: perhaps delivered.
        public var inDoubt: [Delivery]
        /// What the run sends, as frozen at its first start (nil for runs from before digest froze them).
        public var frozen: FrozenEdition? = nil
    }

    /// How a run starts the first time.
    public struct RunPlan: Sendable {
        /// The edition's date, for `digest runs`.
        public var date: String?
        /// The rendering the run sends, stored with it at its first start.
        public var freeze: FrozenEdition?
        public var kind: FrozenEdition.Kind
        /// Where the messages go, for `digest runs`.
        public var relay: String?
        /// Earlier runs of the same edition: their readers who got it (or may have) are left out of this one,
        /// and what they had still to send is handed over (`superseded`).
        public var supersedes: [String]

        public init(
            date: String? = nil, freeze: FrozenEdition? = nil, kind: FrozenEdition.Kind = .run, relay: String? = nil,
            supersedes: [String] = []
        ) {
            self.date = date
            self.freeze = freeze
            self.kind = kind
            self.relay = relay
            self.supersedes = supersedes
        }
    }

    /// An edition in the public archive.
    public struct ArchivedEdition: Sendable, Equatable {
        public var date: String
        /// The subject readers got.
        public var subject: String
        public var preheader: String
        /// When it was frozen: its run's first start, or its publication.
        public var frozenAt: Date
    }

    /// A run as `digest runs` shows it.
    public struct RunSummary: Sendable, Equatable {
        public var name: String
        public var date: String?
        public var startedAt: Date
        public var lastSessionAt: Date?
        public var finishedAt: Date?
        public var relay: String?
        public var recipients: Int
        public var subject: String?
        public var counts: [Delivery.State: Int]
    }

    /// A click on story `story` of the edition of `date`, by a person or (as far as can be told) a link scanner.
    public struct Click: Hashable, Sendable {
        public var date: String
        public var story: Int
        public var scanner: Bool

        public init(date: String, story: Int, scanner: Bool) {
            self.date = date
            self.story = story
            self.scanner = scanner
        }
    }

    /// The ledger's figures of one edition, over its runs to subscribers (not dry runs).
    public struct EditionFigures: Sendable, Equatable {
        public var date: String
        public var runs: [String]
        public var counts: [Delivery.State: Int]
        /// Refusals at RCPT saying the mailbox does not exist (the reader is marked bounced).
        public var hardBounces: Int
        /// Temporary refusals (4xx) still deferred.
        public var softBounces: Int
        /// Readers of these runs with a hard bounce, a soft bounce or a complaint in the reports read since
        /// (`digest bounces fetch`, webhooks).
        public var reportedHard: Int
        public var reportedSoft: Int
        public var complaints: Int
        /// Readers of the edition who unsubscribed after it was sent and before the next edition's run.
        public var unsubscribes: Int
        /// When the first run started.
        public var sentAt: Date?
    }

    /// The list's growth per day.
    public struct DayGrowth: Sendable, Equatable {
        public var date: String
        public var joined: Int
        public var left: Int
        public var bounced: Int
    }

    /// What a sign-up request comes to. The server answers every one the same way.
    public enum SignupDecision: Equatable, Sendable {
        /// Send a confirmation with this nonce in its token.
        case send(nonce: String)
        /// A confirmation went to this address less than the interval ago: nothing is sent.
        case tooSoon
        /// The address is an active reader already: nothing to confirm.
        case alreadyActive
        /// The address bounced or complained: a form cannot put it back.
        case refused(Subscriber.Status)
    }

    /// What a confirmation came to.
    public enum ConfirmOutcome: Equatable, Sendable {
        /// The reader is active now (a new reader, or one who had unsubscribed).
        case confirmed(Subscriber)
        /// No pending sign-up matches: the token was used already, replaced, or purged.
        case notPending
        /// The address bounced or complained since: a form cannot put it back.
        case refused(Subscriber.Status)
    }

    // MARK: Rules both stores apply

    /// Why a row of a reader who left after the run began is not sent.
    static func notSent(subscriberStatus status: String) -> String {
        "left during the run: the subscriber is \(status) now"
    }

    /// The rule the ledger marks readers bounced by (550/551/553 at RCPT, 5.1.x when an enhanced code is given).
    static func isHardBounce(replyCode: Int?, reply: String) -> Bool {
        guard let code = replyCode, [550, 551, 553].contains(code) else { return false }
        let words = reply.split(separator: " ")
        guard words.count >= 2, words[1].split(separator: ".").count == 3 else { return true }
        return words[1].hasPrefix("5.1.")
    }

    /// A reader on the list, as an import sees them.
    struct ImportedFields: Equatable {
        var name: String
        var status: String
        var confirmedAt: Date?
        var tags: String
    }

    /// An imported row whose address is on the list only in another case (`folded`: the list's addresses by
    /// their lower-cased form). The row is added as it is; the import says so. Both stores import by this rule.
    static func caseVariant(_ row: SubscriberCSV.Row, folded: [String: String]) -> SubscriberCSV.CaseVariant? {
        let email = row.address.description
        guard let other = folded[email.lowercased()], other != email, let otherAddress = EmailAddress(other) else {
            return nil
        }
        return SubscriberCSV.CaseVariant(line: row.line, address: row.address, other: otherAddress)
    }

    /// What an imported row changes of a reader already on the list: a name when they had none, a stricter
    /// status (never active again), a confirmation time when there was none, and the row's new tags. Nil when
    /// nothing changes. Both stores import by this rule.
    static func merge(_ existing: ImportedFields, with row: SubscriberCSV.Row) -> ImportedFields? {
        var merged = existing
        var changed = false
        if merged.name.isEmpty && !row.name.isEmpty {
            merged.name = row.name
            changed = true
        }
        if merged.status == Subscriber.Status.active.rawValue && row.status != .active {
            merged.status = row.status.rawValue
            changed = true
        }
        if merged.confirmedAt == nil, let confirmed = row.confirmedAt {
            merged.confirmedAt = confirmed
            changed = true
        }
        var tags = decodeTags(existing.tags)
        for tag in row.tags where !tags.contains(tag) {
            tags.append(tag)
            changed = true
        }
        guard changed else { return nil }
        merged.tags = encodeTags(tags)
        return merged
    }

    static func decodeTags(_ text: String?) -> [String] {
        guard let data = text?.data(using: .utf8), let list = try? JSONDecoder().decode([String].self, from: data)
        else { return [] }
        return list
    }

    static func encodeTags(_ tags: [String]) -> String {
        (try? JSONEncoder().encode(tags)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func deliveryState(_ outcome: DeliveryOutcome) -> Delivery.State {
        switch outcome.status {
        case .accepted: .sent
        case .rejected: .failed
        case .inDoubt: .doubt
        case .deferred: .deferred
        }
    }
}

/// Where the list is kept: `store:` in publication.yaml or `DIGEST_STORE_URL`.
public enum StoreLocation: Sendable, Equatable {
    /// The SQLite file at this path.
    case sqlite(String)
    /// A PostgreSQL database.
    case postgres(PostgresSettings)

    /// The kind of store, as `store check` names it.
    public var kind: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    /// Where it is, for messages (never with a password).
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let settings): settings.description
        }
    }
}
