import Foundation
import Yams

/// Reads typed fields out of a parsed YAML document and records a located `Problem` for every field
/// that is missing, misspelt or of the wrong type, so one pass reports all of them.
final class YAMLReader {
    let file: String
    private(set) var problems: [Problem] = []

    init(file: String) {
        self.file = file
    }

    /// Parses `text` into a node tree; a syntax error becomes a problem with the parser's line and column.
    func parse(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                let shape =
                    file.hasSuffix("publication.yaml")
                    ? "digest init writes a commented one; docs/configuration.md lists every field"
                    : "docs/configuration.md shows the shape of an edition; or delete the file and run digest gather"
                report(nil, "the file is empty", fix: shape)
                return nil
            }
            return node
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
                let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                problems.append(
                    Problem(
                        file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(detail)",
                        fix: "check the indentation and quoting near this line; text with ': ' or '#' needs quotes"))
            case .duplicatedKeysInMapping(let names, let context):
                problems += duplicateKeyProblems(names, line: context.mark.line, column: context.mark.column, in: text)
            default:
                problems.append(Problem(file: file, message: "YAML syntax: \(error)"))
            }
            return nil
        } catch {
            problems.append(Problem(file: file, message: "YAML syntax: \(error)"))
            return nil
        }
    }

    /// A problem for each key that appears more than once in one mapping, at its second appearance.
    ///
    /// Yams names the keys and where the first of them first appears, but not the mapping's other lines:
    /// they are found in the text, as the keys at the same column in the same block mapping (a flow
    /// mapping, `{a: 1, a: 2}`, gets the first key's place).
    func duplicateKeyProblems(_ names: [String], line: Int, column: Int, in text: String) -> [Problem] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            Array($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
        let keyColumn = column - 1
        /// The key that starts at the key column, when everything before it is blanks or a list's "- ".
        func key(at number: Int) -> String? {
            let characters = lines[number]
            guard characters.count > keyColumn, characters[keyColumn] != " ", characters[keyColumn] != "-",
                characters[keyColumn] != "#", characters[..<keyColumn].allSatisfy({ $0 == " " || $0 == "-" }),
                let colon = characters[keyColumn...].firstIndex(of: ":")
            else { return nil }
            let name = String(characters[keyColumn..<colon]).trimmingCharacters(in: .whitespaces)
            let quoted = name.count >= 2 && (name.first == "\"" || name.first == "'")
            return quoted ? String(name.dropFirst().dropLast()) : name
        }
        /// A line outside the mapping: less indented than its keys and not one of them.
        func outside(_ number: Int) -> Bool {
            let characters = lines[number]
            let indent = characters.prefix { $0 == " " }.count
            if indent == characters.count || characters[indent] == "#" { return false }
            return indent < keyColumn && key(at: number) == nil
        }
        /// The first line of a list item's mapping (`- key: value`).
        func startsItem(_ number: Int) -> Bool {
            key(at: number) != nil && lines[number][..<keyColumn].contains("-")
        }
        var first = max(0, min(line - 1, lines.count - 1))
        while first > 0, !startsItem(first), !outside(first - 1) { first -= 1 }
        var seen: [String: [Int]] = [:]
        var number = first
        while number < lines.count, number == first || (!outside(number) && !startsItem(number)) {
            if let name = key(at: number), names.contains(name) { seen[name, default: []].append(number + 1) }
            number += 1
        }
        return names.map { name in
            let fix = "keep one '\(name):' in this mapping and delete the other (YAML allows each key once)"
            guard let places = seen[name], places.count >= 2 else {
                return Problem(
                    file: file, line: line, column: column, message: "'\(name)' appears twice in this mapping", fix: fix
                )
            }
            return Problem(
                file: file, line: places[1], column: column,
                message:
                    "'\(name)' appears \(places.count == 2 ? "twice" : "\(places.count) times") (first on line \(places[0]))",
                fix: fix)
        }
    }

    func report(_ node: Node?, _ message: String, fix: String? = nil) {
        problems.append(
            Problem(file: file, line: node?.mark?.line, column: node?.mark?.column, message: message, fix: fix))
    }

    /// The mapping of `node`, checking that it holds only `allowed` keys.
    func mapping(_ node: Node, named what: String, allowed: [String]) -> Node.Mapping? {
        guard case .mapping(let mapping) = node else {
            report(node, "\(what) must be a mapping of 'key: value' lines")
            return nil
        }
        for key in mapping.keys {
            guard let name = key.scalar?.string else {
                report(key, "\(what) has a key that is not text")
                continue
            }
            if !allowed.contains(name) {
                let suggestion = Self.closest(to: name, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                report(
                    key, "unknown field '\(name)' in \(what)\(suggestion)",
                    fix: "the fields of \(what) are: \(allowed.joined(separator: ", "))")
            }
        }
        return mapping
    }

    func string(_ mapping: Node.Mapping, _ key: String, in what: String, required: Bool = false) -> String? {
        guard let node = mapping[key] else {
            if required { report(mapping.first?.key, "\(what) is missing '\(key)'") }
            return nil
        }
        guard case .scalar(let scalar) = node else {
            report(node, "'\(key)' in \(what) must be text, not a list or mapping")
            return nil
        }
        if node.null != nil && scalar.style == .plain {
            if required { report(node, "'\(key)' in \(what) is empty") }
            return nil
        }
        let value = scalar.string
        if required && value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            report(node, "'\(key)' in \(what) is empty")
            return nil
        }
        return value
    }

    func int(_ mapping: Node.Mapping, _ key: String, in what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node = mapping[key] else { return nil }
        guard let text = node.scalar?.string, let value = Int(text) else {
            report(node, "'\(key)' in \(what) must be a whole number")
            return nil
        }
        if let range, !range.contains(value) {
            report(node, "'\(key)' in \(what) must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return value
    }

    func bool(_ mapping: Node.Mapping, _ key: String, in what: String) -> Bool? {
        guard let node = mapping[key] else { return nil }
        switch node.scalar?.string.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            report(node, "'\(key)' in \(what) must be true or false")
            return nil
        }
    }

    func sequence(_ mapping: Node.Mapping, _ key: String, in what: String, required: Bool = false) -> [Node]? {
        guard let node = mapping[key] else {
            if required { report(mapping.first?.key, "\(what) is missing '\(key)'") }
            return nil
        }
        if node.null != nil { return [] }
        guard case .sequence(let sequence) = node else {
            report(node, "'\(key)' in \(what) must be a list ('- ' lines)")
            return nil
        }
        return Array(sequence)
    }

    func strings(_ mapping: Node.Mapping, _ key: String, in what: String) -> [String] {
        guard let nodes = sequence(mapping, key, in: what) else { return [] }
        return nodes.compactMap { node in
            guard let text = node.scalar?.string else {
                report(node, "'\(key)' in \(what) must be a list of text")
                return nil
            }
            return text
        }
    }

    /// An absolute http(s) URL.
    func url(_ mapping: Node.Mapping, _ key: String, in what: String, required: Bool = false) -> String? {
        guard let text = string(mapping, key, in: what, required: required) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard Self.isWebURL(trimmed) else {
            report(mapping[key], "'\(key)' in \(what) must be a full http:// or https:// address, not '\(text)'")
            return nil
        }
        return trimmed
    }

    func timestamp(_ mapping: Node.Mapping, _ key: String, in what: String) -> Date? {
        guard let text = string(mapping, key, in: what) else { return nil }
        guard let date = Timestamp.parse(text) else {
            report(
                mapping[key], "'\(key)' in \(what) is not a date and time: '\(text)'",
                fix: "write it as 2017-11-18T09:30:00Z or 2017-11-18T09:30:00+01:00")
            return nil
        }
        return date
    }

    static func isWebURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return false }
        return !text.contains(where: { $0.isWhitespace })
    }

    /// The allowed name nearest to a misspelt one, when it is near enough to be a typo.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(name.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(1, name.count / 3) else { return nil }
        return best.0
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours
    /// ("vidoe" is one step from "video").
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

