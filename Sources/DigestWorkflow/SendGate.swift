import DigestCore
import Foundation

/// What stands between an edition and the subscribers: the offline checks, and the editor's approval
/// (`digest check` passed on these very files) that a timer's `digest send --if-checked` asks for.
public enum SendGate {
    /// Runs the offline checks (no link is fetched); errors refuse the send, naming each and the way to
    /// send anyway.
    public static func check(_ loaded: LoadedEdition) throws -> Check.Report {
        let report = Check.run(loaded, linkTimeout: nil)
        guard report.errors > 0 else { return report }
        let errors = report.findings.filter { $0.severity == .error }.map { "  \($0)" }
        let count = "\(report.errors) error\(report.errors == 1 ? "" : "s")"
        throw WorkflowError(
            (["\(loaded.displayPath) has \(count), so it was not sent:"] + errors + [
                "Fix \(report.errors == 1 ? "it" : "them") (digest check \(loaded.edition.date) shows each with its fix), "
                    + "or send the edition as it is with --no-check."
            ]).joined(separator: "\n"), kind: .badInput)
    }

    /// The file that records an approval, beside the edition.
    static func approvalFile(_ loaded: LoadedEdition) -> URL {
        loaded.workspace.editionFolder(loaded.edition.date).appendingPathComponent(".checked")
    }

    static func stamp(_ loaded: LoadedEdition) -> String {
        "edition \(Fingerprint.edition(loaded))\ntemplates \(Fingerprint.templates(loaded))\n"
    }

    /// Records that `digest check` found no error in the edition as its files are now.
    public static func approve(_ loaded: LoadedEdition) throws {
        do {
            try Data(stamp(loaded).utf8).write(to: approvalFile(loaded), options: .atomic)
        } catch {
            throw WorkflowError("cannot write \(approvalFile(loaded).path): \(error.localizedDescription)")
        }
    }

    /// Forgets an approval (the checks found errors).
    public static func revoke(_ loaded: LoadedEdition) {
        try? FileManager.default.removeItem(at: approvalFile(loaded))
    }

    /// Refuses unless `digest check` passed on the edition, its templates and publication.yaml exactly as
    /// they are now: a timer never mails an edition nobody checked, or one changed after its check.
    public static func requireApproval(_ loaded: LoadedEdition) throws {
        let recorded = FileManager.default.contents(atPath: approvalFile(loaded).path).map {
            String(decoding: $0, as: UTF8.self)
        }
        let date = loaded.edition.date
        guard let recorded else {
            throw WorkflowError(
                "\(loaded.displayPath) has not passed digest check: not sent (--if-checked). "
                    + "Run digest check \(date), then send again.", kind: .badInput)
        }
        guard recorded == stamp(loaded) else {
            throw WorkflowError(
                "\(loaded.displayPath) or its templates changed after digest check passed: not sent (--if-checked). "
                    + "Run digest check \(date) again, then send.", kind: .badInput)
        }
    }
}

/// `digest send --at HH:MM`: waiting for a time of day in the publication's time zone.
public enum Schedule {
    /// The moment `time` (`HH:MM` or `HH:MM:SS`) today in `timeZone`, as seen at `now`; nil when `time` is not
    /// a time of day.
    public static func moment(_ time: String, on now: Date, in timeZone: TimeZone) -> Date? {
        let parts = time.split(separator: ":").map { Int($0) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0 != nil }) else { return nil }
        let hour = parts[0] ?? -1
        let minute = parts[1] ?? -1
        let second = parts.count == 3 ? parts[2] ?? -1 : 0
        guard (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second) else { return nil }
        let start = EditionDate(containing: now, in: timeZone).start(in: timeZone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(bySettingHour: hour, minute: minute, second: second, of: start)
    }

    /// Waits until `moment` by the wall clock. It sleeps a few seconds at a time and looks at the clock
    /// again, so a laptop suspended past the moment sends as soon as it wakes rather than hours later.
    /// `stopped` ends the wait early (Ctrl-C) and returns false.
    public static func wait(
        until moment: Date, now: @Sendable () -> Date,
        sleep: (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) },
        stopped: () -> Bool = { false }
    ) -> Bool {
        while now() < moment {
            if stopped() { return false }
            sleep(min(2, max(0.05, moment.timeIntervalSince(now()))))
        }
        return !stopped()
    }
}
