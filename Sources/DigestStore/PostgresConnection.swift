import CPostgres
import DigestCore
import Foundation

/// A value sent to PostgreSQL as a parameter, in text form. Queries are always parameterized
/// (`PQexecParams`): no value is ever spliced into SQL.
protocol PGParameter {
    var pgText: String { get }
}

extension String: PGParameter {
    var pgText: String { self }
}

extension Int: PGParameter {
    var pgText: String { String(self) }
}

extension Int64: PGParameter {
    var pgText: String { String(self) }
}

extension Bool: PGParameter {
    var pgText: String { self ? "true" : "false" }
}

extension EmailAddress: PGParameter {
    var pgText: String { description }
}

extension Date: PGParameter {
    /// UTC with milliseconds, as GRDB stores dates in SQLite: both stores keep the same instants.
    var pgText: String { PGDate.format(self) + "+00" }
}

/// Dates to and from PostgreSQL's ISO text (the session's time zone is UTC).
enum PGDate {
    /// `YYYY-MM-DD HH:MM:SS.mmm`, UTC, milliseconds rounded down (as GRDB does).
    static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let rest = milliseconds - days * 86_400_000
        // Days to a civil date (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(rest / 3_600_000, 2)):"
            + "\(pad(rest / 60_000 % 60, 2)):\(pad(rest / 1000 % 60, 2)).\(pad(rest % 1000, 3))"
    }

    /// Reads `YYYY-MM-DD HH:MM:SS[.ffffff][+00]`.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var fraction = 0.0
        var index = 19
        if index < bytes.count && bytes[index] == 46 {
            index += 1
            var digits: Int64 = 0
            var scale = 1.0
            while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                digits = digits * 10 + Int64(bytes[index] - 48)
                scale *= 10
                index += 1
            }
            fraction = Double(digits) / scale
        }
        var offset: Int64 = 0
        if index < bytes.count && (bytes[index] == 43 || bytes[index] == 45) {
            let sign: Int64 = bytes[index] == 45 ? -1 : 1
            let hours = index + 3 <= bytes.count ? number(index + 1..<index + 3) ?? 0 : 0
            let minutes = index + 6 <= bytes.count ? number(index + 4..<index + 6) ?? 0 : 0
            offset = sign * (hours * 3600 + minutes * 60)
        }
        // A civil date to days (Howard Hinnant's algorithm).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}

/// A PostgreSQL error, with its SQLSTATE code.
struct PGError: Error, CustomStringConvertible {
    var message: String
    var sqlState: String?

    var description: String { message }

    /// A deadlock or a serialization failure: the transaction may simply be run again.
    var isRetryable: Bool { sqlState == "40P01" || sqlState == "40001" }
}

/// One query's rows, as text.
final class PGResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { PQclear(handle) }

    var count: Int { Int(PQntuples(handle)) }

    /// Rows changed by an UPDATE, INSERT or DELETE.
    var affected: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    func column(_ name: String) -> Int32 {
        name.withCString { PQfnumber(handle, $0) }
    }

    func text(_ row: Int, _ column: Int32) -> String? {
        guard column >= 0, PQgetisnull(handle, Int32(row), column) == 0 else { return nil }
        return String(cString: PQgetvalue(handle, Int32(row), column))
    }

    var rows: [PGRow] { (0..<count).map { PGRow(result: self, index: $0) } }
}

/// One row of a result; columns by name.
struct PGRow {
    let result: PGResult
    let index: Int

    subscript(_ name: String) -> String? { result.text(index, result.column(name)) }

    func string(_ name: String) -> String { self[name] ?? "" }
    func int(_ name: String) -> Int { self[name].flatMap { Int($0) } ?? 0 }
    func optionalInt(_ name: String) -> Int? { self[name].flatMap { Int($0) } }
    func int64(_ name: String) -> Int64 { self[name].flatMap { Int64($0) } ?? 0 }
    func date(_ name: String) -> Date { self[name].flatMap(PGDate.parse) ?? Date(timeIntervalSince1970: 0) }
    func optionalDate(_ name: String) -> Date? { self[name].flatMap(PGDate.parse) }
}

