import ArgumentParser
import DigestCore
import DigestCurl
import DigestFeeds
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
        let file = loaded.workspace.displayPath(loaded.workspace.editionFile(loaded.edition.date))
        let facts = HTMLTextBrowser.facts(loaded.rendered.html)
        Console.out(
            "Checking \(file): \(loaded.edition.items.count) items, HTML part "
                + "\(GmailClipping.kilobytes(loaded.rendered.html.utf8.count)) "
                + "(Gmail clips past \(GmailClipping.kilobytes(GmailClipping.limit)))")
        var checks: [LinkCheck]?
        if !offline {
            let urls = EditionLinter.checkableLinks(rendered: loaded.rendered, html: facts)
            let started = Date()
            let results = CurlLinkChecker(timeout: timeout).check(urls)
            let seconds = Date().timeIntervalSince(started)
            let answering = results.filter { $0.outcome == .answers }.count
            Console.out(
                "Links: \(answering) of \(results.count) answer (checked at once in \(String(format: "%.2f", seconds)) s)"
            )
            checks = results
            let unresolved = results.filter { $0.outcome == .broken(LinkCheck.unresolvedHost) }.count
            if unresolved > 0 && unresolved == results.count {
                Console.out(
                    "note: no link's host name resolves: is this machine offline? digest check --offline skips links")
            }
        }
        let unsorted = EditionLinter.check(
            edition: loaded.edition, rendered: loaded.rendered, unsubscribeURL: loaded.publication.unsubscribeURL,
            html: facts, links: checks
        )
        // Errors first, each group in the edition's order.
        let findings = unsorted.enumerated().sorted {
            ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset)
        }
        .map(\.element)
        for finding in findings { Console.out(finding.description) }
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.count - errors
        Console.out(
            findings.isEmpty
                ? "No problems found." : "\(Self.count(errors, "error")), \(Self.count(warnings, "warning"))")
        if errors > 0 {
            throw CommandFailure(
                message: "\(file) has \(Self.count(errors, "error")) to fix before sending", status: ExitStatus.badInput
            )
        }
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
