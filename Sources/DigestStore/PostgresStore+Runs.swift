import DigestCore
import DigestMail
import Foundation

extension PostgresStore {
    /// A PostgreSQL array literal of texts, for `= ANY($n::text[])`.
    static func textArray(_ values: [String]) -> String {
        arrayLiteral(values)
    }

    /// A PostgreSQL array literal, every element quoted (NULL for nil), for `$n::TYPE[]` and `unnest`.
    static func arrayLiteral(_ values: [(any PGParameter)?]) -> String {
        var text = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            guard let value else {
                text += "NULL"
                continue
            }
            text += "\""
            for character in value.pgText.unicodeScalars {
                if character == "\"" || character == "\\" { text += "\\" }
                text.unicodeScalars.append(character)
            }
            text += "\""
        }
        return text + "}"
    }

    // MARK: Runs

    public func startRun(_ run: String, resendInDoubt: Bool, now: Date, plan: Store.RunPlan) throws -> Store.RunStart {
        let own = currentSession()
        return try pool.transaction { connection in
            // Two senders starting one run at once: one records its recipients, the other finds them.
            try connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", ["run:" + run])
            let exists = try connection.query("SELECT 1 FROM run WHERE name = $1", [run]).count > 0
            if !exists {
                try connection.query(
                    "INSERT INTO run (name, startedAt, recipients, date, relay) VALUES ($1, $2, 0, $3, $4)",
                    [run, now, plan.date, plan.relay])
                let earlier = Self.textArray(plan.supersedes)
                // A reader an earlier run of the edition sent to, or may have, never gets a second copy.
                let exclusion =
                    plan.supersedes.isEmpty
                    ? ""
                    : " AND id NOT IN (SELECT subscriberId FROM delivery WHERE run = ANY($3::text[])"
                        + " AND state IN ('sent', 'sending', 'doubt'))"
                try connection.query(
                    """
                    INSERT INTO delivery (run, subscriberId, email, name, state, updatedAt)
                    SELECT $1, id, email, name, 'pending', $2 FROM subscriber WHERE status = 'active'
                    """ + exclusion + " ORDER BY id",
                    plan.supersedes.isEmpty ? [run, now] : [run, now, earlier])
                if !plan.supersedes.isEmpty {
                    try connection.query(
                        """
                        UPDATE delivery SET state = 'superseded', updatedAt = $1 WHERE run = ANY($2::text[])
                        AND state IN ('pending', 'deferred')
                        """, [now, earlier])
                }
                try connection.query(
                    "UPDATE run SET recipients = (SELECT COUNT(*) FROM delivery WHERE run = $1) WHERE name = $1", [run])
                // The planner's figures for the tables the ledger's statements join, current now that the run's
                // rows are in: a list's first run otherwise finds statistics of an empty table and gets plans
                // that scan the whole table at every commit. (Skipped with a warning, not an error, for a user
                // who does not own the tables.)
                try connection.query("ANALYZE delivery, subscriber")
                if let frozen = plan.freeze {
                    try Self.freeze(frozen, name: run, kind: plan.kind, connection: connection, now: now)
                }
            }
            try connection.query("UPDATE run SET lastSessionAt = $1 WHERE name = $2", [now, run])
            // In flight when their sender died: in doubt. Another live sender's messages are its own.
            try connection.query(
                """
                UPDATE delivery d SET state = 'doubt', updatedAt = $1 WHERE run = $2 AND state = 'sending'
                AND (claimedBy IS NULL OR claimedBy = $3 OR NOT EXISTS (
                    SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                    AND l.classid = $4::bigint::oid AND l.objid = d.claimedBy::oid
                    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))
                """, [now, run, Int64(own ?? -1), Int64(Self.sessionLockClass)])
            let doubt = try connection.query(
                "SELECT \(Self.deliveryColumns) FROM delivery WHERE run = $1 AND state = 'doubt' ORDER BY subscriberId",
                [run]
            ).rows.map(Self.delivery)
            if resendInDoubt {
                try connection.query(
                    "UPDATE delivery SET state = 'pending', updatedAt = $1 WHERE run = $2 AND state = 'doubt'",
                    [now, run])
            }
            // Each run gets its own attempts at what earlier runs deferred.
            try connection.query(
                "UPDATE delivery SET runAttempts = 0, nextAttemptAt = NULL WHERE run = $1 AND state = 'deferred'",
                [run])
            let recipients =
                try connection.query("SELECT recipients FROM run WHERE name = $1", [run]).rows.first?.int("recipients")
                ?? 0
            return Store.RunStart(
                isNew: !exists, recipients: recipients, inDoubt: resendInDoubt ? [] : doubt,
                frozen: try Self.frozen(name: run, connection: connection))
        }
    }

    public func deliveries(_ run: String, state: Delivery.State, limit: Int) throws -> [Delivery] {
        try pool.with { connection in
            try connection.query(
                """
                SELECT \(Self.deliveryColumns) FROM delivery WHERE run = $1 AND state = $2
                ORDER BY subscriberId LIMIT $3
                """, [run, state.rawValue, limit]
            ).rows.map(Self.delivery)
        }
    }

    public func deliveryCounts(_ run: String) throws -> [Delivery.State: Int] {
        try pool.with { try Self.stateCounts($0, run: run) }
    }

    public func noteSessionEnd(_ run: String, finished: Bool, now: Date) throws {
        try pool.with { connection in
            _ = try connection.query(
                """
                UPDATE run SET lastSessionAt = $1::timestamptz,
                    finishedAt = CASE WHEN $2::boolean THEN COALESCE(finishedAt, $1::timestamptz) END
                WHERE name = $3
                """, [now, finished, run])
        }
    }

    public func runs(date: String?) throws -> [Store.RunSummary] {
        try pool.with { connection in
            let rows = try connection.query(
                """
                SELECT r.name, r.date, r.startedAt, r.lastSessionAt, r.finishedAt, r.relay, r.recipients, f.subject
                FROM run r LEFT JOIN frozenEdition f ON f.name = r.name
                WHERE $1::text IS NULL OR r.date = $1 OR r.name = $1 OR r.name LIKE $2 ORDER BY r.startedAt, r.name
                """, [date, date.map { $0 + "+%" } ?? ""]
            ).rows
            return try rows.map { row in
                Store.RunSummary(
                    name: row.string("name"), date: row["date"], startedAt: row.date("startedAt"),
                    lastSessionAt: row.optionalDate("lastSessionAt"), finishedAt: row.optionalDate("finishedAt"),
                    relay: row["relay"], recipients: row.int("recipients"), subject: row["subject"],
                    counts: try Self.stateCounts(connection, run: row.string("name")))
            }
        }
    }

    // MARK: The bulk sender's ledger

    public func ledgerPending(run: String, after cursor: Int64, limit: Int) throws -> [(Delivery, String)] {
        try pool.with { connection in
            try connection.query(
                """
                SELECT d.run, d.subscriberId, d.email, d.name, d.state, d.attempts, d.runAttempts, d.replyCode, d.reply,
                    d.messageId, d.nextAttemptAt, d.updatedAt, s.status AS subscriberStatus
                FROM delivery d JOIN subscriber s ON s.id = d.subscriberId
                WHERE d.run = $1 AND d.state = 'pending' AND d.subscriberId > $2 ORDER BY d.subscriberId LIMIT $3
                """, [run, cursor, limit]
            ).rows.map { (try Self.delivery($0), $0.string("subscriberStatus")) }
        }
    }

    public func ledgerLastPending(run: String) throws -> Int64? {
        try pool.with { connection in
            try connection.query(
                "SELECT MAX(subscriberId) AS last FROM delivery WHERE run = $1 AND state = 'pending'", [run]
            ).rows.first?["last"].flatMap { Int64($0) }
        }
    }

    public func ledgerDeferred(run: String, maxRunAttempts: Int, now: Date, limit: Int) throws -> [Delivery] {
        try pool.with { connection in
            try connection.query(
                """
                SELECT \(Self.deliveryColumns) FROM delivery WHERE run = $1 AND state = 'deferred' AND runAttempts < $2
                    AND (nextAttemptAt IS NULL OR nextAttemptAt <= $3)
                ORDER BY subscriberId LIMIT $4
                """, [run, maxRunAttempts, now, limit]
            ).rows.map(Self.delivery)
        }
    }

    public func ledgerNextAttempt(run: String, maxRunAttempts: Int) throws -> Date? {
        try pool.with { connection in
            try connection.query(
                """
                SELECT MIN(nextAttemptAt) AS next FROM delivery WHERE run = $1 AND state = 'deferred'
                AND runAttempts < $2
                """, [run, maxRunAttempts]
            ).rows.first?.optionalDate("next")
        }
    }

    public func ledgerWrite(_ body: (any LedgerTransaction) throws -> Void) throws {
        let session = try sendingSession()
        try pool.transaction { connection in
            try body(PGLedgerTransaction(connection: connection, session: Int64(session)))
        }
    }

    /// The group commit in one round trip and one statement, however many steps it holds: every claim, reply,
    /// failure, release and skip travels as arrays (`unnest`) into one statement of data-modifying `WITH`
    /// clauses, prepared once per connection, its own transaction. The server parses and plans nothing per
    /// commit, and a commit costs one statement's work and one WAL flush.
    ///
    /// A step conditional on a claim of the same commit (a message that could not be built or whose connection
    /// failed, given back before its claim was committed) must see that claim: such a commit runs as `BEGIN`,
    /// the claims, the other steps, `COMMIT`, still in one round trip, and the conditional step applies only
    /// to a row this session then holds in `sending`. A claim also marks its row `left` when the reader left.
    public func ledgerCommit(_ steps: [LedgerStep], now: Date) throws -> [Bool] {
        var claims = LedgerArrays(columns: 4)
        var claimKeys: [ClaimKey] = []
        var writes = LedgerArrays(columns: 14)
        var conditional = false
        for step in steps {
            switch step {
            case .claim(let delivery):
                claims.append([delivery.run, delivery.subscriberId, delivery.state.rawValue, delivery.runAttempts])
                claimKeys.append(ClaimKey(run: delivery.run, subscriberId: delivery.subscriberId))
            case .record(let delivery, let outcome, let messageID, let retryAt, let condition):
                let state = Store.deliveryState(outcome)
                conditional = conditional || condition != nil
                writes.append([
                    delivery.run, delivery.subscriberId, state.rawValue, outcome.reply, condition != nil, nil, nil,
                    true, delivery.attempts + 1, delivery.runAttempts + 1, outcome.replyCode, messageID,
                    state == .deferred ? retryAt : nil, outcome.isHardBounce,
                ])
            case .fail(let delivery, let reason, let condition):
                conditional = conditional || condition != nil
                writes.append(
                    [delivery.run, delivery.subscriberId, "failed", reason, condition != nil]
                        + [nil, nil, false, nil, nil, nil, nil, nil, false])
            case .release(let delivery, let condition):
                conditional = conditional || condition != nil
                let state: Delivery.State = delivery.runAttempts > 0 || delivery.attempts > 0 ? .deferred : .pending
                writes.append(
                    [delivery.run, delivery.subscriberId, state.rawValue, nil, condition != nil]
                        + [nil, nil, false, nil, nil, nil, nil, nil, false])
            case .skip(let delivery, let reason):
                writes.append(
                    [delivery.run, delivery.subscriberId, "left", reason, false]
                        + [delivery.state.rawValue, delivery.runAttempts, false, nil, nil, nil, nil, nil, false])
            case .nothing:
                break
            }
        }
        if claims.isEmpty && writes.isEmpty { return [] }
        return try onSendingSession { session, connection in
            let fixed: [(any PGParameter)?] = [now, session]
            // One statement: the pipeline's own transaction. Steps that depend on a claim of the same commit:
            // two statements in one transaction, so the second sees the first's claims.
            let statements: [(String, [(any PGParameter)?])]
            let claimResult: Int
            if conditional && !claims.isEmpty {
                statements = [
                    ("BEGIN", []), (Self.ledgerSQL(claims: true, writes: false), fixed + claims.parameters),
                    (Self.ledgerSQL(claims: false, writes: true), fixed + writes.parameters), ("COMMIT", []),
                ]
                claimResult = 1
            } else {
                statements = [
                    (
                        Self.ledgerSQL(claims: !claims.isEmpty, writes: !writes.isEmpty),
                        fixed + (claims.isEmpty ? [] : claims.parameters) + (writes.isEmpty ? [] : writes.parameters)
                    )
                ]
                claimResult = 0
            }
            do {
                let results = try connection.pipeline(statements)
                guard !claims.isEmpty else { return [] }
                var claimed = Set<ClaimKey>()
                for row in results[claimResult].rows {
                    claimed.insert(ClaimKey(run: row.string("run"), subscriberId: row.int64("subscriberId")))
                }
                return claimKeys.map(claimed.contains)
            } catch {
                if statements.count > 1 && connection.isUsable { _ = try? connection.query("ROLLBACK") }
                throw error
            }
        }
    }

    private struct ClaimKey: Hashable {
        var run: String
        var subscriberId: Int64
    }

    /// The group commit's statement: claims, other steps or both. `$1` is now, `$2` the session, then the
    /// claims' arrays (when there are claims), then the other steps' arrays. Returns the rows claimed.
    static func ledgerSQL(claims: Bool, writes: Bool) -> String {
        var clauses: [String] = []
        if claims { clauses.append(claimClauses) }
        if writes { clauses.append(writeClauses(first: claims ? 7 : 3)) }
        return "WITH " + clauses.joined(separator: ",\n")
            + (claims ? "\nSELECT run, subscriberId FROM claimed" : "\nSELECT 1 AS written WHERE false")
    }

    /// The claims, from `$3` on: the rows' run, reader, state and attempts. A row is taken as `sending` when its
    /// reader is active and it is as it was read; a row another sender is claiming right now is skipped, not
    /// waited for; a row whose reader left is marked `left`.
    static let claimClauses = """
        claimStep AS (
            SELECT * FROM unnest($3::text[], $4::bigint[], $5::text[], $6::int[])
                AS s(run, subscriberId, state, runAttempts)),
        reader AS (
            SELECT c.*, COALESCE(r.status, 'removed') AS status
            FROM claimStep c LEFT JOIN subscriber r ON r.id = c.subscriberId),
        target AS (
            SELECT d.run, d.subscriberId FROM delivery d JOIN reader s
                ON d.run = s.run AND d.subscriberId = s.subscriberId AND d.state = s.state
                AND d.runAttempts = s.runAttempts
            WHERE s.status = 'active'
            ORDER BY d.run, d.subscriberId
            FOR UPDATE OF d SKIP LOCKED),
        claimed AS (
            UPDATE delivery d SET state = 'sending', updatedAt = $1, claimedBy = $2
            FROM target t WHERE d.run = t.run AND d.subscriberId = t.subscriberId
            RETURNING d.run, d.subscriberId),
        gone AS (
            UPDATE delivery d SET state = 'left', updatedAt = $1,
                reply = 'left during the run: the subscriber is ' || s.status || ' now'
            FROM reader s WHERE d.run = s.run AND d.subscriberId = s.subscriberId AND d.state = s.state
            AND d.runAttempts = s.runAttempts AND s.status <> 'active')
        """

    /// Every other step, its arrays from `$first` on: a row's new state and reply; whether it applies only to a
    /// row this session holds in `sending`; the state and attempts it must still have (a skip); and for a
    /// server's answer, the attempts, reply code, Message-ID, next attempt and whether it was a hard bounce,
    /// which marks an active reader `bounced`.
    static func writeClauses(first: Int) -> String {
        let p = (0..<14).map { "$\(first + $0)" }
        return """
            writeStep AS (
                SELECT * FROM unnest(\(p[0])::text[], \(p[1])::bigint[], \(p[2])::text[], \(p[3])::text[],
                    \(p[4])::boolean[], \(p[5])::text[], \(p[6])::int[], \(p[7])::boolean[], \(p[8])::int[],
                    \(p[9])::int[], \(p[10])::int[], \(p[11])::text[], \(p[12])::timestamptz[], \(p[13])::boolean[])
                    AS s(run, subscriberId, state, reply, onlyIfClaimed, wasState, wasRunAttempts, isReply, attempts,
                        runAttempts, replyCode, messageId, nextAttemptAt, hardBounce)),
            written AS (
                UPDATE delivery d SET state = s.state, reply = COALESCE(s.reply, d.reply), updatedAt = $1,
                    attempts = CASE WHEN s.isReply THEN s.attempts ELSE d.attempts END,
                    runAttempts = CASE WHEN s.isReply THEN s.runAttempts ELSE d.runAttempts END,
                    replyCode = CASE WHEN s.isReply THEN s.replyCode ELSE d.replyCode END,
                    messageId = CASE WHEN s.isReply THEN s.messageId ELSE d.messageId END,
                    nextAttemptAt = CASE WHEN s.isReply THEN s.nextAttemptAt ELSE d.nextAttemptAt END
                FROM writeStep s WHERE d.run = s.run AND d.subscriberId = s.subscriberId
                AND (NOT s.onlyIfClaimed OR (d.state = 'sending' AND d.claimedBy = $2))
                AND (s.wasState IS NULL OR (d.state = s.wasState AND d.runAttempts = s.wasRunAttempts))
                RETURNING d.subscriberId, s.hardBounce),
            bounced AS (
                UPDATE subscriber SET status = 'bounced', updatedAt = $1
                WHERE status = 'active' AND id IN (SELECT subscriberId FROM written WHERE hardBounce))
            """
    }

    // MARK: Frozen editions and the archive

    static func freeze(
        _ frozen: FrozenEdition, name: String, kind: FrozenEdition.Kind, connection: PGConnection, now: Date
    ) throws {
        let json = String(decoding: try JSONEncoder().encode(frozen), as: UTF8.self)
        try connection.query(
            """
            INSERT INTO frozenEdition (name, date, kind, subject, rendering, frozenAt) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (name) DO UPDATE SET subject = excluded.subject, rendering = excluded.rendering,
                frozenAt = excluded.frozenAt
            """, [name, frozen.date, kind.rawValue, frozen.archive.subject, json, now])
    }

    static func frozen(name: String, connection: PGConnection) throws -> FrozenEdition? {
        guard
            let json = try connection.query("SELECT rendering FROM frozenEdition WHERE name = $1", [name]).rows.first?[
                "rendering"]
        else { return nil }
        return try JSONDecoder().decode(FrozenEdition.self, from: Data(json.utf8))
    }

    public func publish(_ frozen: FrozenEdition, now: Date) throws {
        try pool.transaction { connection in
            try Self.freeze(
                frozen, name: frozen.date + "+published", kind: .published, connection: connection, now: now)
        }
    }

    public func archivedEditions() throws -> [Store.ArchivedEdition] {
        try pool.with { connection in
            try connection.query(
                """
                SELECT date, subject, rendering, frozenAt FROM frozenEdition f WHERE kind IN ('run', 'published')
                AND name = (SELECT name FROM frozenEdition g WHERE g.date = f.date AND g.kind IN ('run', 'published')
                            ORDER BY frozenAt DESC, name DESC LIMIT 1)
                ORDER BY date DESC
                """
            ).rows.map { row in
                let rendering = try JSONDecoder().decode(FrozenEdition.self, from: Data(row.string("rendering").utf8))
                return Store.ArchivedEdition(
                    date: row.string("date"), subject: row.string("subject"), preheader: rendering.archive.preheader,
                    frozenAt: row.date("frozenAt"))
            }
        }
    }

    public func archivedEdition(date: String) throws -> FrozenEdition? {
        try pool.with { connection in
            guard
                let name = try connection.query(
                    """
                    SELECT name FROM frozenEdition WHERE date = $1 AND kind IN ('run', 'published')
                    ORDER BY frozenAt DESC, name DESC LIMIT 1
                    """, [date]
                ).rows.first?["name"]
            else { return nil }
            return try Self.frozen(name: name, connection: connection)
        }
    }

    public func frozenRuns(date: String) throws -> [FrozenEdition] {
        try pool.with { connection in
            try connection.query(
                "SELECT rendering FROM frozenEdition WHERE date = $1 AND kind = 'run' ORDER BY frozenAt DESC", [date]
            ).rows.map { try JSONDecoder().decode(FrozenEdition.self, from: Data($0.string("rendering").utf8)) }
        }
    }

    // MARK: Clicks

    public func record(clicks: [Store.Click]) async throws {
        var counting: [Store.Click: Int] = [:]
        for click in clicks { counting[click, default: 0] += 1 }
        // In key order, so two servers' batches take their row locks in the same order.
        let grouped = counting.sorted { ($0.key.date, $0.key.story) < ($1.key.date, $1.key.story) }
            .map { ($0.key, $0.value) }
        try await offThePool { [pool] in
            try pool.transaction { connection in
                for (click, count) in grouped {
                    try connection.query(
                        """
                        INSERT INTO storyClick (date, story, human, scanner) VALUES ($1, $2, $3, $4)
                        ON CONFLICT (date, story) DO UPDATE SET human = storyClick.human + excluded.human,
                            scanner = storyClick.scanner + excluded.scanner
                        """, [click.date, click.story, click.scanner ? 0 : count, click.scanner ? count : 0])
                }
            }
        }
    }

    public func clicks(date: String) throws -> [Int: (human: Int, scanner: Int)] {
        try pool.with { connection in
            var counts: [Int: (human: Int, scanner: Int)] = [:]
            for row in try connection.query("SELECT story, human, scanner FROM storyClick WHERE date = $1", [date]).rows
            {
                counts[row.int("story")] = (row.int("human"), row.int("scanner"))
            }
            return counts
        }
    }

    // MARK: Figures

    public func editionFigures(date: String) throws -> Store.EditionFigures {
        try pool.transaction("REPEATABLE READ") { connection in
            let runs = try connection.query(
                """
                SELECT name, startedAt FROM run WHERE (date = $1 OR name = $1 OR name LIKE $2) AND name NOT LIKE $3
                ORDER BY startedAt
                """, [date, date + "#%", "%+dry-run%"]
            ).rows
            let names = runs.map { $0.string("name") }
            let sentAt = runs.first?.optionalDate("startedAt")
            var counts: [Delivery.State: Int] = [:]
            var hard = 0
            for name in names {
                for (state, count) in try Self.stateCounts(connection, run: name) { counts[state, default: 0] += count }
                for row in try connection.query(
                    "SELECT replyCode, reply FROM delivery WHERE run = $1 AND state = 'failed'", [name]
                ).rows where Store.isHardBounce(replyCode: row.optionalInt("replyCode"), reply: row["reply"] ?? "") {
                    hard += 1
                }
            }
            var unsubscribes = 0
            if let sentAt {
                let next = try connection.query(
                    "SELECT MIN(startedAt) AS next FROM run WHERE startedAt > $1 AND name NOT LIKE $2 AND name NOT LIKE $3",
                    [sentAt, date + "%", "%+dry-run%"]
                ).rows.first?.optionalDate("next")
                unsubscribes =
                    try connection.query(
                        """
                        SELECT COUNT(DISTINCT s.id) AS n FROM subscriber s JOIN delivery d ON d.subscriberId = s.id
                        WHERE d.run = ANY($1::text[]) AND d.state = 'sent' AND s.status = 'unsubscribed'
                        AND s.updatedAt >= $2 AND ($3::timestamptz IS NULL OR s.updatedAt < $3)
                        """, [Self.textArray(names), sentAt, next]
                    ).rows.first?.int("n") ?? 0
            }
            let reported = try Self.reportedBounces(runs: names, connection: connection)
            return Store.EditionFigures(
                date: date, runs: names, counts: counts, hardBounces: hard, softBounces: counts[.deferred] ?? 0,
                reportedHard: reported.hard, reportedSoft: reported.soft, complaints: reported.complaints,
                unsubscribes: unsubscribes, sentAt: sentAt)
        }
    }

    public func growth(days: [(date: String, start: Date, end: Date)]) throws -> [Store.DayGrowth] {
        try pool.with { connection in
            try days.map { day in
                func count(_ sql: String) throws -> Int {
                    try connection.query(sql, [day.start, day.end]).rows.first?.int("n") ?? 0
                }
                return Store.DayGrowth(
                    date: day.date,
                    joined: try count("SELECT COUNT(*) AS n FROM subscriber WHERE joinedAt >= $1 AND joinedAt < $2"),
                    left: try count(
                        """
                        SELECT COUNT(*) AS n FROM subscriber WHERE status = 'unsubscribed'
                        AND updatedAt >= $1 AND updatedAt < $2
                        """),
                    bounced: try count(
                        "SELECT COUNT(*) AS n FROM subscriber WHERE status = 'bounced' AND updatedAt >= $1 AND updatedAt < $2"
                    ))
            }
        }
    }
}

