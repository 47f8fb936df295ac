import Foundation

/// Where Message-IDs and MIME boundaries come from: random in production, a counter in tests,
/// so that a rendered `.eml` is byte-stable and can be a golden file.
public protocol MessageIdentity: Sendable {
    /// A fresh Message-ID, without angle brackets: `unique@domain`.
    func messageID(domain: String) -> String
    /// A fresh MIME boundary. Starting with `=_` it can never occur in quoted-printable or base64 text.
    func boundary() -> String
}

/// 128 random bits per identifier from the system's generator.
public struct RandomMessageIdentity: MessageIdentity {
    public init() {}

    public func messageID(domain: String) -> String {
        "\(Self.randomHex()).digest@\(domain)"
    }

    public func boundary() -> String {
        "=_digest_\(Self.randomHex())"
    }

    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8](repeating: 0, count: 32)
        for half in 0..<2 {
            var value: UInt64 = generator.next()
            for index in stride(from: half * 16 + 15, through: half * 16, by: -1) {
                output[index] = digits[Int(value & 15)]
                value >>= 4
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Identifiers numbered from a seed: the same seed gives the same messages.
public final class SequentialMessageIdentity: MessageIdentity, @unchecked Sendable {
    private let lock = NSLock()
    private let seed: String
    private var counter = 0

    public init(seed: String = "test") {
        self.seed = seed
    }

    private func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return counter
    }

    public func messageID(domain: String) -> String {
        "\(seed).\(next()).digest@\(domain)"
    }

    public func boundary() -> String {
        "=_digest_\(seed)_\(next())"
    }
}

/// RFC 5322 dates (`Sat, 18 Nov 2017 07:00:00 +0000`), always Gregorian, English and in the given zone,
/// whatever the machine's locale.
public enum MailDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(_ date: Date, timeZone: TimeZone) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + offset
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - days * 86_400
        // Days since 1970-01-01 to a Gregorian date (Howard Hinnant's civil_from_days).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4).
        let minutes = abs(offset) / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        let zone = (offset < 0 ? "-" : "+") + two(minutes / 60) + two(minutes % 60)
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(Self.days[weekday]), \(two(day)) \(months[month - 1]) \(yearText) "
            + "\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) \(zone)"
    }
}
