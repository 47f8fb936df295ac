import ArgumentParser
import DigestCore
import DigestDNS
import DigestWorkflow
import Foundation

/// `digest dns check`: parses, asks DigestDNS, prints. The checks and their wording live in DigestDNS.
struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Check the publication's DNS: DKIM, SPF, DMARC, alignment, MX.",
        subcommands: [CheckDNSCommand.self]
    )

    struct CheckDNSCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check DKIM, SPF, DMARC and their alignment before the first send; print the records to publish.",
            discussion: """
                Looks up, for the publication in publication.yaml:
                  DKIM   the key of every selector, compared with the key digest signs with
                  SPF    of the bounce and From domains; whether it authorises the relay
                         (smtp.spf_include, else the relay host's addresses)
                  DMARC  the record, and the alignment of DKIM d= and the bounce domain
                  MX     of the bounce domain, and the unsubscribe URL's host
                One line per finding, grouped by domain, the record to publish under it;
                the last line is "ready" or how many records to publish.
                Exit status: 0 ready (warnings allowed), 65 records to publish or
                problems to fix, 1 when the only errors are lookups without an answer.
                """
        )

        @Option(help: "The DNS server to ask, HOST:PORT (an IP address). Default: those of /etc/resolv.conf.")
        var resolver: String?

        @Option(help: "Seconds to wait for each answer (1-30).")
        var timeout: Int = 3

        @Option(help: "The envelope sender's domain, where bounces go. Default: the sender's domain.")
        var bounceDomain: String?

        @Flag(help: "Print the findings as JSON.")
        var json = false

        @OptionGroup var options: WorkspaceOptions

        func validate() throws {
            if let resolver, DNSServer(resolver) == nil {
                throw ValidationError("--resolver must be an IP address and port, e.g. 127.0.0.1:53, not '\(resolver)'")
            }
            if let bounceDomain, !EmailAddress.isHostname(bounceDomain) {
                throw ValidationError(
                    "--bounce-domain must be a domain such as bounces.example.com, not '\(bounceDomain)'")
            }
            if !(1...30).contains(timeout) { throw ValidationError("--timeout must be between 1 and 30 seconds") }
        }

        func run() async throws {
            let report = try await DNSCheck.run(
                workspace: options.workspace, resolver: resolver, timeout: timeout, bounceDomain: bounceDomain,
                environment: Live.environment)
            Console.out(json ? report.json : report.text)
            if !report.isReady {
                throw ExitCode(report.onlyLookupsFailed ? ExitStatus.failure : ExitStatus.badInput)
            }
        }
    }
}
