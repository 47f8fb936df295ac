import ArgumentParser
import DigestCore
import DigestStore
import DigestWorkflow
import Foundation

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Show the send runs and their state, without sending anything.",
        discussion: """
            Without a date: every run, one line each (started, last session, finished, counts per state, the
            relay). With a date: that edition's runs with their full lists: in doubt, deferred with the next
            attempt, failed with the server's reply, and readers who left during the run.
              digest runs
              digest runs 2017-11-18 --json
            """)

    @Argument(help: "An edition's date, YYYY-MM-DD, for its full lists.") var date: String?
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let environment = Live.environment
        if let date {
            let details = try Runs.details(workspace: options.workspace, date: date, environment: environment)
            if json { return try Console.json(details.map(RunJSON.init)) }
            if details.isEmpty { Console.out("No run of \(date) yet.") }
            for detail in details {
                Console.out(Self.line(detail.run))
                let lists: [(String, [Delivery])] = [
                    ("In doubt (perhaps delivered; --resend-in-doubt sends them again)", detail.inDoubt),
                    ("Deferred", detail.deferred), ("Failed", detail.failed),
                    ("Left the list during the run (not sent)", detail.left),
                ]
                for (heading, deliveries) in lists where !deliveries.isEmpty {
                    Console.out("  \(heading): \(deliveries.count)")
                    for delivery in deliveries {
                        let next = delivery.nextAttemptAt.map { "  next try \(Timestamp.format($0))" } ?? ""
                        Console.out("    \(delivery.email)  \(delivery.reply ?? "")\(next)")
                    }
                }
            }
            return
        }
        let runs = try Runs.list(workspace: options.workspace, date: nil, environment: environment)
        if json { return try Console.json(runs.map { RunJSON(run: $0) }) }
        if runs.isEmpty { Console.out("No runs yet: digest send starts one.") }
        for run in runs { Console.out(Self.line(run)) }
    }

    static let order: [(Delivery.State, String)] = [
        (.sent, "sent"), (.pending, "pending"), (.deferred, "deferred"), (.failed, "failed"), (.doubt, "in doubt"),
        (.left, "left"), (.sending, "in flight"), (.superseded, "handed on"),
    ]

    static func line(_ run: Store.RunSummary) -> String {
        let counts = order.compactMap { state, name in run.counts[state].map { "\($0) \(name)" } }
        let state = run.finishedAt.map { "finished \(Timestamp.format($0))" } ?? "open"
        return "\(run.name)  \(run.subject.map { "\"\($0)\"" } ?? "")\n"
            + "  started \(Timestamp.format(run.startedAt)), \(state); \(run.recipients) recipients: "
            + counts.joined(separator: ", ") + (run.relay.map { "\n  via \($0)" } ?? "")
    }

    /// A run for scripts.
    struct RunJSON: Encodable {
        var name: String
        var date: String?
        var subject: String?
        var startedAt: Date
        var lastSessionAt: Date?
        var finishedAt: Date?
        var relay: String?
        var recipients: Int
        var counts: [String: Int]
        var inDoubt: [Reader]?
        var deferred: [Reader]?
        var failed: [Reader]?
        var left: [Reader]?

        struct Reader: Encodable {
            var email: String
            var reply: String?
            var nextAttemptAt: Date?
        }

        init(run: Store.RunSummary) {
            name = run.name
            date = run.date
            subject = run.subject
            startedAt = run.startedAt
            lastSessionAt = run.lastSessionAt
            finishedAt = run.finishedAt
            relay = run.relay
            recipients = run.recipients
            counts = Dictionary(uniqueKeysWithValues: run.counts.map { ($0.key.rawValue, $0.value) })
        }

        init(_ details: Runs.Details) {
            self.init(run: details.run)
            let readers = { (list: [Delivery]) in
                list.map { Reader(email: $0.email.description, reply: $0.reply, nextAttemptAt: $0.nextAttemptAt) }
            }
            inDoubt = readers(details.inDoubt)
            deferred = readers(details.deferred)
            failed = readers(details.failed)
            left = readers(details.left)
        }
    }
}

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Put an edition in the public archive without sending it (an archive-only edition).",
        discussion: """
            The archive of digest serve shows only editions sent to subscribers, as they were sent, and
            editions published with this command, as they are now. Publishing again replaces the page.
            """)

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.") var date: String?
    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        try Publish.run(loaded, environment: environment)
        Console.out("published \(loaded.edition.date): \"\(loaded.rendered.subject)\"")
    }
}