/// One connection to the server (libpq). Not thread-safe: the pool hands it to one thread at a time.
final class PGConnection {
    let handle: OpaquePointer
    /// The names of the statements `pipeline` prepared on this connection, by their text.
    private(set) var prepared: [String: String] = [:]
    /// Statements this connection asked the server to prepare: each gets a name never used before.
    private var preparations = 0

    init(_ settings: PostgresSettings) throws {
        let keywords = settings.keywords
        let names = keywords.map { strdup($0.0) }
        let values = keywords.map { strdup($0.1) }
        defer {
            for pointer in names + values { free(pointer) }
        }
        var nameList: [UnsafePointer<CChar>?] = names.map { UnsafePointer($0) } + [nil]
        var valueList: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let connection = PQconnectdbParams(&nameList, &valueList, 0) else {
            throw PGError(message: "cannot reach the store \(settings): out of memory", sqlState: nil)
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connection)
            let fix = Self.advice(libpq: message).map { "\n  fix: \($0)" } ?? ""
            throw PGError(message: "cannot connect to the store \(settings): \(message)\(fix)", sqlState: nil)
        }
        handle = connection
        // The server's notices and warnings (an ANALYZE skipped for lack of ownership) are not the editor's
        // business: libpq would print them to standard error as they come.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    /// What to do when libpq refused the connection for a reason of TLS an editor can fix in the store URL.
    static func advice(libpq message: String) -> String? {
        if message.contains("certificate verify failed") {
            return "the server's certificate could not be verified: set sslrootcert= in the store URL to the file "
                + "of the CA that signed it (and check that the certificate has not expired)"
        }
        if message.contains("root certificate file") && message.contains("does not exist") {
            return "set sslrootcert= in the store URL to the file of the CA that signed the server's certificate"
        }
        if message.contains("does not match host name") {
            return "write the host as the server's certificate names it (sslmode=verify-full checks the name)"
        }
        if message.contains("no encryption") {
            return "the server takes only encrypted connections: write sslmode=verify-full and sslrootcert= in "
                + "the store URL"
        }
        return nil
    }

    deinit { PQfinish(handle) }

