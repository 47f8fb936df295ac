import DigestCore
import Foundation
import GRDB

/// A reader on the list.
public struct Subscriber: Equatable, Sendable, Codable, FetchableRecord, MutablePersistableRecord {
    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case active, unsubscribed, bounced, complained
    }

    public static let databaseTableName = "subscriber"

    public var id: Int64?
    /// The address as given, with the domain in lower case.
    public var email: EmailAddress
    public var name: String
    public var status: Status
    public var joinedAt: Date
    /// How the reader joined: `import:readers.csv`, `add`, …
    public var source: String
    /// Other columns of an import, as a JSON object of strings.
    public var attributes: String
    public var updatedAt: Date
    /// When the reader confirmed they want the mail (double opt-in, an export's confirm time), if known.
    public var confirmedAt: Date?
    /// The service an imported reader came from (`mailchimp`, `substack`…); empty otherwise.
    public var service: String
    /// Tags and labels, as a JSON array of strings.
    public var tags: String

    /// The tags as a list.
    public var tagList: [String] {
        guard let data = tags.data(using: .utf8), let list = try? JSONDecoder().decode([String].self, from: data)
        else { return [] }
        return list
    }

    public init(
        id: Int64? = nil, email: EmailAddress, name: String = "", status: Status = .active, joinedAt: Date,
        source: String,
        attributes: String = "{}", updatedAt: Date, confirmedAt: Date? = nil, service: String = "", tags: String = "[]"
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.status = status
        self.joinedAt = joinedAt
        self.source = source
        self.attributes = attributes
        self.updatedAt = updatedAt
        self.confirmedAt = confirmedAt
        self.service = service
        self.tags = tags
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// Addresses are stored as text, as written in SMTP (the domain in lower case), and read back typed.
extension EmailAddress: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> EmailAddress? {
        String.fromDatabaseValue(dbValue).flatMap { EmailAddress($0) }
    }
}
