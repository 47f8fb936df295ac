import DigestCore
import Foundation

/// The newsletter services whose subscriber exports `digest subscribers import` reads, recognised by
/// their header rows, and how each one says whether a reader is still on the list. The rule throughout:
/// a value that is not known is an error for its row, never "active", and a file whose status cannot be
/// told is refused whole unless the editor names the status of the whole file.
public enum ExportService: String, Sendable, CaseIterable {
    /// digest's own export (`email,name,status,joined_at,source,…`).
    case digest
    /// Mailchimp: one file per status (subscribed, unsubscribed, cleaned), no status column.
    case mailchimp
    case substack
    /// Ghost's members CSV.
    case ghost
    case listmonk
    case buttondown
    /// Kit, formerly ConvertKit.
    case kit
    case beehiiv
    /// Any other CSV with a status column.
    case generic

    public var displayName: String {
        switch self {
        case .digest: "digest"
        case .mailchimp: "Mailchimp"
        case .substack: "Substack"
        case .ghost: "Ghost"
        case .listmonk: "listmonk"
        case .buttondown: "Buttondown"
        case .kit: "Kit (ConvertKit)"
        case .beehiiv: "beehiiv"
        case .generic: "CSV"
        }
    }

    /// Mailchimp's columns: any of them (with "Email Address") marks a Mailchimp export.
    static let mailchimpMarkers = [
        "member_rating", "optin_time", "optin_ip", "confirm_time", "confirm_ip", "last_changed", "leid", "euid",
        "unsub_time", "unsub_campaign_title", "unsub_reason", "clean_time", "clean_campaign_title",
    ]

    /// Recognises the service from the header row's lower-cased names.
    static func detect(_ names: [String]) -> ExportService {
        let set = Set(names)
        if set.contains("email address") && !set.isDisjoint(with: mailchimpMarkers) { return .mailchimp }
        if set.contains("email_disabled") || (set.contains("active_subscription") && set.contains("expiry")) {
            return .substack
        }
        if set.contains("subscribed_to_emails") { return .ghost }
        if set.contains("subscriber_type") { return .buttondown }
        if set.contains("uuid") && set.contains("status") && (set.contains("attributes") || set.contains("name")) {
            return .listmonk
        }
        if set.contains("subscription_status") && set.contains("uuid") { return .listmonk }
        if !set.isDisjoint(with: ["utm_source", "utm_medium", "utm_channel", "referring_site", "referral_code"])
            && set.contains("status")
        {
            return .beehiiv
        }
        if set.contains("state") && (set.contains("first_name") || set.contains("email_address")) { return .kit }
        if set.contains("joined_at") && set.contains("source") && set.contains("status") { return .digest }
        return .generic
    }

    /// What one status word says: a status, or a reason the row cannot be imported.
    enum Reading: Equatable {
        case status(Subscriber.Status)
        case pending(String)
        case unknown
    }

    /// The status words every service's export uses, mapped; anything else is unknown.
    static func read(_ text: String, service: ExportService) -> Reading {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch (service, word) {
        // listmonk: a blocklisted address gets nothing and cannot sign up again through a form.
        case (.listmonk, "enabled"): return .status(.active)
        case (.listmonk, "blocklisted"), (.listmonk, "blacklisted"): return .status(.complained)
        case (.listmonk, "disabled"): return .status(.unsubscribed)
        // Kit: cancelled is an unsubscribe; inactive is a reader who never confirmed.
        case (.kit, "cancelled"), (.kit, "canceled"): return .status(.unsubscribed)
        case (.kit, "inactive"): return .pending(word)
        // beehiiv: inactive is an unsubscribe; invalid is an address that cannot receive.
        case (.beehiiv, "inactive"): return .status(.unsubscribed)
        case (.beehiiv, "invalid"): return .status(.bounced)
        case (.beehiiv, "needs_attention"), (.beehiiv, "needs attention"): return .pending(word)
        default: break
        }
        switch word {
        case "active", "subscribed", "confirmed", "regular", "free", "paid", "premium", "comped", "gifted", "trialed",
            "churning", "past_due", "unpaid", "enabled":
            return .status(.active)
        case "unsubscribed", "unsubscribe", "opted out", "opted-out", "opted_out", "inactive", "removed", "cancelled",
            "canceled", "churned", "paused", "disabled":
            return .status(.unsubscribed)
        case "bounced", "bounce", "cleaned", "hard bounce", "hard_bounce", "undeliverable", "invalid":
            return .status(.bounced)
        case "complained", "complaint", "spam", "spammy", "spam complaint", "abuse", "blocklisted", "blacklisted":
            return .status(.complained)
        case "pending", "unconfirmed", "unactivated", "validating", "not confirmed", "awaiting confirmation":
            return .pending(word)
        default: return .unknown
        }
    }

    /// A yes/no cell (Substack's `email_disabled`, Ghost's `subscribed_to_emails`); nil when neither.
    static func flag(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "t", "yes", "y", "1": true
        case "false", "f", "no", "n", "0": false
        default: nil
        }
    }

    /// The time columns read as when the reader joined and when they confirmed, first found wins.
    static let joinedHeaders = [
        "joined_at", "optin_time", "created_at", "creation_date", "created", "subscribed_at", "subscribe_date",
        "date_subscribed", "signup_date",
    ]
    static let confirmedHeaders = ["confirmed_at", "confirm_time", "confirmation_date", "opted_in_at"]
    static let tagHeaders = ["tags", "labels", "tag"]
    static let sourceHeaders = ["source", "signup_source", "subscription_source", "acquisition_source", "utm_source"]

    /// An export's time: ISO 8601 with a zone, `2024-01-15 10:20:30` (Mailchimp: UTC, no zone), or a date.
    static func time(_ text: String) -> Date? {
        var value = text.trimmingCharacters(in: .whitespaces)
        if value.isEmpty { return nil }
        if let date = Timestamp.parse(value) { return date }
        if value.hasSuffix(" UTC") || value.hasSuffix(" GMT") { value = String(value.dropLast(4)) }
        // PostgreSQL's `+00` (listmonk): an offset in hours only.
        let tail = Array(value.utf8.suffix(3))
        if tail.count == 3, tail[0] == 0x2B || tail[0] == 0x2D, tail[1...].allSatisfy({ (48...57).contains($0) }),
            let date = Timestamp.parse(value + ":00")
        {
            return date
        }
        if let date = Timestamp.parse(value + "Z") { return date }
        if value.count == 10, let date = Timestamp.parse(value + "T00:00:00Z") { return date }
        return nil
    }

    /// Tags as a list: a JSON array, or names separated by commas (each perhaps in quotes, as Mailchimp
    /// writes them).
    static func tags(_ text: String) -> [String] {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.isEmpty { return [] }
        if value.hasPrefix("["), let data = value.data(using: .utf8),
            let array = try? JSONSerialization.jsonObject(with: data) as? [Any]
        {
            return array.compactMap { item in
                if let text = item as? String { return text }
                if let object = item as? [String: Any] { return object["name"] as? String }
                return nil
            }
        }
        var seen = Set<String>()
        return value.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}
