import DigestCore
import Foundation

extension PostgresStore {
    public func recordMailboxMessage(
        mailbox: String, messageID: String, events: [BounceEvent], policy: BouncePolicy, now: Date
    ) throws -> [BounceOutcome]? {
        try pool.transaction { connection in
            let marked = try connection.query(
                """
                INSERT INTO mailboxMessage (mailbox, messageId, processedAt) VALUES ($1, $2, $3)
                ON CONFLICT (mailbox, messageId) DO NOTHING
                """, [mailbox, messageID, now])
            guard marked.affected > 0 else { return nil }
            return try events.map { try Self.record($0, policy: policy, connection: connection, now: now) }
        }
    }

    public func processedMailboxMessages(mailbox: String) throws -> Set<String> {
        try pool.with { connection in
            Set(
                try connection.query("SELECT messageId FROM mailboxMessage WHERE mailbox = $1", [mailbox]).rows.map {
                    $0.string("messageId")
                })
        }
    }

    public func recordBounces(_ events: [BounceEvent], policy: BouncePolicy, now: Date) throws -> [BounceOutcome] {
        try pool.transaction { connection in
            try events.map { try Self.record($0, policy: policy, connection: connection, now: now) }
        }
    }

    static let eventColumns =
        "reportKey, email, run, kind, status, replyCode, diagnostic, reason, source, \"at\""

    public func bounceEvents(for address: EmailAddress) throws -> [BounceEvent] {
        try pool.with { connection in
            try connection.query(
                "SELECT \(Self.eventColumns) FROM bounceEvent WHERE email = $1 ORDER BY \"at\", id", [address]
            ).rows.compactMap(Self.event)
        }
    }

    public func bounceEvents(runs: [String]) throws -> [BounceEvent] {
        guard !runs.isEmpty else { return [] }
        return try pool.with { connection in
            try connection.query(
                "SELECT \(Self.eventColumns) FROM bounceEvent WHERE run = ANY($1::text[]) ORDER BY \"at\", id",
                [Self.textArray(runs)]
            ).rows.compactMap(Self.event)
        }
    }

    public func offListReasons(status: Subscriber.Status) throws -> [EmailAddress: String] {
        try pool.transaction("REPEATABLE READ") { connection in
            var reasons: [EmailAddress: String] = [:]
            for row in try connection.query(
                """
                SELECT e.reportKey, e.email, e.run, e.kind, e.status, e.replyCode, e.diagnostic, e.reason, e.source,
                    e."at"
                FROM bounceEvent e JOIN subscriber s ON s.id = e.subscriberId
                WHERE s.status = $1 AND e.kind IN ('hard', 'soft', 'complaint') ORDER BY e."at", e.id
                """, [status.rawValue]
            ).rows {
                guard let event = Self.event(row) else { continue }
                reasons[event.address] = SQLiteStore.describe(event)
            }
            for row in try connection.query(
                """
                SELECT s.email AS email, d.replyCode AS replyCode, d.reply AS reply, d.run AS run
                FROM subscriber s JOIN delivery d ON d.subscriberId = s.id
                WHERE s.status = $1 AND d.state = 'failed' AND d.replyCode IS NOT NULL ORDER BY d.updatedAt
                """, [status.rawValue]
            ).rows {
                guard let address = EmailAddress(row.string("email")), reasons[address] == nil else { continue }
                let reply = row["reply"] ?? ""
                guard Store.isHardBounce(replyCode: row.optionalInt("replyCode"), reply: reply) else { continue }
                reasons[address] = "refused at RCPT in run \(row.string("run")): \(reply)"
            }
            return reasons
        }
    }

    /// Readers of the runs named with a hard bounce, a soft one, or a complaint in the reports.
    static func reportedBounces(runs: [String], connection: PGConnection) throws -> (
        hard: Int, soft: Int, complaints: Int
    ) {
        guard !runs.isEmpty else { return (0, 0, 0) }
        var counts: [String: Int] = [:]
        for row in try connection.query(
            """
            SELECT kind, COUNT(DISTINCT email) AS n FROM bounceEvent WHERE run = ANY($1::text[]) GROUP BY kind
            """, [textArray(runs)]
        ).rows {
            counts[row.string("kind")] = row.int("n")
        }
        return (counts["hard"] ?? 0, counts["soft"] ?? 0, counts["complaint"] ?? 0)
    }

