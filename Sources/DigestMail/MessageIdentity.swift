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
        return String(format: "%016llx%016llx", generator.next() as UInt64, generator.next() as UInt64)
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
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let offset = timeZone.secondsFromGMT(for: date) / 60
        let sign = offset < 0 ? "-" : "+"
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d %@%02d%02d", days[(c.weekday ?? 1) - 1], c.day ?? 1,
            months[(c.month ?? 1) - 1], c.year ?? 1970, c.hour ?? 0, c.minute ?? 0, c.second ?? 0, sign,
            abs(offset) / 60, abs(offset) % 60)
    }
}