/// The columns of a group commit's steps, gathered row by row and sent as one array per column.
struct LedgerArrays {
    private var columns: [[(any PGParameter)?]]

    init(columns: Int) {
        self.columns = Array(repeating: [], count: columns)
    }

    var isEmpty: Bool { columns[0].isEmpty }

    mutating func append(_ row: [(any PGParameter)?]) {
        precondition(row.count == columns.count, "a ledger step has one value per column")
        for (index, value) in row.enumerated() { columns[index].append(value) }
    }

    var parameters: [(any PGParameter)?] { columns.map { PostgresStore.arrayLiteral($0) } }
}

/// The ledger's writes inside one group transaction on PostgreSQL. A claim names the sending session.
struct PGLedgerTransaction: LedgerTransaction {
    let connection: PGConnection
    let session: Int64

    /// A claim: the reader's status, and the row taken as `sending` when they are active and it is as it was
    /// read. A row another sender is claiming right now is skipped, not waited for.
    static let claimSQL = """
        WITH reader AS (SELECT status FROM subscriber WHERE id = $4),
        target AS (
            SELECT d.run, d.subscriberId FROM delivery d
            WHERE d.run = $3 AND d.subscriberId = $4 AND d.state = $5 AND d.runAttempts = $6
            AND (SELECT status FROM reader) = 'active'
            FOR UPDATE OF d SKIP LOCKED),
        claimed AS (
            UPDATE delivery d SET state = 'sending', updatedAt = $1, claimedBy = $2
            FROM target t WHERE d.run = t.run AND d.subscriberId = t.subscriberId RETURNING 1)
        """