    static func record(_ event: BounceEvent, policy: BouncePolicy, connection: PGConnection, now: Date) throws
        -> BounceOutcome
    {
        let reader =
            try connection.query("SELECT id, status FROM subscriber WHERE email = $1", [event.address]).rows.first
            ?? connection.query(
                "SELECT id, status FROM subscriber WHERE lower(email) = lower($1) ORDER BY id LIMIT 1",
                [event.address]
            ).rows.first
        let id = reader.map { $0.int64("id") }
        var run = event.run
        if run.isEmpty, let id {
            // No VERP token: the report is about the latest run that mailed this reader before it arrived.
            run =
                try connection.query(
                    """
                    SELECT run FROM delivery WHERE subscriberId = $1 AND state = 'sent' AND updatedAt <= $2
                    AND run NOT LIKE '%+dry-run%' ORDER BY updatedAt DESC LIMIT 1
                    """, [id, event.at]
                ).rows.first?["run"] ?? ""
        }
        let inserted = try connection.query(
            """
            INSERT INTO bounceEvent
                (reportKey, email, subscriberId, run, kind, status, replyCode, diagnostic, reason, source, "at")
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (reportKey, email) DO NOTHING
            """,
            [
                event.reportKey, event.address, id, run, event.kind.rawValue, event.status, event.replyCode,
                event.diagnostic, event.reason, event.source, event.at,
            ])
        guard inserted.affected > 0 else { return .duplicate }
        guard let id, let status = reader.flatMap({ Subscriber.Status(rawValue: $0.string("status")) }) else {
            return try recordForStranger(event, connection: connection, now: now)
        }
        let (outcome, newStatus) = try policy.apply(event.kind, to: status) {
            try connection.query(
                """
                SELECT COUNT(DISTINCT reportKey) AS n FROM bounceEvent
                WHERE subscriberId = $1 AND kind = 'soft' AND "at" >= $2
                """, [id, policy.softWindowStart(now: now)]
            ).rows.first?.int("n") ?? 0
        }
        if let newStatus {
            try connection.query(
                "UPDATE subscriber SET status = $1, updatedAt = $2 WHERE id = $3", [newStatus.rawValue, now, id])
        }
        return outcome
    }

    /// A report about an address not on the list (most often a sign-up's confirmation): a complaint puts it
    /// on the list as `complained`; a hard bounce drops its pending sign-up.
    private static func recordForStranger(_ event: BounceEvent, connection: PGConnection, now: Date) throws
        -> BounceOutcome
    {
        switch event.kind {
        case .complaint:
            try connection.query("DELETE FROM signup WHERE email = $1", [event.address])
            let inserted = try connection.query(
                """
                INSERT INTO subscriber (email, name, status, joinedAt, source, attributes, updatedAt)
                VALUES ($1, '', 'complained', $2, 'complaint', '{}', $2) RETURNING id
                """, [event.address, now])
            if let id = inserted.rows.first?.int64("id") {
                try connection.query(
                    "UPDATE bounceEvent SET subscriberId = $1 WHERE reportKey = $2 AND email = $3",
                    [id, event.reportKey, event.address])
            }
            return .complained
        case .hard:
            try connection.query("DELETE FROM signup WHERE email = $1", [event.address])
            return .unknownReader
        case .soft, .none:
            return .unknownReader
        }
    }

    private static func event(_ row: PGRow) -> BounceEvent? {
        guard let address = EmailAddress(row.string("email")), let kind = BounceEvent.Kind(rawValue: row.string("kind"))
        else { return nil }
        return BounceEvent(
            reportKey: row.string("reportKey"), address: address, run: row.string("run"), kind: kind,
            status: row.string("status"), replyCode: row.string("replyCode"), diagnostic: row.string("diagnostic"),
            reason: row.string("reason"), source: row.string("source"), at: row.date("at"))
    }
}
