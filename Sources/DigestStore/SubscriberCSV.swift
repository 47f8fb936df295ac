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
        /// When the reader joined and confirmed, as the export says (nil: not in the file).
        public var joinedAt: Date?
        public var confirmedAt: Date?
        /// How the reader joined, as the export says (digest's own `source`, a service's signup source).
        public var source: String?
        /// The service the reader came from, as digest's own export says (nil: the file's service).
        public var service: String?
        public var tags: [String]

        public init(
            line: Int, address: EmailAddress, name: String = "", status: Subscriber.Status = .active,
            attributesJSON: String = "{}", joinedAt: Date? = nil, confirmedAt: Date? = nil, source: String? = nil,
            tags: [String] = []
        ) {
            self.line = line
            self.address = address
            self.name = name
            self.status = status
            self.attributesJSON = attributesJSON
            self.joinedAt = joinedAt
            self.confirmedAt = confirmedAt
            self.source = source
            self.tags = tags
        }
    }

    /// A row left out, with why.
    public struct Rejection: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Two addresses that differ only in the case of the part before the @: two readers, as RFC 5321
    /// says, though most mail systems deliver both to one mailbox.
    public struct CaseVariant: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var address: EmailAddress
        /// The other spelling: earlier in the file, or on the list already.
        public var other: EmailAddress
        public var description: String {
            "line \(line): \(address) and \(other) differ only in case: kept as two readers "
                + "(most mail systems deliver both to one mailbox; remove one with `digest subscribers remove`)"
        }
    }

    public struct Result: Sendable {
        public var rows: [Row]
        public var rejected: [Rejection]
        /// Addresses that appeared more than once in the file (merged into one row).
        public var duplicates: Int
        /// The service whose export this is, as recognised from the header row.
        public var service: ExportService
        /// Where the readers' status came from (a column, the file's kind, or `--status`).
        public var statusFrom: String
        public var caseVariants: [CaseVariant]
    }

    /// Why a whole file cannot be imported.
    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    static let emailHeaders = [
        "email", "e-mail", "email address", "e-mail address", "emailaddress", "email_address", "mail",
        "subscriber email", "address",
    ]
    static let nameHeaders = ["name", "full name", "fullname", "full_name", "display name", "subscriber name"]
    static let firstNameHeaders = ["first name", "firstname", "first_name", "fname", "given name", "first"]
    static let lastNameHeaders = ["last name", "lastname", "last_name", "lname", "surname", "family name", "last"]
    static let statusHeaders = ["status", "subscription status", "subscription_status", "state", "subscriber status"]

    /// The leaving status of the two; active only when both are.
    static func stricter(_ a: Subscriber.Status, _ b: Subscriber.Status) -> Subscriber.Status {
        let rank: [Subscriber.Status: Int] = [.active: 0, .unsubscribed: 1, .bounced: 2, .complained: 3]
        return (rank[a] ?? 0) >= (rank[b] ?? 0) ? a : b
    }

    /// How a file says each reader's status.
    enum StatusSource {
        /// The same for every row (a Mailchimp file per status, or `--status`).
        case file(Subscriber.Status)
        /// Columns holding status words, each read; the strictest wins.
        case columns([Int])
        /// A yes/no column: `inverted` when yes means "no mail" (Substack's `email_disabled`).
        case flag(Int, inverted: Bool, alsoLeftWhenSet: Int?)
    }

    /// Parses an export. `fileName` helps tell Mailchimp's per-status files apart; `status`, when the
    /// editor gives one, is the status of every row whose own status does not say the reader left.
    public static func parse(_ data: Data, fileName: String = "", status forced: Subscriber.Status? = nil) throws
        -> Result
    {
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
        let service = ExportService.detect(names)
        let nameColumn = column(nameHeaders)
        let firstColumn = column(firstNameHeaders)
        let lastColumn = column(lastNameHeaders)
        let joinedColumn = column(ExportService.joinedHeaders)
        let confirmedColumn = column(ExportService.confirmedHeaders)
        let tagsColumn = column(ExportService.tagHeaders)
        let sourceColumn = service == .digest ? column(["source"]) : nil
        let serviceColumn = service == .digest ? column(["service"]) : nil
        let attributesColumn = service == .digest || service == .listmonk ? column(["attributes"]) : nil

        let (statusSource, statusFrom) = try findStatusSource(
            names: names, service: service, fileName: fileName, forced: forced)
        var statusColumns: [Int] = []
        switch statusSource {
        case .columns(let columns): statusColumns = columns
        case .flag(let index, _, let other): statusColumns = [index] + (other.map { [$0] } ?? [])
        case .file: break
        }
        let known = Set(
            [
                emailColumn, nameColumn, firstColumn, lastColumn, tagsColumn, sourceColumn, serviceColumn,
                attributesColumn,
            ]
            .compactMap { $0 } + statusColumns
                // digest's own times are its own columns; a service's stay among the attributes too.
                + (service == .digest ? [joinedColumn, confirmedColumn].compactMap { $0 } : []))

        var rows: [Row] = []
        var indexByAddress: [EmailAddress: Int] = [:]
        var byLowercased: [String: EmailAddress] = [:]
        var caseVariants: [CaseVariant] = []
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
            let status: Subscriber.Status
            switch readStatus(statusSource, field: field, service: service, names: names) {
            case .status(let read): status = forced.map { read == .active ? $0 : read } ?? read
            case .problem(let reason):
                rejected.append(Rejection(line: record.line, reason: reason))
                continue
            }
            var name = TextMarks.singleLine(field(nameColumn))
            if name.isEmpty {
                name = TextMarks.singleLine(
                    [field(firstColumn), field(lastColumn)].filter { !$0.isEmpty }.joined(separator: " "))
            }
            var attributes: [String: String] = [:]
            if let attributesColumn, let data = field(attributesColumn).data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                for (key, value) in object {
                    if let text = value as? String {
                        attributes[key] = text
                    } else if let encoded = try? JSONSerialization.data(
                        withJSONObject: value, options: [.fragmentsAllowed])
                    {
                        attributes[key] = String(decoding: encoded, as: UTF8.self)
                    }
                }
            }
            for (index, value) in record.fields.enumerated()
            where !known.contains(index) && index < header.fields.count && !value.isEmpty {
                attributes[header.fields[index]] = value
            }
            let json =
                (try? JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys])).map {
                    String(decoding: $0, as: UTF8.self)
                } ?? "{}"
            let source = field(sourceColumn)
            let serviceName = field(serviceColumn)
            var row = Row(
                line: record.line, address: address, name: name, status: status, attributesJSON: json,
                joinedAt: ExportService.time(field(joinedColumn)),
                confirmedAt: ExportService.time(field(confirmedColumn)),
                source: source.isEmpty ? nil : source, tags: ExportService.tags(field(tagsColumn)))
            row.service = serviceName.isEmpty ? nil : serviceName
            if let existing = indexByAddress[address] {
                // The same reader twice: keep the first row, fill a missing name, and let a leaving status win.
                duplicates += 1
                if rows[existing].name.isEmpty { rows[existing].name = row.name }
                rows[existing].status = stricter(rows[existing].status, row.status)
            } else {
                let folded = address.description.lowercased()
                if let other = byLowercased[folded] {
                    caseVariants.append(CaseVariant(line: record.line, address: address, other: other))
                } else {
                    byLowercased[folded] = address
                }
                indexByAddress[address] = rows.count
                rows.append(row)
            }
        }
        return Result(
            rows: rows, rejected: rejected, duplicates: duplicates, service: service, statusFrom: statusFrom,
            caseVariants: caseVariants)
    }

    /// Finds how the file says each reader's status, or refuses the file.
    static func findStatusSource(names: [String], service: ExportService, fileName: String, forced: Subscriber.Status?)
        throws -> (StatusSource, String)
    {
        func column(_ candidates: [String]) -> Int? { names.firstIndex(where: candidates.contains) }
        func forcedOr(_ reason: String) throws -> (StatusSource, String) {
            if let forced { return (.file(forced), "--status \(forced.rawValue)") }
            let file = fileName.isEmpty ? "the file" : fileName
            throw FileError(
                description: """
                    cannot tell whether the readers in \(file) are subscribed: \(reason). \
                    fix: name the status of every row with --status active, unsubscribed, bounced or complained \
                    (digest subscribers import \(fileName.isEmpty ? "FILE" : fileName) --status unsubscribed)
                    """)
        }
        switch service {
        case .mailchimp:
            let lower = URL(fileURLWithPath: fileName).lastPathComponent.lowercased()
            if names.contains("clean_time") || names.contains("clean_campaign_title") || lower.contains("cleaned") {
                return (.file(.bounced), "Mailchimp's cleaned export (CLEAN_TIME)")
            }
            if names.contains("unsub_time") || names.contains("unsub_campaign_title") || lower.contains("unsubscribed")
            {
                return (.file(.unsubscribed), "Mailchimp's unsubscribed export (UNSUB_TIME)")
            }
            if let index = column(statusHeaders) { return (.columns([index]), "the column \(names[index])") }
            if lower.contains("nonsubscribed") || lower.contains("non_subscribed") || lower.contains("pending")
                || lower.contains("archived") || lower.contains("transactional")
            {
                return try forcedOr(
                    "a Mailchimp export named like non-subscribed, pending, archived or transactional contacts")
            }
            if names.contains("optin_time") || names.contains("confirm_time") || names.contains("member_rating") {
                return (.file(.active), "Mailchimp's subscribed export (OPTIN_TIME, no UNSUB_TIME or CLEAN_TIME)")
            }
            return try forcedOr("a Mailchimp export without OPTIN_TIME, UNSUB_TIME or CLEAN_TIME")
        case .substack:
            guard let index = column(["email_disabled"]) else {
                return try forcedOr("a Substack export without its email_disabled column")
            }
            return (.flag(index, inverted: true, alsoLeftWhenSet: nil), "Substack's email_disabled")
        case .ghost:
            guard let index = column(["subscribed_to_emails"]) else {
                return try forcedOr("a Ghost export without subscribed_to_emails")
            }
            return (
                .flag(index, inverted: false, alsoLeftWhenSet: column(["deleted_at"])),
                "Ghost's subscribed_to_emails"
            )
        case .listmonk:
            let columns = ["status", "subscription_status"].compactMap { name in names.firstIndex(of: name) }
            return (.columns(columns), "listmonk's status and subscription_status")
        case .buttondown:
            return (
                .columns([names.firstIndex(of: "subscriber_type")].compactMap { $0 }), "Buttondown's subscriber_type"
            )
        case .kit, .beehiiv, .digest, .generic:
            let columns = names.indices.filter { statusHeaders.contains(names[$0]) }
            guard !columns.isEmpty else {
                if let forced { return (.file(forced), "--status \(forced.rawValue)") }
                return try forcedOr(
                    "no status column (looked for \(statusHeaders.joined(separator: ", ")); "
                        + "nor Mailchimp's UNSUB_TIME or CLEAN_TIME, Substack's email_disabled, Ghost's "
                        + "subscribed_to_emails, Buttondown's subscriber_type)")
            }
            return (.columns(columns), "the column \(columns.map { names[$0] }.joined(separator: " and "))")
        }
    }

    enum StatusReading {
        case status(Subscriber.Status)
        case problem(String)
    }

    static func readStatus(
        _ source: StatusSource, field: (Int?) -> String, service: ExportService, names: [String]
    ) -> StatusReading {
        switch source {
        case .file(let status): return .status(status)
        case .flag(let index, let inverted, let other):
            let text = field(index)
            guard let value = ExportService.flag(text) else {
                return .problem(
                    "\(names[index]) is '\(text)', neither true nor false: cannot tell whether the reader is subscribed"
                )
            }
            if let other, !field(other).isEmpty { return .status(.unsubscribed) }
            return .status(value != inverted ? .active : .unsubscribed)
        case .columns(let columns):
            var status = Subscriber.Status.active
            for index in columns {
                let text = field(index)
                if text.isEmpty && columns.count > 1 { continue }
                switch ExportService.read(text, service: service) {
                case .status(let read): status = stricter(status, read)
                case .pending(let word):
                    return .problem(
                        "\(names[index]) is '\(word)': the reader never confirmed their subscription, so they are "
                            + "not imported (they can sign up through the form)")
                case .unknown:
                    return .problem(
                        "unknown status '\(text)' in \(names[index]) (use active, unsubscribed, bounced or complained)")
                }
            }
            return .status(status)
        }
    }

    /// Writes subscribers as CSV (RFC 4180) with the columns `import` reads back.
    public static func header() -> String {
        "email,name,status,joined_at,source,confirmed_at,service,tags,attributes\r\n"
    }

    public static func line(_ subscriber: Subscriber) -> String {
        [
            subscriber.email.description, subscriber.name, subscriber.status.rawValue,
            Timestamp.format(subscriber.joinedAt),
            subscriber.source, subscriber.confirmedAt.map(Timestamp.format) ?? "", subscriber.service,
            subscriber.tagList.joined(separator: ", "), subscriber.attributes == "{}" ? "" : subscriber.attributes,
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
