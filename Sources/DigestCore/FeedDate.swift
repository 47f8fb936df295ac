import Foundation

/// Dates as feeds write them: RFC 822 (with every zone form real feeds use and their usual mistakes)
/// and RFC 3339 / ISO 8601.
public enum FeedDate {
    static let months: [String: Int] = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
        "nov": 11, "dec": 12, "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7, "august": 8,
        "september": 9, "october": 10, "november": 11, "december": 12,
    ]

    /// Zone names of RFC 822 and the ones feeds add, in minutes east of UTC.
    static let zones: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
        "mdt": -360, "pst": -480, "pdt": -420, "bst": 60, "cet": 60, "cest": 120, "eet": 120, "eest": 180,
        "ist": 330, "jst": 540, "aest": 600, "msk": 180, "a": 60, "m": 720, "n": -60, "y": -720,
    ]

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil): plain
    /// arithmetic, no Calendar, for thousands of dates a second.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func parse(_ raw: String) -> Date? {
        let text = raw.trimmedASCII
        guard !text.isEmpty else { return nil }
        if let first = text.first, first.isNumber, text.count >= 10, text.dropFirst(4).first == "-" {
            return iso(text)
        }
        return rfc822Common(text) ?? rfc822(text)
    }

    /// The layout nearly every feed uses, `Sat, 18 Nov 2017 09:30:00 +0000` (or `GMT`), read byte by
    /// byte; nil for anything else, which `rfc822` then reads word by word.
    static func rfc822Common(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = bytes[index + offset]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += digits
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        // "Sat, " – any three letters; the weekday says nothing the date does not.
        if bytes.count > 5, bytes[3] == 0x2C, bytes[4] == 0x20 { index = 5 }
        let twoDigitDay = index + 1 < bytes.count && bytes[index + 1] != 0x20
        guard let day = number(twoDigitDay ? 2 : 1), expect(0x20), index + 4 <= bytes.count else { return nil }
        let name = String(decoding: bytes[index..<index + 3], as: UTF8.self).lowercased()
        guard let month = months[name] else { return nil }
        index += 3
        guard expect(0x20), let year = number(4), expect(0x20), let hour = number(2), expect(0x3A),
            let minute = number(2)
        else { return nil }
        var second = 0
        if expect(0x3A) {
            guard let value = number(2) else { return nil }
            second = value
        }
        guard expect(0x20) else { return nil }
        var offset: Int
        let zone = bytes[index...]
        if zone.elementsEqual("GMT".utf8) || zone.elementsEqual("UTC".utf8) || zone.elementsEqual("Z".utf8) {
            offset = 0
        } else if zone.count == 5, zone.first == 0x2B || zone.first == 0x2D {
            let sign = zone.first == 0x2D ? -1 : 1
            index += 1
            guard let value = number(4) else { return nil }
            offset = sign * (value / 100 * 60 + value % 100)
        } else {
            return nil
        }
        guard EditionDate(year: year, month: month, day: day) != nil, hour < 24, minute < 60, second < 61 else {
            return nil
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds - offset * 60))
    }

    /// `2017-11-18T09:30:00Z`, with or without seconds, fraction or `T`; a missing zone is UTC.
    static func iso(_ text: String) -> Date? {
        if let date = Timestamp.parse(text) { return date }
        var candidate = text
        if candidate.count == 10 { candidate += "T00:00:00Z" }
        // 2017-11-18T09:30Z or 2017-11-18T09:30+01:00: add the seconds.
        if candidate.count >= 16, candidate.dropFirst(13).prefix(1) == ":", !(candidate.dropFirst(16).first == ":") {
            let index = candidate.index(candidate.startIndex, offsetBy: 16)
            candidate.insert(contentsOf: ":00", at: index)
        }
        if let date = Timestamp.parse(candidate) { return date }
        // No zone at all: read as UTC.
        if let date = Timestamp.parse(candidate + "Z") { return date }
        // +0100 without a colon.
        if candidate.count >= 5, let last = candidate.last, last.isNumber {
            let suffix = candidate.suffix(5)
            if suffix.first == "+" || suffix.first == "-", suffix.dropFirst().allSatisfy(\.isNumber) {
                let fixed = String(candidate.dropLast(2)) + ":" + String(candidate.suffix(2))
                return Timestamp.parse(fixed)
            }
        }
        return nil
    }

    /// `Sat, 18 Nov 2017 09:30:00 +0000` and its variants: no weekday, a wrong weekday, two-digit years,
    /// full month names, no seconds, zone names, `+01:00`, a missing zone (UTC).
    static func rfc822(_ text: String) -> Date? {
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map { String($0) }
        // The weekday says nothing the date does not; feeds get it wrong often.
        if let first = words.first, first.first?.isLetter == true, months[first.lowercased()] == nil {
            words.removeFirst()
        }
        guard words.count >= 3 else { return nil }
        var day: Int?
        var month: Int?
        // "18 Nov 2017" or "Nov 18 2017".
        if let d = Int(words[0]), let m = months[String(words[1].lowercased().filter(\.isLetter))] {
            day = d
            month = m
        } else if let m = months[words[0].lowercased()], let d = Int(words[1]) {
            day = d
            month = m
        }
        guard let day, let month, var year = Int(words[2]) else { return nil }
        if year < 100 { year += year < 50 ? 2000 : 1900 }
        var hour = 0
        var minute = 0
        var second = 0
        var rest = Array(words.dropFirst(3))
        if let time = rest.first, time.contains(":") {
            let parts = time.split(separator: ":").map { Int($0) }
            guard parts.count >= 2, parts.allSatisfy({ $0 != nil }) else { return nil }
            hour = parts[0] ?? 0
            minute = parts[1] ?? 0
            second = parts.count > 2 ? parts[2] ?? 0 : 0
            rest.removeFirst()
        }
        var offset = 0
        if let zone = rest.first {
            if let known = zones[zone.lowercased()] {
                offset = known
            } else if zone.first == "+" || zone.first == "-" {
                let digits = zone.dropFirst().replacingOccurrences(of: ":", with: "")
                guard digits.count == 4, let value = Int(digits) else { return nil }
                offset = (value / 100 * 60 + value % 100) * (zone.first == "-" ? -1 : 1)
            } else if zone.count == 4, let value = Int(zone) {
                offset = value / 100 * 60 + value % 100
            }
        }
        guard EditionDate(year: year, month: month, day: day) != nil, hour < 24, minute < 60, second < 61 else {
            return nil
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds - offset * 60))
    }
}