    func claim(_ delivery: Delivery, now: Date) throws -> Bool {
        let row = try connection.query(
            Self.claimSQL + "\nSELECT (SELECT status FROM reader) AS status, (SELECT COUNT(*) FROM claimed) AS claimed",
            [now, session, delivery.run, delivery.subscriberId, delivery.state.rawValue, delivery.runAttempts]
        ).rows.first
        if row?.int("claimed") == 1 { return true }
        let status = row?["status"]
        if status != Subscriber.Status.active.rawValue {
            try skip(delivery, reason: Store.notSent(subscriberStatus: status ?? "removed"), now: now)
        }
        return false
    }

    func skip(_ delivery: Delivery, reason: String, now: Date) throws {
        try connection.query(
            """
            UPDATE delivery SET state = 'left', reply = $1, updatedAt = $2
            WHERE run = $3 AND subscriberId = $4 AND state = $5 AND runAttempts = $6
            """,
            [reason, now, delivery.run, delivery.subscriberId, delivery.state.rawValue, delivery.runAttempts])
    }

    func record(_ delivery: Delivery, outcome: DeliveryOutcome, messageID: String, retryAt: Date?, now: Date) throws {
        let state = Store.deliveryState(outcome)
        try connection.query(
            """
            UPDATE delivery SET state = $1, attempts = $2, runAttempts = $3, replyCode = $4, reply = $5, messageId = $6,
                nextAttemptAt = $7, updatedAt = $8
            WHERE run = $9 AND subscriberId = $10
            """,
            [
                state.rawValue, delivery.attempts + 1, delivery.runAttempts + 1, outcome.replyCode, outcome.reply,
                messageID, state == .deferred ? retryAt : nil, now, delivery.run, delivery.subscriberId,
            ])
        if outcome.isHardBounce {
            try connection.query(
                "UPDATE subscriber SET status = 'bounced', updatedAt = $1 WHERE id = $2 AND status = 'active'",
                [now, delivery.subscriberId])
        }
    }

    func fail(_ delivery: Delivery, reason: String, now: Date) throws {
        try connection.query(
            "UPDATE delivery SET state = 'failed', reply = $1, updatedAt = $2 WHERE run = $3 AND subscriberId = $4",
            [reason, now, delivery.run, delivery.subscriberId])
    }

    func release(_ delivery: Delivery, now: Date) throws {
        let state: Delivery.State = delivery.runAttempts > 0 || delivery.attempts > 0 ? .deferred : .pending
        try connection.query(
            "UPDATE delivery SET state = $1, updatedAt = $2 WHERE run = $3 AND subscriberId = $4",
            [state.rawValue, now, delivery.run, delivery.subscriberId])
    }
}
