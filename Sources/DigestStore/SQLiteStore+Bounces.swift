import DigestCore
import Foundation
import GRDB

/// One failed or complained recipient of one report: a DSN or an MTA's notice, an ARF complaint, a webhook
/// event from an email service.
public struct BounceEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The address cannot receive mail: the reader is off the list at once.
        case hard
        /// The address may work later: counted, and only `softLimit` of them in `softDays` days remove a reader.
        case soft
        /// The reader reported the message as spam: never mailed again.
        case complaint
        /// A refusal of the message itself (policy, spam, reputation), or nothing about the reader: kept, never
        /// counted against the reader.
        case none
    }

    /// One report: its Message-ID, a service's event id, else `sha256:` and the hex digest of its bytes.
    public var reportKey: String
    public var address: EmailAddress
    /// The run the report is about (from the VERP token), or empty when it could not be told.
    public var run: String
    public var kind: Kind
    /// The enhanced status code, e.g. `5.1.1`, or empty.
    public var status: String
    /// The SMTP reply code, e.g. `550`, or empty.
    public var replyCode: String
    /// The receiving server's words, or a complaint's feedback type.
    public var diagnostic: String
    /// A short word: mailbox-unknown, mailbox-full, policy, abuse, …
    public var reason: String
    /// Where the report came from: `imap`, `pop3`, `ses`, `postmark`, `file`.
    public var source: String
    public var at: Date

    public init(
        reportKey: String, address: EmailAddress, run: String, kind: Kind, status: String, replyCode: String,
        diagnostic: String, reason: String, source: String, at: Date
    ) {
        self.reportKey = reportKey
        self.address = address
        self.run = run
        self.kind = kind
        self.status = status
        self.replyCode = replyCode
        self.diagnostic = diagnostic
        self.reason = reason
        self.source = source
        self.at = at
    }
}

/// When soft bounces remove a reader: `softLimit` of them (from different reports) within `softDays` days.
public struct BouncePolicy: Sendable, Equatable {
    public var softLimit: Int
    public var softDays: Int

    public init(softLimit: Int = 3, softDays: Int = 15) {
        self.softLimit = max(1, softLimit)
        self.softDays = max(1, softDays)
    }
}

extension BouncePolicy {
    /// What a new event of `kind` does to a reader of `status`: the outcome, and the status the reader takes
    /// (nil: unchanged). `softBounces` counts the reader's soft bounces since `softWindowStart(now:)`, this one
    /// included; it is asked only for a soft bounce of an active reader. Both stores apply this one rule.
    func apply(_ kind: BounceEvent.Kind, to status: Subscriber.Status, softBounces: () throws -> Int) rethrows
        -> (outcome: BounceOutcome, status: Subscriber.Status?)
    {
        switch kind {
        case .complaint:
            return status == .complained ? (.recorded, nil) : (.complained, .complained)
        case .hard:
            return status == .active ? (.bounced, .bounced) : (.recorded, nil)
        case .soft:
            guard status == .active else { return (.recorded, nil) }
            let soft = try softBounces()
            return soft >= softLimit ? (.bounced, .bounced) : (.counted(soft: soft), nil)
        case .none:
            return (.recorded, nil)
        }
    }

    /// Where the window of counted soft bounces starts.
    func softWindowStart(now: Date) -> Date { now.addingTimeInterval(-Double(softDays) * 86_400) }
}

/// What recording one event did to its reader.
public enum BounceOutcome: Sendable, Equatable {
    /// The reader is off the list now: a hard bounce, or the soft limit reached.
    case bounced
    /// The reader is marked complained now and is never mailed again.
    case complained
    /// A soft bounce: this many within the window, under the limit.
    case counted(soft: Int)
    /// Kept; changes nothing (a refusal of the message, or the reader was already off the list).
    case recorded
    /// This report was recorded for this address before: nothing counted twice.
    case duplicate
    /// No reader has this address.
    case unknownReader
}

