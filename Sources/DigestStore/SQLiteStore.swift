import DigestCore
import DigestMail
import Foundation
import GRDB

/// The workspace's SQLite file: the subscriber list and the delivery ledger. WAL mode, `synchronous =
/// FULL`, so a reply recorded is a reply kept, even across a power cut.
public final class SQLiteStore: ListStore {
    public typealias AddResult = Store.AddResult
    public typealias UnsubscribeOutcome = Store.UnsubscribeOutcome
    public typealias ResubscribeOutcome = Store.ResubscribeOutcome
    public typealias RunStart = Store.RunStart
    public typealias RunPlan = Store.RunPlan
    public typealias ArchivedEdition = Store.ArchivedEdition
    public typealias RunSummary = Store.RunSummary
    public typealias Click = Store.Click
    public typealias EditionFigures = Store.EditionFigures
    public typealias DayGrowth = Store.DayGrowth

    let database: DatabasePool
    public let path: String
    public var location: String { path }

    /// Opens (creating and migrating when needed) the store at `path`; with `migrate` false, as it is.
    public init(path: String, migrate: Bool = true) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(10)
        database = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        if migrate { try Self.migrator.migrate(database) }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: subscribers and delivery ledger") { db in
            try db.create(table: "subscriber") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("email", .text).notNull().unique()
                table.column("name", .text).notNull().defaults(to: "")
                table.column("status", .text).notNull().check {
                    ["active", "unsubscribed", "bounced", "complained"].contains($0)
                }
                table.column("joinedAt", .datetime).notNull()
                table.column("source", .text).notNull()
                table.column("attributes", .text).notNull().defaults(to: "{}")
                table.column("updatedAt", .datetime).notNull()
            }
            try db.create(index: "subscriber_status", on: "subscriber", columns: ["status"])
            try db.create(table: "run") { table in
                table.primaryKey("name", .text)
                table.column("startedAt", .datetime).notNull()
                table.column("recipients", .integer).notNull()
            }
            try db.create(table: "delivery") { table in
                table.column("run", .text).notNull().references("run", onDelete: .cascade)
                table.column("subscriberId", .integer).notNull().references("subscriber", onDelete: .cascade)
                table.column("email", .text).notNull()
                table.column("name", .text).notNull()
                table.column("state", .text).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("runAttempts", .integer).notNull().defaults(to: 0)
                table.column("replyCode", .integer)
                table.column("reply", .text)
                table.column("messageId", .text)
                table.column("nextAttemptAt", .datetime)
                table.column("updatedAt", .datetime).notNull()
                table.primaryKey(["run", "subscriberId"])
            }
            try db.create(index: "delivery_state", on: "delivery", columns: ["run", "state", "subscriberId"])
        }
        migrator.registerMigration("v2: frozen editions and run details") { db in
            // What a run sends, rendered once at its first start; and editions published to the archive
            // without a run. The archive serves these bytes, never the files as they are now.
            try db.create(table: "frozenEdition") { table in
                table.primaryKey("name", .text)
                table.column("date", .text).notNull()
                table.column("kind", .text).notNull().check { ["run", "dry-run", "published"].contains($0) }
                table.column("subject", .text).notNull()
                table.column("rendering", .text).notNull()
                table.column("frozenAt", .datetime).notNull()
            }
            try db.create(index: "frozenEdition_date", on: "frozenEdition", columns: ["date"])
            try db.alter(table: "run") { table in
                table.add(column: "date", .text)
                table.add(column: "relay", .text)
                table.add(column: "lastSessionAt", .datetime)
                table.add(column: "finishedAt", .datetime)
            }
        }
        migrator.registerMigration("v3: story clicks") { db in
            // Counts only: which story of which edition, never who.
            try db.create(table: "storyClick") { table in
                table.column("date", .text).notNull()
                table.column("story", .integer).notNull()
                table.column("human", .integer).notNull().defaults(to: 0)
                table.column("scanner", .integer).notNull().defaults(to: 0)
                table.primaryKey(["date", "story"])
            }
        }
        migrator.registerMigration("v4 (issue 15): consent and tags") { db in
            try db.alter(table: "subscriber") { table in
                table.add(column: "confirmedAt", .datetime)
                table.add(column: "service", .text).notNull().defaults(to: "")
                table.add(column: "tags", .text).notNull().defaults(to: "[]")
            }
        }
        migrator.registerMigration("v5 (issue 15): pending sign-ups") { db in
            // A sign-up waiting for its confirmation: not a subscriber, so no run can ever mail it.
            try db.create(table: "signup") { table in
                table.primaryKey("email", .text)
                table.column("name", .text).notNull().defaults(to: "")
                table.column("nonce", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("lastSentAt", .datetime)
                table.column("sends", .integer).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v6 (issue 16): bounces and complaints") { db in
            // Each failed or complained recipient of a report (a DSN, an ARF report, a webhook event), once:
            // (reportKey, email) is unique, so a report read twice is counted once.
            try db.create(table: "bounceEvent") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("reportKey", .text).notNull()
                table.column("email", .text).notNull()
                table.column("subscriberId", .integer).references("subscriber", onDelete: .setNull)
                table.column("run", .text).notNull().defaults(to: "")
                table.column("kind", .text).notNull().check { ["hard", "soft", "complaint", "none"].contains($0) }
                table.column("status", .text).notNull().defaults(to: "")
                table.column("replyCode", .text).notNull().defaults(to: "")
                table.column("diagnostic", .text).notNull().defaults(to: "")
                table.column("reason", .text).notNull().defaults(to: "")
                table.column("source", .text).notNull()
                table.column("at", .datetime).notNull()
                table.uniqueKey(["reportKey", "email"])
            }
            try db.create(index: "bounceEvent_subscriber", on: "bounceEvent", columns: ["subscriberId", "kind", "at"])
            try db.create(index: "bounceEvent_run", on: "bounceEvent", columns: ["run", "kind"])
            // The mailbox messages already read (IMAP: UIDVALIDITY/UID; POP3: the UIDL), marked in the same
            // transaction as their events.
            try db.create(table: "mailboxMessage") { table in
                table.column("mailbox", .text).notNull()
                table.column("messageId", .text).notNull()
                table.column("processedAt", .datetime).notNull()
                table.primaryKey(["mailbox", "messageId"])
            }
        }
        return migrator
    }

    // MARK: Subscribers

    /// Adds an active subscriber, or returns the one that has the address already.
    public func add(_ address: EmailAddress, name: String, source: String, now: Date) throws -> AddResult {
        try database.write { db in
            if let existing = try Subscriber.filter(Column("email") == address.description).fetchOne(db) {
                return .exists(existing)
            }
            var subscriber = Subscriber(
                email: address, name: name, joinedAt: now, source: source, updatedAt: now)
            try subscriber.insert(db)
            return .added(subscriber)
        }
    }

    /// Other addresses on the list that differ from `address` only in case (RFC 5321 makes them two
    /// readers; most mail systems deliver them to one mailbox).
    public func caseVariants(of address: EmailAddress) throws -> [EmailAddress] {
        try database.read { db in
            try String.fetchAll(
                db, sql: "SELECT email FROM subscriber WHERE lower(email) = lower(?) AND email != ? ORDER BY email",
                arguments: [address.description, address.description]
            ).compactMap { EmailAddress($0) }
        }
    }

    public func subscriber(_ address: EmailAddress) throws -> Subscriber? {
        try database.read { db in try Subscriber.filter(Column("email") == address.description).fetchOne(db) }
    }

    /// Sets a subscriber's status; false when there is no such subscriber.
    @discardableResult
    public func setStatus(_ address: EmailAddress, to status: Subscriber.Status, now: Date) throws -> Bool {
        try database.write { db in
            try db.execute(
                sql: "UPDATE subscriber SET status = ?, updatedAt = ? WHERE email = ?",
                arguments: [status.rawValue, now, address.description])
            return db.changesCount > 0
        }
    }

    /// Unsubscribes the active readers among `ids`, all in one transaction, committed (`synchronous = FULL`)
    /// before it returns. Runs on GRDB's writer, so a server's threads wait without blocking; one
    /// transaction for many readers is how the server keeps up with bursts of one-click POSTs.
    public func unsubscribe(ids: [Int64], now: Date) async throws -> [Int64: UnsubscribeOutcome] {
        try await database.write { db in
            var outcomes: [Int64: UnsubscribeOutcome] = [:]
            let update = try db.cachedStatement(
                sql: "UPDATE subscriber SET status = 'unsubscribed', updatedAt = ? WHERE id = ? AND status = 'active'")
            let find = try db.cachedStatement(sql: "SELECT status FROM subscriber WHERE id = ?")
            for id in ids where outcomes[id] == nil {
                try update.execute(arguments: [now, id])
                if db.changesCount > 0 {
                    outcomes[id] = .unsubscribed
                } else if let status = try String.fetchOne(find, arguments: [id]).flatMap(Subscriber.Status.init) {
                    outcomes[id] = .alreadyOff(status)
                } else {
                    outcomes[id] = .unknown
                }
            }
            return outcomes
        }
    }

    /// The subscriber with this id.
    public func subscriber(id: Int64) throws -> Subscriber? {
        try database.read { db in try Subscriber.fetchOne(db, key: id) }
    }

    /// Removes a subscriber and their ledger rows; false when there is no such subscriber.
    public func remove(_ address: EmailAddress) throws -> Bool {
        try database.write { db in try Subscriber.filter(Column("email") == address.description).deleteAll(db) > 0 }
    }

    /// Subscribers in address order, optionally of one status, handed over one at a time.
    public func forEachSubscriber(status: Subscriber.Status?, _ body: (Subscriber) throws -> Void) throws {
        try database.read { db in
            var request = Subscriber.order(Column("email"))
            if let status { request = request.filter(Column("status") == status.rawValue) }
            let cursor = try request.fetchCursor(db)
            while let subscriber = try cursor.next() { try body(subscriber) }
        }
    }

    public func counts() throws -> [Subscriber.Status: Int] {
        try database.read { db in
            var counts: [Subscriber.Status: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM subscriber GROUP BY status") {
                if let status = Subscriber.Status(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Import

    /// Imports parsed rows in one transaction: new addresses are added with the time they joined and
    /// confirmed, their source and tags as the export says; known ones get a name when they had none, a
    /// stricter status when the file says so, and the file's tags and confirmation time added. An import
    /// never makes an unsubscribed, bounced or complained reader active again.
    public func importRows(_ rows: [SubscriberCSV.Row], source: String, service: String, now: Date) throws
        -> ImportCounts
    {
        try database.write { db in
            var counts = ImportCounts()
            // Addresses on the list by their lower-cased form, to say when one differs only in case.
            var folded: [String: String] = [:]
            for email in try String.fetchAll(db, sql: "SELECT email FROM subscriber") {
                folded[email.lowercased()] = email
            }
            let find = try db.cachedStatement(
                sql: "SELECT id, name, status, confirmedAt, tags FROM subscriber WHERE email = ?")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO subscriber (email, name, status, joinedAt, source, attributes, updatedAt, confirmedAt,
                        service, tags)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let update = try db.cachedStatement(
                sql: "UPDATE subscriber SET name = ?, status = ?, confirmedAt = ?, tags = ?, updatedAt = ? WHERE id = ?"
            )
            for row in rows {
                let email = row.address.description
                if let existing = try Row.fetchOne(find, arguments: [email]) {
                    let id: Int64 = existing["id"]
                    let fields = Store.ImportedFields(
                        name: existing["name"], status: existing["status"], confirmedAt: existing["confirmedAt"],
                        tags: existing["tags"])
                    if let merged = Store.merge(fields, with: row) {
                        try update.execute(arguments: [
                            merged.name, merged.status, merged.confirmedAt, merged.tags, now, id,
                        ])
                        counts.updated += 1
                    } else {
                        counts.unchanged += 1
                    }
                } else {
                    if let variant = Store.caseVariant(row, folded: folded) { counts.caseVariants.append(variant) }
                    try insert.execute(arguments: [
                        email, row.name, row.status.rawValue, row.joinedAt ?? now, row.source ?? source,
                        row.attributesJSON, now, row.confirmedAt, row.service ?? service, Store.encodeTags(row.tags),
                    ])
                    counts.added += 1
                }
            }
            return counts
        }
    }

    // MARK: Coming back

    /// Makes a reader who left active again, recording when and how they came back (`source`, and the
    /// time as their confirmation). An unsubscribed reader comes back; a bounced or complained one only
    /// when `overridingBounceOrComplaint` is set (the editor has the reader's word that the address works
    /// and that they want the mail).
    public func resubscribe(
        _ address: EmailAddress, overridingBounceOrComplaint: Bool, source: String, now: Date
    ) throws -> ResubscribeOutcome {
        try database.write { db in
            guard let existing = try Subscriber.filter(Column("email") == address.description).fetchOne(db) else {
                return .unknown
            }
            if existing.status == .active { return .alreadyActive }
            if existing.status != .unsubscribed && !overridingBounceOrComplaint { return .refused(existing.status) }
            try db.execute(
                sql: "UPDATE subscriber SET status = 'active', source = ?, confirmedAt = ?, updatedAt = ? WHERE id = ?",
                arguments: [source, now, now, existing.id])
            return .resubscribed(from: existing.status)
        }
    }

    // MARK: The delivery ledger

    /// Starts or resumes `run`. The first start records every active subscriber as a pending recipient
    /// and the plan's frozen rendering, in one transaction; a resume keeps both. Messages left in flight by
    /// a crash become `doubt`, and are put back to pending only when `resendInDoubt` is set.
    public func startRun(_ run: String, resendInDoubt: Bool, now: Date, plan: RunPlan) throws -> RunStart {
        try database.write { db in
            let exists = try Row.fetchOne(db, sql: "SELECT 1 FROM run WHERE name = ?", arguments: [run]) != nil
            if !exists {
                try db.execute(
                    sql: "INSERT INTO run (name, startedAt, recipients, date, relay) VALUES (?, ?, 0, ?, ?)",
                    arguments: [run, now, plan.date, plan.relay])
                let earlier = plan.supersedes
                let marks = earlier.map { _ in "?" }.joined(separator: ", ")
                // A reader an earlier run of the edition sent to, or may have, never gets a second copy.
                let exclusion =
                    earlier.isEmpty
                    ? ""
                    : " AND id NOT IN (SELECT subscriberId FROM delivery WHERE run IN (\(marks))"
                        + " AND state IN ('sent', 'sending', 'doubt'))"
                try db.execute(
                    sql: """
                        INSERT INTO delivery (run, subscriberId, email, name, state, updatedAt)
                        SELECT ?, id, email, name, 'pending', ? FROM subscriber WHERE status = 'active'
                        """ + exclusion,
                    arguments: StatementArguments([run as any DatabaseValueConvertible, now] + earlier))
                if !earlier.isEmpty {
                    try db.execute(
                        sql: "UPDATE delivery SET state = 'superseded', updatedAt = ? WHERE run IN (\(marks))"
                            + " AND state IN ('pending', 'deferred')",
                        arguments: StatementArguments([now as any DatabaseValueConvertible] + earlier))
                }
                try db.execute(
                    sql: "UPDATE run SET recipients = (SELECT COUNT(*) FROM delivery WHERE run = ?) WHERE name = ?",
                    arguments: [run, run])
                if let frozen = plan.freeze {
                    try Self.freeze(frozen, name: run, kind: plan.kind, db: db, now: now)
                }
            }
            try db.execute(sql: "UPDATE run SET lastSessionAt = ? WHERE name = ?", arguments: [now, run])
            try db.execute(
                sql: "UPDATE delivery SET state = 'doubt', updatedAt = ? WHERE run = ? AND state = 'sending'",
                arguments: [now, run])
            let doubt = try Delivery.filter(Column("run") == run && Column("state") == "doubt").order(
                Column("subscriberId")
            ).fetchAll(db)
            if resendInDoubt {
                try db.execute(
                    sql: "UPDATE delivery SET state = 'pending', updatedAt = ? WHERE run = ? AND state = 'doubt'",
                    arguments: [now, run])
            }
            // Each run gets its own attempts at what earlier runs deferred.
            try db.execute(
                sql: "UPDATE delivery SET runAttempts = 0, nextAttemptAt = NULL WHERE run = ? AND state = 'deferred'",
                arguments: [run])
            let recipients =
                try Int.fetchOne(db, sql: "SELECT recipients FROM run WHERE name = ?", arguments: [run]) ?? 0
            return RunStart(
                isNew: !exists, recipients: recipients, inDoubt: resendInDoubt ? [] : doubt,
                frozen: try Self.frozen(name: run, db: db))
        }
    }

    /// The run's rows in one state, in subscriber order.
    public func deliveries(_ run: String, state: Delivery.State, limit: Int) throws -> [Delivery] {
        try database.read { db in
            try Delivery.filter(Column("run") == run && Column("state") == state.rawValue).order(Column("subscriberId"))
                .limit(limit).fetchAll(db)
        }
    }

    public func deliveryCounts(_ run: String) throws -> [Delivery.State: Int] {
        try database.read { db in
            var counts: [Delivery.State: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM delivery WHERE run = ? GROUP BY state", arguments: [run])
            {
                if let state = Delivery.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Frozen editions and runs

    static func freeze(_ frozen: FrozenEdition, name: String, kind: FrozenEdition.Kind, db: Database, now: Date) throws
    {
        let json = String(decoding: try JSONEncoder().encode(frozen), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO frozenEdition (name, date, kind, subject, rendering, frozenAt) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET subject = excluded.subject, rendering = excluded.rendering,
                    frozenAt = excluded.frozenAt
                """, arguments: [name, frozen.date, kind.rawValue, frozen.archive.subject, json, now])
    }

    static func frozen(name: String, db: Database) throws -> FrozenEdition? {
        guard
            let json = try String.fetchOne(
                db, sql: "SELECT rendering FROM frozenEdition WHERE name = ?", arguments: [name])
        else { return nil }
        return try JSONDecoder().decode(FrozenEdition.self, from: Data(json.utf8))
    }

    /// Publishes an edition to the archive without a run (an archive-only edition): the rendering as it
    /// is now, frozen under `DATE+published`. Publishing again replaces it.
    public func publish(_ frozen: FrozenEdition, now: Date) throws {
        try database.write { db in
            try Self.freeze(frozen, name: frozen.date + "+published", kind: .published, db: db, now: now)
        }
    }

    /// The archive: each edition sent to subscribers or published, newest first, as readers got it (the
    /// latest run's, when an edition had several).
    public func archivedEditions() throws -> [ArchivedEdition] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT date, subject, rendering, frozenAt FROM frozenEdition f WHERE kind IN ('run', 'published')
                    AND name = (SELECT name FROM frozenEdition g WHERE g.date = f.date AND g.kind IN ('run', 'published')
                                ORDER BY frozenAt DESC, name DESC LIMIT 1)
                    ORDER BY date DESC
                    """
            ).map { row in
                let rendering = try JSONDecoder().decode(
                    FrozenEdition.self, from: Data((row["rendering"] as String).utf8))
                return ArchivedEdition(
                    date: row["date"], subject: row["subject"], preheader: rendering.archive.preheader,
                    frozenAt: row["frozenAt"])
            }
        }
    }

    /// The rendering readers of the edition of `date` got (its latest run's), or its published one; nil
    /// when the edition was neither sent to subscribers nor published.
    public func archivedEdition(date: String) throws -> FrozenEdition? {
        try database.read { db in
            guard
                let name = try String.fetchOne(
                    db,
                    sql: """
                        SELECT name FROM frozenEdition WHERE date = ? AND kind IN ('run', 'published')
                        ORDER BY frozenAt DESC, name DESC LIMIT 1
                        """, arguments: [date])
            else { return nil }
            return try Self.frozen(name: name, db: db)
        }
    }

    /// Every run, oldest first; with `date`, the runs of that edition (its run, dry runs, later runs).
    public func runs(date: String?) throws -> [RunSummary] {
        try database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.name, r.date, r.startedAt, r.lastSessionAt, r.finishedAt, r.relay, r.recipients, f.subject
                    FROM run r LEFT JOIN frozenEdition f ON f.name = r.name
                    WHERE ? IS NULL OR r.date = ? OR r.name = ? OR r.name LIKE ? ORDER BY r.startedAt, r.name
                    """, arguments: [date, date, date, date.map { $0 + "+%" } ?? ""])
            return try rows.map { row in
                var counts: [Delivery.State: Int] = [:]
                for count in try Row.fetchAll(
                    db, sql: "SELECT state, COUNT(*) AS n FROM delivery WHERE run = ? GROUP BY state",
                    arguments: [row["name"] as String])
                {
                    if let state = Delivery.State(rawValue: count["state"]) { counts[state] = count["n"] }
                }
                return RunSummary(
                    name: row["name"], date: row["date"], startedAt: row["startedAt"],
                    lastSessionAt: row["lastSessionAt"],
                    finishedAt: row["finishedAt"], relay: row["relay"], recipients: row["recipients"],
                    subject: row["subject"], counts: counts)
            }
        }
    }

    /// The frozen renderings of the runs of `date` (not dry runs), newest first: where a click link's story
    /// is looked up.
    public func frozenRuns(date: String) throws -> [FrozenEdition] {
        try database.read { db in
            try String.fetchAll(
                db, sql: "SELECT rendering FROM frozenEdition WHERE date = ? AND kind = 'run' ORDER BY frozenAt DESC",
                arguments: [date]
            ).map { try JSONDecoder().decode(FrozenEdition.self, from: Data($0.utf8)) }
        }
    }

    /// Adds clicks, in one transaction.
    public func record(clicks: [Click]) async throws {
        var counting: [Click: Int] = [:]
        for click in clicks { counting[click, default: 0] += 1 }
        let grouped = counting
        try await database.write { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO storyClick (date, story, human, scanner) VALUES (?, ?, ?, ?)
                    ON CONFLICT(date, story) DO UPDATE SET human = human + excluded.human,
                        scanner = scanner + excluded.scanner
                    """)
            for (click, count) in grouped {
                try upsert.execute(arguments: [
                    click.date, click.story, click.scanner ? 0 : count, click.scanner ? count : 0,
                ])
            }
        }
    }

    /// The clicks counted per story of the edition of `date`.
    public func clicks(date: String) throws -> [Int: (human: Int, scanner: Int)] {
        try database.read { db in
            var counts: [Int: (human: Int, scanner: Int)] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT story, human, scanner FROM storyClick WHERE date = ?", arguments: [date])
            {
                counts[row["story"]] = (row["human"], row["scanner"])
            }
            return counts
        }
    }

    // MARK: What readers did

    public func editionFigures(date: String) throws -> EditionFigures {
        try database.read { db in
            let runs = try Row.fetchAll(
                db,
                sql: """
                    SELECT name, startedAt FROM run WHERE (date = ? OR name = ? OR name LIKE ?) AND name NOT LIKE ?
                    ORDER BY startedAt
                    """, arguments: [date, date, date + "#%", "%+dry-run%"])
            let names: [String] = runs.map { $0["name"] }
            let sentAt: Date? = runs.first?["startedAt"]
            var counts: [Delivery.State: Int] = [:]
            var hard = 0
            for name in names {
                for row in try Row.fetchAll(
                    db, sql: "SELECT state, COUNT(*) AS n FROM delivery WHERE run = ? GROUP BY state", arguments: [name]
                ) {
                    if let state = Delivery.State(rawValue: row["state"]) { counts[state, default: 0] += row["n"] }
                }
                for row in try Row.fetchAll(
                    db, sql: "SELECT replyCode, reply FROM delivery WHERE run = ? AND state = 'failed'",
                    arguments: [name])
                {
                    let code: Int? = row["replyCode"]
                    let reply: String = row["reply"] ?? ""
                    if Store.isHardBounce(replyCode: code, reply: reply) { hard += 1 }
                }
            }
            var unsubscribes = 0
            if let sentAt {
                let next = try Date.fetchOne(
                    db,
                    sql: "SELECT MIN(startedAt) FROM run WHERE startedAt > ? AND name NOT LIKE ? AND name NOT LIKE ?",
                    arguments: [sentAt, date + "%", "%+dry-run%"])
                let marks = names.map { _ in "?" }.joined(separator: ", ")
                unsubscribes =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(DISTINCT s.id) FROM subscriber s JOIN delivery d ON d.subscriberId = s.id
                            WHERE d.run IN (\(marks)) AND d.state = 'sent' AND s.status = 'unsubscribed'
                            AND s.updatedAt >= ? AND (? IS NULL OR s.updatedAt < ?)
                            """,
                        arguments: StatementArguments(names) + [sentAt, next, next]) ?? 0
            }
            let reported = try reportedBounces(runs: names, db: db)
            return EditionFigures(
                date: date, runs: names, counts: counts, hardBounces: hard, softBounces: counts[.deferred] ?? 0,
                reportedHard: reported.hard, reportedSoft: reported.soft, complaints: reported.complaints,
                unsubscribes: unsubscribes, sentAt: sentAt)
        }
    }

    public func growth(days: [(date: String, start: Date, end: Date)]) throws -> [DayGrowth] {
        try database.read { db in
            try days.map { day in
                func count(_ sql: String) throws -> Int {
                    try Int.fetchOne(db, sql: sql, arguments: [day.start, day.end]) ?? 0
                }
                return DayGrowth(
                    date: day.date,
                    joined: try count("SELECT COUNT(*) FROM subscriber WHERE joinedAt >= ? AND joinedAt < ?"),
                    left: try count(
                        "SELECT COUNT(*) FROM subscriber WHERE status = 'unsubscribed' AND updatedAt >= ? AND updatedAt < ?"
                    ),
                    bounced: try count(
                        "SELECT COUNT(*) FROM subscriber WHERE status = 'bounced' AND updatedAt >= ? AND updatedAt < ?")
                )
            }
        }
    }

    /// Notes that a session of `run` ended with nothing left to send (or not).
    public func noteSessionEnd(_ run: String, finished: Bool, now: Date) throws {
        try database.write { db in
            try db.execute(
                sql:
                    "UPDATE run SET lastSessionAt = ?, finishedAt = CASE WHEN ? THEN COALESCE(finishedAt, ?) END WHERE name = ?",
                arguments: [now, finished, now, run])
        }
    }
}

/// What an import did.
public struct ImportCounts: Equatable, Sendable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0
    /// New addresses that differ only in case from one on the list already.
    public var caseVariants: [SubscriberCSV.CaseVariant] = []

    public init(added: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.added = added
        self.updated = updated
        self.unchanged = unchanged
    }
}
