import DigestCore
import Foundation

/// Reads subscriber lists as newsletter services export them: a header row naming the columns
/// (Mailchimp's "Email Address", "First Name", "Last Name"; Substack's and Buttondown's "email"; …),
/// comma, semicolon or tab separated, quoted fields with commas, quotes and line breaks, a UTF-8 BOM.
public enum SubscriberCSV {
    /// A valid row, ready to import.
    public struct Row: Equatable, Sendable {
        public var line: Int
        public var address: EmailAddress
        public var name: String
        public var status: Subscriber.Status
        /// The row's other columns, as a JSON object.
        public var attributesJSON: String

        public init(
            line: Int, address: EmailAddress, name: String = "", status: Subscriber.Status = .active,
            attributesJSON: String = "{}"
        ) {
            self.line = line
            self.address = address
            self.name = name
            self.status = status
            self.attributesJSON = attributesJSON
        }
    }

    /// A row left out, with why.
    public struct Rejection: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public struct Result: Sendable {
        public var rows: [Row]
        public var rejected: [Rejection]
        /// Addresses that appeared more than once in the file (merged into one row).
        public var duplicates: Int
    }

    /// Why a whole file cannot be imported.
    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    static let emailHeaders = [
        "email", "e-mail", "email address", "e-mail address", "emailaddress", "mail", "subscriber email", "address",
    ]
    static let nameHeaders = ["name", "full name", "fullname", "display name", "subscriber name"]
    static let firstNameHeaders = ["first name", "firstname", "fname", "given name", "first"]
    static let lastNameHeaders = ["last name", "lastname", "lname", "surname", "family name", "last"]
    static let statusHeaders = ["status", "subscription status", "state", "subscriber status"]

    static func status(_ text: String) -> Subscriber.Status? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "", "active", "subscribed", "confirmed", "regular", "free", "paid", "premium", "yes", "true": .active
        case "unsubscribed", "unsubscribe", "opted out", "opted-out", "inactive", "removed": .unsubscribed
        case "bounced", "bounce", "cleaned", "hard bounce", "hard_bounce", "undeliverable": .bounced
        case "complained", "complaint", "spam", "spam complaint", "abuse": .complained
        default: nil
        }
    }

    public static func parse(_ data: Data) throws -> Result {
        var bytes = Array(data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw FileError(description: "the file is not UTF-8 text; export it as UTF-8 CSV")
        }
        let records = CSVReader.records(text, separator: CSVReader.separator(of: text))
        guard let header = records.first else { throw FileError(description: "the file is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ candidates: [String]) -> Int? { names.firstIndex(where: candidates.contains) }
        guard let emailColumn = column(emailHeaders) else {
            throw FileError(
                description:
                    "no email column in the header row (\(header.fields.joined(separator: ", "))); name one 'email'")
        }
        let nameColumn = column(nameHeaders)
        let firstColumn = column(firstNameHeaders)
        let lastColumn = column(lastNameHeaders)
        let statusColumn = column(statusHeaders)
        let known = Set([emailColumn, nameColumn, firstColumn, lastColumn, statusColumn].compactMap { $0 })

        var rows: [Row] = []
        var indexByAddress: [EmailAddress: Int] = [:]
        var rejected: [Rejection] = []
        var duplicates = 0
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            func field(_ index: Int?) -> String {
                guard let index, index < record.fields.count else { return "" }
                return record.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let rawEmail = field(emailColumn)
            guard let address = EmailAddress(idn: rawEmail) else {
                rejected.append(
                    Rejection(
                        line: record.line,
                        reason: "'\(rawEmail)' is not an email address: \(EmailAddress.reason(rawEmail))"))
                continue
            }
            let statusText = field(statusColumn)
            guard let status = status(statusText) else {
                rejected.append(
                    Rejection(
                        line: record.line,
                        reason: "unknown status '\(statusText)' (use active, unsubscribed, bounced or complained)"))
                continue
            }
            var name = TextMarks.singleLine(field(nameColumn))
            if name.isEmpty {
                name = TextMarks.singleLine(
                    [field(firstColumn), field(lastColumn)].filter { !$0.isEmpty }.joined(separator: " "))
            }
            var attributes: [String: String] = [:]
            for (index, value) in record.fields.enumerated()
            where !known.contains(index) && index < header.fields.count && !value.isEmpty {
                attributes[header.fields[index]] = value
            }
            let json =
                (try? JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys])).map {
                    String(decoding: $0, as: UTF8.self)
                } ?? "{}"
            let row = Row(line: record.line, address: address, name: name, status: status, attributesJSON: json)
            if let existing = indexByAddress[address] {
                // The same reader twice: keep the first row, fill a missing name, and let a leaving status win.
                duplicates += 1
                if rows[existing].name.isEmpty { rows[existing].name = row.name }
                if rows[existing].status == .active { rows[existing].status = row.status }
            } else {
                indexByAddress[address] = rows.count
                rows.append(row)
            }
        }
        return Result(rows: rows, rejected: rejected, duplicates: duplicates)
    }

    /// Writes subscribers as CSV (RFC 4180) with the columns `import` reads back.
    public static func header() -> String { "email,name,status,joined_at,source\r\n" }

    public static func line(_ subscriber: Subscriber) -> String {
        [
            subscriber.email.description, subscriber.name, subscriber.status.rawValue,
            Timestamp.format(subscriber.joinedAt),
            subscriber.source,
        ]
        .map(CSVReader.quote).joined(separator: ",") + "\r\n"
    }
}

/// An RFC 4180 reader that also takes `;` and tab separators, LF or CRLF line ends, and keeps the line
/// number each record starts on.
enum CSVReader {
    struct Record {
        var line: Int
        var fields: [String]
    }

    /// The separator of the header line: the most frequent of `,`, `;` and tab outside quotes.
    static func separator(of text: String) -> UInt8 {
        var counts: [UInt8: Int] = [0x2C: 0, 0x3B: 0, 0x09: 0]
        var quoted = false
        for byte in text.utf8 {
            if byte == 0x22 { quoted.toggle() }
            if !quoted && (byte == 0x0A || byte == 0x0D) { break }
            if !quoted, counts[byte] != nil { counts[byte, default: 0] += 1 }
        }
        let best = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key != 0x2C) }
        return best.map { $0.value > 0 ? $0.key : 0x2C } ?? 0x2C
    }

    /// Splits the text into records, byte by byte (every byte that matters is ASCII, so UTF-8 text in
    /// fields passes through whole).
    static func records(_ text: String, separator: UInt8) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var line = 1
        var recordLine = 1
        let bytes = Array(text.utf8)
        var index = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if quoted {
                if byte == 0x22 {
                    if index < bytes.count, bytes[index] == 0x22 {
                        field.append(0x22)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case 0x22 where field.isEmpty: quoted = true
            case separator: endField()
            case 0x0D, 0x0A:
                if byte == 0x0D, index < bytes.count, bytes[index] == 0x0A { index += 1 }
                endField()
                records.append(Record(line: recordLine, fields: fields))
                fields.removeAll(keepingCapacity: true)
                line += 1
                recordLine = line
            default: field.append(byte)
            }
        }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            records.append(Record(line: recordLine, fields: fields))
        }
        return records
    }

    static func quote(_ field: String) -> String {
        guard
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" })
                || field.hasPrefix(" ")
        else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
