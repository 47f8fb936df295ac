import Foundation

/// A calendar day in the publication's time zone: the name of an edition (`2017-11-18`).
public struct EditionDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date from `YYYY-MM-DD`, or returns nil when the text is not a real calendar day.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= EditionDate.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day that `instant` falls on in `timeZone`.
    public init(containing instant: Date, in timeZone: TimeZone) {
        let parts = Calendar.gregorian(in: timeZone).dateComponents([.year, .month, .day], from: instant)
        self.year = parts.year ?? 1970
        self.month = parts.month ?? 1
        self.day = parts.day ?? 1
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// Midnight at the start of this day in `timeZone`.
    public func start(in timeZone: TimeZone) -> Date {
        let components = DateComponents(year: year, month: month, day: day)
        return Calendar.gregorian(in: timeZone).date(from: components) ?? Date(timeIntervalSince1970: 0)
    }

    /// The day `days` days later (earlier when negative).
    public func adding(days: Int) -> EditionDate {
        // Noon UTC never crosses a day boundary by a time-zone rule.
        let utc = TimeZone(identifier: "UTC") ?? .current
        let noon = start(in: utc).addingTimeInterval(12 * 3600 + Double(days) * 86_400)
        return EditionDate(containing: noon, in: utc)
    }

    /// The day in words, in English: "Saturday 18 November 2017".
    public var longText: String {
        let weekday = EnglishCalendarNames.weekdays[weekdayIndex]
        return "\(weekday) \(day) \(EnglishCalendarNames.months[month - 1]) \(year)"
    }

    /// 0 = Sunday … 6 = Saturday (Zeller-free: days since a known Sunday).
    var weekdayIndex: Int {
        // Days since 1970-01-01 (a Thursday) by the civil-from-days inverse.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return ((days % 7) + 11) % 7
    }

    public static func < (lhs: EditionDate, rhs: EditionDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// English names, fixed: mail headers and the default templates must not follow the machine's locale
/// (under an Arabic locale a default formatter writes Hijri dates in Arabic digits).
public enum EnglishCalendarNames {
    public static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    public static let months = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]
}

extension Calendar {
    /// The Gregorian calendar in `timeZone` with the POSIX locale: the only calendar digest formats dates with.
    public static func gregorian(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.locale = Locale(identifier: "en_US_POSIX")
        return calendar
    }
}