    /// False once the server went away: the pool drops the connection.
    var isUsable: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one statement with its parameters (`$1`, `$2`, …).
    @discardableResult
    func query(_ sql: String, _ parameters: [(any PGParameter)?] = []) throws -> PGResult {
        let texts = parameters.map { $0.map { strdup($0.pgText) } ?? nil }
        defer {
            for pointer in texts { free(pointer) }
        }
        let values: [UnsafePointer<CChar>?] = texts.map { $0.map { UnsafePointer($0) } }
        let result = values.withUnsafeBufferPointer { buffer in
            PQexecParams(handle, sql, Int32(values.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        guard let result else {
            throw PGError(message: String(cString: PQerrorMessage(handle)), sqlState: nil)
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            let code = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            PQclear(result)
            throw PGError(message: message, sqlState: code)
        }
        return PGResult(result)
    }
}

extension PGConnection {
    /// Sends every statement at once in libpq's pipeline mode and reads the results after one sync: one round
    /// trip for all. Throws the first statement's error (the rest are then skipped by the server).
    ///
    /// A statement with parameters is prepared on the connection the first time it is sent (in the same
    /// pipeline, just before its first execution) and executed by name after that: the server parses and
    /// plans the ledger's statements once per connection, not once per commit, which is most of a commit's
    /// time on a busy machine.
    func pipeline(_ statements: [(String, [(any PGParameter)?])]) throws -> [PGResult] {
        guard PQenterPipelineMode(handle) == 1 else {
            throw PGError(
                message: "cannot enter pipeline mode: \(String(cString: PQerrorMessage(handle)))", sqlState: nil)
        }
        defer { PQexitPipelineMode(handle) }
        /// Per request sent: nil for a statement's execution, the text for a statement's preparation.
        var requests: [String?] = []
        var preparing: [String: String] = [:]
        for (sql, parameters) in statements {
            var name = parameters.isEmpty ? nil : prepared[sql] ?? preparing[sql]
            if !parameters.isEmpty && name == nil {
                preparations += 1
                let fresh = "digest_\(preparations)"
                guard PQsendPrepare(handle, fresh, sql, Int32(parameters.count), nil) == 1 else {
                    throw PGError(message: String(cString: PQerrorMessage(handle)), sqlState: nil)
                }
                preparing[sql] = fresh
                requests.append(sql)
                name = fresh
            }
            let texts = parameters.map { $0.map { strdup($0.pgText) } ?? nil }
            defer {
                for pointer in texts { free(pointer) }
            }
            let values: [UnsafePointer<CChar>?] = texts.map { $0.map { UnsafePointer($0) } }
            let sent = values.withUnsafeBufferPointer { buffer in
                if let name {
                    return PQsendQueryPrepared(handle, name, Int32(values.count), buffer.baseAddress, nil, nil, 0)
                }
                return PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0)
            }
            guard sent == 1 else { throw PGError(message: String(cString: PQerrorMessage(handle)), sqlState: nil) }
            requests.append(nil)
        }
        guard PQpipelineSync(handle) == 1 else {
            throw PGError(message: String(cString: PQerrorMessage(handle)), sqlState: nil)
        }
        var results: [PGResult] = []
        var failure: PGError?
        for request in requests {
            // Each request's result, then a null between requests.
            while let result = PQgetResult(handle) {
                let status = PQresultStatus(result)
                if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK {
                    if let sql = request {
                        // Prepared: the name holds from now on, whatever follows.
                        prepared[sql] = preparing[sql]
                        PQclear(result)
                    } else {
                        results.append(PGResult(result))
                    }
                } else {
                    if failure == nil && status != PGRES_PIPELINE_ABORTED {
                        let message = String(cString: PQresultErrorMessage(result))
                            .trimmingCharacters(in: .whitespacesAndNewlines)
                        let code = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                        failure = PGError(message: message, sqlState: code)
                    }
                    PQclear(result)
                }
            }
        }
        // The sync's own result.
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if let failure { throw failure }
        if results.count != statements.count {
            throw PGError(
                message: "the server answered \(results.count) of \(statements.count) statements", sqlState: nil)
        }
        return results
    }
}

/// A few connections shared by the store's threads: each call borrows one, so one connection is only ever
/// used by one thread at a time.
final class PGPool: @unchecked Sendable {
    let settings: PostgresSettings
    private let condition = NSCondition()
    private var idle: [PGConnection] = []
    private var open = 0

    init(_ settings: PostgresSettings) {
        self.settings = settings
    }

    func with<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let connection = try borrow()
        do {
            let value = try body(connection)
            giveBack(connection)
            return value
        } catch {
            giveBack(connection)
            throw error
        }
    }

    /// Runs `body` in one transaction, again when the server says to (a deadlock between two processes).
    func transaction<T>(_ isolation: String = "READ COMMITTED", _ body: (PGConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try with { connection in
                    try connection.query("BEGIN ISOLATION LEVEL \(isolation)")
                    do {
                        let value = try body(connection)
                        try connection.query("COMMIT")
                        return value
                    } catch {
                        if connection.isUsable { _ = try? connection.query("ROLLBACK") }
                        throw error
                    }
                }
            } catch let error as PGError where error.isRetryable && attempt < 8 {
                Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.02) * Double(attempt))
            }
        }
    }

    /// Runs `body` on a connection, again when the server says to (a deadlock between two processes).
    func retrying<T>(_ body: (PGConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try with(body)
            } catch let error as PGError where error.isRetryable && attempt < 8 {
                Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.02) * Double(attempt))
            }
        }
    }

    private func borrow() throws -> PGConnection {
        condition.lock()
        while idle.isEmpty && open >= settings.poolSize { condition.wait() }
        if let connection = idle.popLast() {
            condition.unlock()
            return connection
        }
        open += 1
        condition.unlock()
        do {
            return try PGConnection(settings)
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func giveBack(_ connection: PGConnection) {
        condition.lock()
        if connection.isUsable {
            idle.append(connection)
        } else {
            open -= 1
        }
        condition.signal()
        condition.unlock()
    }
}