extension SQLiteStore {
    /// Records the events of one mailbox message and marks the message processed, in one transaction, so a
    /// fetch killed at any point neither loses a report nor counts one twice. Nil when the message was
    /// processed before.
    public func recordMailboxMessage(
        mailbox: String, messageID: String, events: [BounceEvent], policy: BouncePolicy, now: Date
    ) throws -> [BounceOutcome]? {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO mailboxMessage (mailbox, messageId, processedAt) VALUES (?, ?, ?)",
                arguments: [mailbox, messageID, now])
            guard db.changesCount > 0 else { return nil }
            return try events.map { try Self.record($0, policy: policy, db: db, now: now) }
        }
    }

    /// The messages of `mailbox` already processed.
    public func processedMailboxMessages(mailbox: String) throws -> Set<String> {
        try database.read { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT messageId FROM mailboxMessage WHERE mailbox = ?", arguments: [mailbox]))
        }
    }

    /// Records events (from webhooks, files), all in one transaction; a (report, address) recorded before is
    /// a `duplicate` and changes nothing.
    public func recordBounces(_ events: [BounceEvent], policy: BouncePolicy, now: Date) throws -> [BounceOutcome] {
        try database.write { db in try events.map { try Self.record($0, policy: policy, db: db, now: now) } }
    }

    /// Every event recorded for an address, oldest first.
    public func bounceEvents(for address: EmailAddress) throws -> [BounceEvent] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bounceEvent WHERE email = ? ORDER BY at, id", arguments: [address])
                .compactMap(Self.event)
        }
    }

    /// Every event recorded against the runs named, oldest first.
    public func bounceEvents(runs: [String]) throws -> [BounceEvent] {
        guard !runs.isEmpty else { return [] }
        let marks = runs.map { _ in "?" }.joined(separator: ", ")
        return try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM bounceEvent WHERE run IN (\(marks)) ORDER BY at, id",
                arguments: StatementArguments(runs)
            ).compactMap(Self.event)
        }
    }

    /// Why readers of `status` are off the list: the event that put each one there (the latest hard bounce,
    /// soft bounce or complaint), or for a refusal at RCPT the ledger's reply. Keyed by address.
    public func offListReasons(status: Subscriber.Status) throws -> [EmailAddress: String] {
        try database.read { db in
            var reasons: [EmailAddress: String] = [:]
            let events = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.* FROM bounceEvent e JOIN subscriber s ON s.id = e.subscriberId
                    WHERE s.status = ? AND e.kind IN ('hard', 'soft', 'complaint') ORDER BY e.at, e.id
                    """, arguments: [status.rawValue])
            for row in events {
                guard let event = Self.event(row) else { continue }
                reasons[event.address] = Self.describe(event)
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT s.email AS email, d.replyCode AS replyCode, d.reply AS reply, d.run AS run
                    FROM subscriber s JOIN delivery d ON d.subscriberId = s.id
                    WHERE s.status = ? AND d.state = 'failed' AND d.replyCode IS NOT NULL ORDER BY d.updatedAt
                    """, arguments: [status.rawValue])
            {
                guard let address = EmailAddress(row["email"] as String), reasons[address] == nil else { continue }
                let code: Int? = row["replyCode"]
                let reply: String = row["reply"] ?? ""
                guard Store.isHardBounce(replyCode: code, reply: reply) else { continue }
                reasons[address] = "refused at RCPT in run \(row["run"] as String): \(reply)"
            }
            return reasons
        }
    }

    /// Counts of one edition's runs: readers with a hard bounce, with a soft one, and who complained,
    /// from the reports (each reader once per kind).
    func reportedBounces(runs: [String], db: Database) throws -> (hard: Int, soft: Int, complaints: Int) {
        guard !runs.isEmpty else { return (0, 0, 0) }
        let marks = runs.map { _ in "?" }.joined(separator: ", ")
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT kind, COUNT(DISTINCT email) AS n FROM bounceEvent WHERE run IN (\(marks)) GROUP BY kind",
            arguments: StatementArguments(runs))
        {
            counts[row["kind"]] = row["n"]
        }
        return (counts["hard"] ?? 0, counts["soft"] ?? 0, counts["complaint"] ?? 0)
    }

    static func record(_ event: BounceEvent, policy: BouncePolicy, db: Database, now: Date) throws -> BounceOutcome {
        let reader =
            try Row.fetchOne(
                db, sql: "SELECT id, status FROM subscriber WHERE email = ?", arguments: [event.address])
            ?? Row.fetchOne(
                db, sql: "SELECT id, status FROM subscriber WHERE email = ? COLLATE NOCASE LIMIT 1",
                arguments: [event.address])
        let id: Int64? = reader?["id"]
        var run = event.run
        if run.isEmpty, let id {
            // No VERP token: the report is about the latest run that mailed this reader before it arrived.
            run =
                try String.fetchOne(
                    db,
                    sql: """
                        SELECT run FROM delivery WHERE subscriberId = ? AND state = 'sent' AND updatedAt <= ?
                        AND run NOT LIKE '%+dry-run%' ORDER BY updatedAt DESC LIMIT 1
                        """, arguments: [id, event.at]) ?? ""
        }
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO bounceEvent
                    (reportKey, email, subscriberId, run, kind, status, replyCode, diagnostic, reason, source, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.reportKey, event.address, id, run, event.kind.rawValue, event.status, event.replyCode,
                event.diagnostic, event.reason, event.source, event.at,
            ])
        guard db.changesCount > 0 else { return .duplicate }
        guard let id, let status = (reader?["status"] as String?).flatMap(Subscriber.Status.init) else {
            return try recordForStranger(event, db: db, now: now)
        }
        let (outcome, newStatus) = try policy.apply(event.kind, to: status) {
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(DISTINCT reportKey) FROM bounceEvent
                    WHERE subscriberId = ? AND kind = 'soft' AND at >= ?
                    """, arguments: [id, policy.softWindowStart(now: now)]) ?? 0
        }
        if let newStatus {
            try db.execute(
                sql: "UPDATE subscriber SET status = ?, updatedAt = ? WHERE id = ?",
                arguments: [newStatus.rawValue, now, id])
        }
        return outcome
    }

    /// A report about an address not on the list: most often a sign-up's confirmation. A complaint puts the
    /// address on the list as `complained`, so no form, import or confirmation can ever mail it again; a hard
    /// bounce drops its pending sign-up (the address is dead, nobody will confirm).
    private static func recordForStranger(_ event: BounceEvent, db: Database, now: Date) throws -> BounceOutcome {
        switch event.kind {
        case .complaint:
            try db.execute(sql: "DELETE FROM signup WHERE email = ?", arguments: [event.address])
            try db.execute(
                sql: """
                    INSERT INTO subscriber (email, name, status, joinedAt, source, attributes, updatedAt)
                    VALUES (?, '', 'complained', ?, 'complaint', '{}', ?)
                    """, arguments: [event.address, now, now])
            try db.execute(
                sql: "UPDATE bounceEvent SET subscriberId = ? WHERE reportKey = ? AND email = ?",
                arguments: [db.lastInsertedRowID, event.reportKey, event.address])
            return .complained
        case .hard:
            try db.execute(sql: "DELETE FROM signup WHERE email = ?", arguments: [event.address])
            return .unknownReader
        case .soft, .none:
            return .unknownReader
        }
    }

    private static func event(_ row: Row) -> BounceEvent? {
        guard let address = EmailAddress(row["email"] as String), let kind = BounceEvent.Kind(rawValue: row["kind"])
        else { return nil }
        return BounceEvent(
            reportKey: row["reportKey"], address: address, run: row["run"], kind: kind, status: row["status"],
            replyCode: row["replyCode"], diagnostic: row["diagnostic"], reason: row["reason"], source: row["source"],
            at: row["at"])
    }

    /// One line: "hard bounce 5.1.1 mailbox-unknown (imap, 2026-11-30): 550 5.1.1 No such user".
    static func describe(_ event: BounceEvent) -> String {
        let what =
            switch event.kind {
            case .hard: "hard bounce"
            case .soft: "soft bounce"
            case .complaint: "complaint"
            case .none: "refusal of the message"
            }
        let code = [event.status, event.reason].filter { !$0.isEmpty }.joined(separator: " ")
        let day = ISO8601DateFormatter.string(
            from: event.at, timeZone: TimeZone(identifier: "UTC") ?? .current,
            formatOptions: [.withFullDate])
        var line = "\(what)\(code.isEmpty ? "" : " \(code)") (\(event.source), \(day))"
        let diagnostic = event.diagnostic.split(whereSeparator: \.isNewline).joined(separator: " ")
        if !diagnostic.isEmpty { line += ": " + String(diagnostic.prefix(160)) }
        return line
    }
}
