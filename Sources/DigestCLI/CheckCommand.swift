import ArgumentParser
import DigestCore
import DigestWorkflow
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Lint an edition before it is sent: subject, preheader, summaries, links, alt texts, size.",
        discussion: """
            Each finding names its item and what to do. Links are asked whether they answer (HEAD, then GET)
            all at once, with a short timeout; --offline skips that. The exit status is 65 when an error-level
            finding exists, 0 when there are only warnings or nothing.
            """
    )

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @Flag(help: "Do not check whether the links answer.")
    var offline = false

    @Option(help: "Seconds each link may take to answer (1-60).")
    var timeout: Int = 5

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if !(1...60).contains(timeout) { throw ValidationError("--timeout must be between 1 and 60 seconds") }
    }

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        let html = loaded.rendered.html.utf8.count
        Console.out(
            "Checking \(loaded.displayPath): \(loaded.edition.items.count) items, HTML part "
                + "\(GmailClipping.kilobytes(html)) (Gmail clips past \(GmailClipping.kilobytes(GmailClipping.limit)))")
        let report = Check.run(loaded, linkTimeout: offline ? nil : timeout)
        if let links = report.links {
            Console.out(
                "Links: \(links.answering) of \(links.checked) answer (checked at once in \(String(format: "%.2f", links.seconds)) s)"
            )
            if links.noHostResolves {
                Console.out(
                    "note: no link's host name resolves: is this machine offline? digest check --offline skips links")
            }
        }
        for finding in report.findings { Console.out(finding.description) }
        Console.out(
            report.findings.isEmpty
                ? "No problems found."
                : "\(Self.count(report.errors, "error")), \(Self.count(report.warnings, "warning"))")
        if report.errors > 0 {
            throw CommandFailure(
                message: "\(loaded.displayPath) has \(Self.count(report.errors, "error")) to fix before sending",
                status: ExitStatus.badInput)
        }
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