/// RFC 3339 timestamps as the edition file writes them.
public enum Timestamp {
    /// Reads `2017-11-18T09:30:00Z`, `2017-11-18T09:30:00.5+01:00` or `2017-11-18 09:30:00 +01:00`.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + digits] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2)
        else { return nil }
        var second = 0.0
        if expect(":") {
            guard let whole = number(2) else { return nil }
            second = Double(whole)
            if expect(".") {
                let start = index
                while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
                guard index > start, let fraction = Double("0." + String(decoding: bytes[start..<index], as: UTF8.self))
                else { return nil }
                second += fraction
            }
        }
        while index < bytes.count, bytes[index] == 32 { index += 1 }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let hours = number(2) else { return nil }
            _ = expect(":")
            guard let minutes = number(2) else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count, EditionDate(year: year, month: month, day: day) != nil, hour < 24, minute < 60,
            second < 61
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        guard let base = Calendar.gregorian(in: TimeZone(identifier: "UTC") ?? .current).date(from: components)
        else { return nil }
        return base.addingTimeInterval(second - Double(offset))
    }

    /// `2017-11-18T09:30:00Z`.
    public static func format(_ date: Date) -> String {
        let calendar = Calendar.gregorian(in: TimeZone(identifier: "UTC") ?? .current)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
            c.second ?? 0)
    }
}
