import DigestCore
import DigestStore
import Foundation

/// `digest report`: what readers did with an edition, or with the last N days' editions.
public enum Report {
    /// One edition's report (today's when `date` is nil).
    public static func edition(workspace explicit: String?, date given: String?, environment: DigestEnvironment)
        throws -> EditionReport
    {
        let workspace = try environment.workspace(explicit)
        let publication = try workspace.loadPublication()
        let date = try environment.editionDate(given, publication: publication)
        guard let report = try environment.openStore(workspace).report(date: date.description) else {
            throw WorkflowError(
                "the edition of \(date) was not sent to subscribers, so there is nothing to report yet "
                    + "(digest runs lists the runs there are)", kind: .badInput)
        }
        return report
    }

    /// The last `days` days: the list's growth per day and each edition sent in them.
    public struct Range: Codable, Sendable {
        public var days: [Day]
        public var editions: [EditionReport]

        public init(days: [Day], editions: [EditionReport]) {
            self.days = days
            self.editions = editions
        }

        public struct Day: Codable, Sendable, Equatable {
            public var date: String
            public var joined: Int
            public var left: Int
            public var bounced: Int

            public init(date: String, joined: Int, left: Int, bounced: Int) {
                self.date = date
                self.joined = joined
                self.left = left
                self.bounced = bounced
            }
        }
    }

    public static func range(workspace explicit: String?, days: Int, environment: DigestEnvironment) throws -> Range {
        let workspace = try environment.workspace(explicit)
        let publication = try workspace.loadPublication()
        let store = try environment.openStore(workspace)
        let today = publication.today(at: environment.now())
        let zone = publication.timeZone
        let dates = (0..<days).reversed().map { today.adding(days: -$0) }
        let growth = try store.growth(
            days: dates.map { ($0.description, $0.start(in: zone), $0.adding(days: 1).start(in: zone)) })
        let first = dates.first?.description ?? today.description
        let editions = try store.sentEditionDates().filter { $0 >= first && $0 <= today.description }.compactMap {
            try store.report(date: $0)
        }
        return Range(
            days: growth.map { Range.Day(date: $0.date, joined: $0.joined, left: $0.left, bounced: $0.bounced) },
            editions: editions)
    }
}

/// The reports as text for a terminal `width` columns wide: figures, then bars.
public enum ReportText {
    public static func edition(_ report: EditionReport, width: Int = 80) -> String {
        var lines = ["\(report.date)  \"\(report.subject)\""]
        if let sentAt = report.sentAt {
            lines.append("sent from \(Timestamp.format(sentAt)) to \(report.recipients) readers")
        }
        lines.append("")
        let figures: [(String, Int?)] = [
            ("sent", report.sent), ("deferred", report.deferred), ("failed", report.failed),
            ("in doubt", report.inDoubt), ("left during the run", report.leftDuringRun),
            ("not yet sent", report.notYetSent), ("hard bounces", report.hardBounces),
            ("soft bounces", report.softBounces), ("complaints", report.complaints),
            ("unsubscribed after it", report.unsubscribes),
        ]
        for (name, value) in figures {
            lines.append("  " + pad(name, 22) + (value.map(String.init) ?? "not recorded"))
        }
        lines.append("")
        guard let stories = report.stories else {
            lines.append("Clicks are not counted (tracking.clicks: stories in publication.yaml counts them per story).")
            return joined(lines)
        }
        let total = stories.reduce(0) { $0 + $1.clicks }
        let scanners = stories.reduce(0) { $0 + $1.scannerClicks }
        lines.append("Clicks per story (\(total) by readers; \(scanners) more by link scanners, not counted):")
        let most = max(1, stories.map(\.clicks).max() ?? 1)
        let titleWidth = min(36, max(12, width / 3))
        let barWidth = max(5, width - titleWidth - 16)
        for story in stories {
            let bar = String(repeating: "█", count: story.clicks * barWidth / most)
            lines.append(
                "  " + pad("\(story.number). " + clip(story.title, titleWidth - 4), titleWidth) + " "
                    + pad(String(story.clicks), 5, right: true) + " " + bar)
        }
        return joined(lines)
    }

    public static func range(_ range: Report.Range, width: Int = 80) -> String {
        var lines = ["The list over \(range.days.count) days (joined +, left −, bounced ×):"]
        let most = max(1, range.days.map { max($0.joined, $0.left + $0.bounced) }.max() ?? 1)
        let barWidth = max(4, (width - 30) / 2)
        for day in range.days {
            let plus = String(repeating: "+", count: day.joined * barWidth / most)
            let minus =
                String(repeating: "−", count: day.left * barWidth / most)
                + String(repeating: "×", count: day.bounced * barWidth / most)
            lines.append(
                "  \(day.date) " + pad("+\(day.joined) −\(day.left) ×\(day.bounced)", 14) + " "
                    + pad(minus, barWidth, right: true)
                    + "|" + plus)
        }
        lines.append("")
        lines.append("Editions (sent; clicks by readers; unsubscribed after):")
        let mostSent = max(1, range.editions.map(\.sent).max() ?? 1)
        let editionBar = max(4, width - 42)
        for edition in range.editions {
            let bar = String(repeating: "█", count: edition.sent * editionBar / mostSent)
            lines.append(
                "  \(edition.date) " + pad(String(edition.sent), 6, right: true) + " "
                    + pad(edition.clicks.map { "\($0) clicks" } ?? "–", 11) + pad("\(edition.unsubscribes) left", 8)
                    + " "
                    + bar)
        }
        if range.editions.isEmpty { lines.append("  none sent in these days") }
        return joined(lines)
    }

    /// The lines without trailing spaces (an empty bar leaves some), one newline each.
    static func joined(_ lines: [String]) -> String {
        lines.map { line in
            var line = Substring(line)
            while line.last == " " { line = line.dropLast() }
            return String(line)
        }.joined(separator: "\n") + "\n"
    }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let length = DisplayWidth.of(text)
        guard length < width else { return text }
        let space = String(repeating: " ", count: width - length)
        return right ? space + text : text + space
    }

    static func clip(_ text: String, _ width: Int) -> String {
        guard DisplayWidth.of(text) > width else { return text }
        var out = ""
        for character in text {
            if DisplayWidth.of(out + String(character)) >= width { break }
            out.append(character)
        }
        return out + "…"
    }
}
