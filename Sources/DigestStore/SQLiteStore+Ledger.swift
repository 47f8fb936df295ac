import DigestMail
import Foundation
import GRDB

/// The ledger's writes, inside one of the bulk sender's group transactions on the SQLite file.
struct SQLiteLedgerTransaction: LedgerTransaction {
    let db: Database

    func claim(_ delivery: Delivery, now: Date) throws -> Bool {
        let status = try String.fetchOne(
            db.cachedStatement(sql: "SELECT status FROM subscriber WHERE id = ?"), arguments: [delivery.subscriberId])
        guard status == Subscriber.Status.active.rawValue else {
            try skip(delivery, reason: Store.notSent(subscriberStatus: status ?? "removed"), now: now)
            return false
        }
        try db.cachedStatement(
            sql: """
                UPDATE delivery SET state = 'sending', updatedAt = ?
                WHERE run = ? AND subscriberId = ? AND state = ? AND runAttempts = ?
                """
        ).execute(arguments: [now, delivery.run, delivery.subscriberId, delivery.state.rawValue, delivery.runAttempts])
        return db.changesCount > 0
    }

    func skip(_ delivery: Delivery, reason: String, now: Date) throws {
        try db.cachedStatement(
            sql: """
                UPDATE delivery SET state = 'left', reply = ?, updatedAt = ?
                WHERE run = ? AND subscriberId = ? AND state = ? AND runAttempts = ?
                """
        ).execute(arguments: [
            reason, now, delivery.run, delivery.subscriberId, delivery.state.rawValue, delivery.runAttempts,
        ])
    }

    func record(_ delivery: Delivery, outcome: DeliveryOutcome, messageID: String, retryAt: Date?, now: Date) throws {
        let state = Store.deliveryState(outcome)
        try db.cachedStatement(
            sql: """
                UPDATE delivery SET state = ?, attempts = ?, runAttempts = ?, replyCode = ?, reply = ?, messageId = ?,
                    nextAttemptAt = ?, updatedAt = ?
                WHERE run = ? AND subscriberId = ?
                """
        ).execute(arguments: [
            state.rawValue, delivery.attempts + 1, delivery.runAttempts + 1, outcome.replyCode, outcome.reply,
            messageID, state == .deferred ? retryAt : nil, now, delivery.run, delivery.subscriberId,
        ])
        if outcome.isHardBounce {
            try db.cachedStatement(
                sql: "UPDATE subscriber SET status = 'bounced', updatedAt = ? WHERE id = ? AND status = 'active'"
            ).execute(arguments: [now, delivery.subscriberId])
        }
    }

    func fail(_ delivery: Delivery, reason: String, now: Date) throws {
        try db.cachedStatement(
            sql: "UPDATE delivery SET state = 'failed', reply = ?, updatedAt = ? WHERE run = ? AND subscriberId = ?"
        ).execute(arguments: [reason, now, delivery.run, delivery.subscriberId])
    }

    func release(_ delivery: Delivery, now: Date) throws {
        let state: Delivery.State = delivery.runAttempts > 0 || delivery.attempts > 0 ? .deferred : .pending
        try db.cachedStatement(
            sql: "UPDATE delivery SET state = ?, updatedAt = ? WHERE run = ? AND subscriberId = ?"
        ).execute(arguments: [state.rawValue, now, delivery.run, delivery.subscriberId])
    }
}

extension SQLiteStore {
    public func ledgerPending(run: String, after cursor: Int64, limit: Int) throws -> [(Delivery, String)] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.*, s.status AS subscriberStatus FROM delivery d JOIN subscriber s ON s.id = d.subscriberId
                    WHERE d.run = ? AND d.state = 'pending' AND d.subscriberId > ? ORDER BY d.subscriberId LIMIT ?
                    """, arguments: [run, cursor, limit]
            ).map { row in (try Delivery(row: row), row["subscriberStatus"] as String) }
        }
    }

    public func ledgerLastPending(run: String) throws -> Int64? {
        try database.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT MAX(subscriberId) FROM delivery WHERE run = ? AND state = 'pending'", arguments: [run])
        }
    }

    public func ledgerDeferred(run: String, maxRunAttempts: Int, now: Date, limit: Int) throws -> [Delivery] {
        try database.read { db in
            try Delivery.fetchAll(
                db,
                sql: """
                    SELECT * FROM delivery WHERE run = ? AND state = 'deferred' AND runAttempts < ?
                        AND (nextAttemptAt IS NULL OR nextAttemptAt <= ?)
                    ORDER BY subscriberId LIMIT ?
                    """, arguments: [run, maxRunAttempts, now, limit])
        }
    }

    public func ledgerNextAttempt(run: String, maxRunAttempts: Int) throws -> Date? {
        try database.read { db in
            try Date.fetchOne(
                db,
                sql: "SELECT MIN(nextAttemptAt) FROM delivery WHERE run = ? AND state = 'deferred' AND runAttempts < ?",
                arguments: [run, maxRunAttempts])
        }
    }

    public func ledgerWrite(_ body: (any LedgerTransaction) throws -> Void) throws {
        try database.write { db in try body(SQLiteLedgerTransaction(db: db)) }
    }

    // MARK: The schema and moving

    public func schemaVersion() throws -> Int {
        try database.read { db in try Self.migrator.appliedIdentifiers(db).count }
    }

    /// The tables `store copy` moves, parents first.
    static let copiedTables = [
        "subscriber", "run", "delivery", "frozenEdition", "storyClick", "signup", "bounceEvent", "mailboxMessage",
    ]

    public func tableCounts() throws -> [String: Int] {
        try database.read { db in
            var counts: [String: Int] = [:]
            for table in Self.copiedTables {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return counts
        }
    }

    public func exportTables() throws -> [StoreTable] {
        try database.read { db in
            try Self.copiedTables.map { table in
                let columns = try db.columns(in: table).map(\.name)
                let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                let rows = try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table)").map { row in
                    (0..<columns.count).map { index -> String? in
                        let value: DatabaseValue = row[index]
                        switch value.storage {
                        case .null: return nil
                        case .int64(let number): return String(number)
                        case .double(let number): return String(number)
                        case .string(let text): return text
                        case .blob(let data): return String(decoding: data, as: UTF8.self)
                        }
                    }
                }
                return StoreTable(name: table, columns: columns, rows: rows)
            }
        }
    }

    public func importTables(_ tables: [StoreTable]) throws {
        try database.write { db in
            for table in Self.copiedTables {
                if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 > 0 {
                    throw StoreError("the target store is not empty: its table \(table) has rows")
                }
            }
            for table in tables {
                // Column names in any case (PostgreSQL's are lower case).
                var known: [String: String] = [:]
                for column in try db.columns(in: table.name) { known[column.name.lowercased()] = column.name }
                let indexes = table.columns.indices.filter { known[table.columns[$0].lowercased()] != nil }
                let list = indexes.compactMap { known[table.columns[$0].lowercased()] }.map { "\"\($0)\"" }
                    .joined(separator: ", ")
                let marks = indexes.map { _ in "?" }.joined(separator: ", ")
                let insert = try db.makeStatement(sql: "INSERT INTO \(table.name) (\(list)) VALUES (\(marks))")
                for row in table.rows {
                    // Text throughout: the columns' affinities store numbers as numbers, dates stay text.
                    let values: [DatabaseValue] = indexes.map { row[$0]?.databaseValue ?? .null }
                    try insert.execute(arguments: StatementArguments(values))
                }
            }
        }
    }
}

/// A store's error for the editor.
public struct StoreError: Error, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
