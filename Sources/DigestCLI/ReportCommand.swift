import ArgumentParser
import DigestCore
import DigestWorkflow
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "What readers did with an edition: delivery, bounces, unsubscribes, clicks per story.",
        discussion: """
            For one edition (today's by default): sent, deferred, failed, in doubt, readers who left during the
            run, bounces, unsubscribes after it, and with tracking.clicks: stories the clicks per story with a
            bar each. With --last N: the list's growth per day and each edition of those days.
              digest report 2017-11-18
              digest report --last 30
              digest report 2017-11-18 --json
            """)

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.") var date: String?
    @Option(help: "The last N days instead of one edition (1-366).") var last: Int?
    @Flag(help: "Print JSON for scripts.") var json = false
    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if let last, !(1...366).contains(last) { throw ValidationError("--last must be between 1 and 366 days") }
        if last != nil && date != nil { throw ValidationError("give a date or --last, not both") }
    }

    func run() async throws {
        let environment = Live.environment
        let width = Terminal.size(variables: environment.variables).columns
        if let last {
            let range = try Report.range(workspace: options.workspace, days: last, environment: environment)
            if json { return try Console.json(range) }
            Console.out(ReportText.range(range, width: width))
            return
        }
        let report = try Report.edition(workspace: options.workspace, date: date, environment: environment)
        if json { return try Console.json(report) }
        Console.out(ReportText.edition(report, width: width))
    }
}
