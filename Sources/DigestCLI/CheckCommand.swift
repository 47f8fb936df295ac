import ArgumentParser
import DigestCore
import DigestDNS
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

    @Flag(help: "Also check the publication's DNS first (as digest dns check does).")
    var dns = false

    @Option(help: "With --dns: the DNS server to ask, HOST:PORT. Default: the system's.")
    var resolver: String?

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if !(1...60).contains(timeout) { throw ValidationError("--timeout must be between 1 and 60 seconds") }
        if let resolver, DNSServer(resolver) == nil {
            throw ValidationError("--resolver must be an IP address and port, e.g. 127.0.0.1:53, not '\(resolver)'")
        }
    }

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        var dnsErrors = false
        if dns {
            let report = try await DNSCheck.run(
                workspace: options.workspace, resolver: resolver, timeout: 3, bounceDomain: nil,
                environment: environment)
            Console.out(report.text)
            dnsErrors = !report.isReady
        }
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
        // A timer's `digest send --if-checked` sends only what passed here, unchanged since.
        if report.errors == 0 { try SendGate.approve(loaded) } else { SendGate.revoke(loaded) }
        if dnsErrors && report.errors == 0 {
            throw CommandFailure(
                message: "the publication's DNS has records to publish (above) before sending",
                status: ExitStatus.badInput)
        }
        if report.errors > 0 {
            throw CommandFailure(
                message: "\(loaded.displayPath) has \(Self.count(report.errors, "error")) to fix before sending",
                status: ExitStatus.badInput)
        }
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
