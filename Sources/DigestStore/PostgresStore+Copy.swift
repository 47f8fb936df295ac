import Foundation

extension PostgresStore {
    // MARK: The sending session

    /// This process's sending session, if it has claimed anything yet.
    func currentSession() -> Int32? {
        sessionLock.withLock { session?.id }
    }

    /// The sending session, started at the first claim: a number of its own and an advisory lock on it,
    /// held by a connection of its own for as long as the process lives.
    func sendingSession() throws -> Int32 {
        try sessionLock.withLock { try openSession().id }
    }

    /// Runs `body` on the sending session's own connection, which nothing else uses: the ledger's group
    /// commits. Its statements run on their cached generic plans (`plan_cache_mode`, set once for the
    /// session): the server would otherwise keep planning the commit's statement anew, its custom plans, which
    /// know the arrays' lengths, looking cheaper than the generic one. A deadlock or serialization failure is
    /// tried again.
    func onSendingSession<T>(_ body: (Int64, PGConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try sessionLock.withLock {
                    let session = try openSession()
                    return try body(Int64(session.id), session.connection)
                }
            } catch let error as PGError where error.isRetryable && attempt < 8 {
                Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.02) * Double(attempt))
            }
        }
    }

    /// The session, opened if it is not yet or its connection was lost. Called under `sessionLock`.
    private func openSession() throws -> (id: Int32, connection: PGConnection) {
        if let session, session.connection.isUsable { return session }
        let connection = try PGConnection(settings)
        try connection.query("SET plan_cache_mode = force_generic_plan")
        while true {
            let id = Int32.random(in: 1...Int32.max)
            let locked = try connection.query(
                "SELECT pg_try_advisory_lock($1, $2) AS locked", [Int(Self.sessionLockClass), Int(id)]
            ).rows.first?["locked"]
            if locked == "t" {
                session = (id, connection)
                return (id, connection)
            }
        }
    }

    // MARK: The schema and moving

    /// The tables `store copy` moves, parents first.
    static let copiedTables = [
        "subscriber", "run", "delivery", "frozenEdition", "storyClick", "signup", "bounceEvent", "mailboxMessage",
    ]

    /// The table's columns in order, with whether each is a time.
    static func columns(_ table: String, _ connection: PGConnection) throws -> [(name: String, isTime: Bool)] {
        try connection.query(
            """
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
            """, [table.lowercased()]
        ).rows.map { ($0.string("column_name"), $0.string("data_type").hasPrefix("timestamp")) }
    }

    public func tableCounts() throws -> [String: Int] {
        try pool.with { try Self.tableCounts($0) }
    }

    static func tableCounts(_ connection: PGConnection) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in copiedTables {
            counts[table] = try connection.query("SELECT COUNT(*) AS n FROM \(table)").rows.first?.int("n") ?? 0
        }
        return counts
    }

    public func exportTables() throws -> [StoreTable] {
        try pool.transaction("REPEATABLE READ") { connection in
            try Self.copiedTables.map { table in
                let columns = try Self.columns(table, connection)
                // Times as SQLite keeps them: UTC, milliseconds.
                let list = columns.map { column in
                    column.isTime
                        ? "to_char(\(column.name) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS \(column.name)"
                        : column.name
                }.joined(separator: ", ")
                let result = try connection.query("SELECT \(list) FROM \(table)")
                let rows = (0..<result.count).map { row in
                    (0..<columns.count).map { result.text(row, Int32($0)) }
                }
                return StoreTable(name: table, columns: columns.map(\.name), rows: rows)
            }
        }
    }

    public func importTables(_ tables: [StoreTable]) throws {
        try pool.transaction { connection in
            let before = try Self.tableCounts(connection)
            if let full = Self.copiedTables.first(where: { (before[$0] ?? 0) > 0 }) {
                throw StoreError("the target store is not empty: its table \(full) has rows")
            }
            for table in tables {
                guard Self.copiedTables.contains(table.name) else { continue }
                let target = try Self.columns(table.name, connection)
                let known = Set(target.map(\.name))
                let times = Set(target.filter(\.isTime).map(\.name))
                let indexes = table.columns.indices.filter { known.contains(table.columns[$0].lowercased()) }
                let list = indexes.map { table.columns[$0].lowercased() }.joined(separator: ", ")
                let perStatement = max(1, 30_000 / max(1, indexes.count))
                var start = 0
                while start < table.rows.count {
                    let chunk = table.rows[start..<min(start + perStatement, table.rows.count)]
                    var parameters: [(any PGParameter)?] = []
                    var tuples: [String] = []
                    for row in chunk {
                        tuples.append("(" + Self.marks(indexes.count, from: parameters.count + 1) + ")")
                        // Times in the copy are UTC.
                        parameters += indexes.map { index in
                            row[index].map { times.contains(table.columns[index].lowercased()) ? $0 + "+00" : $0 }
                        }
                    }
                    try connection.query(
                        "INSERT INTO \(table.name) (\(list)) VALUES \(tuples.joined(separator: ", "))", parameters)
                    start += perStatement
                }
            }
            for table in ["subscriber", "bounceEvent"] {
                try connection.query(
                    """
                    SELECT setval(pg_get_serial_sequence('\(table.lowercased())', 'id'), COALESCE(MAX(id), 0) + 1, false)
                    FROM \(table)
                    """)
            }
            let after = try Self.tableCounts(connection)
            for table in tables where Self.copiedTables.contains(table.name) {
                guard after[table.name] == table.rows.count else {
                    throw StoreError(
                        "the copy of \(table.name) came to \(after[table.name] ?? 0) rows, not \(table.rows.count): "
                            + "nothing was copied")
                }
            }
        }
    }
}
