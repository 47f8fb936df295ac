import ArgumentParser
import DigestBounces
import DigestWorkflow
import Foundation

struct BouncesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounces", abstract: "Read bounces and complaints.", subcommands: [Fetch.self, Inspect.self])

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the new messages of the bounce mailbox and act on them.",
            discussion: """
                Reads the mailbox named by bounce: mailbox: in publication.yaml over IMAP or POP3 (the password
                from DIGEST_BOUNCE_PASSWORD or DIGEST_BOUNCE_PASSWORD_FILE), and for each new bounce or complaint:
                a hard bounce takes the reader off the list, soft bounces count (bounce: soft_limit within
                soft_days), a complaint marks the reader complained for good. Prints one line per reader and a
                summary. Safe to run again and to stop at any point: nothing is counted twice.
                Exit status 69 when the mailbox could not be read.
                  digest bounces fetch
                """)

        @OptionGroup var options: WorkspaceOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() async throws {
            let environment = Live.environment
            let json = json
            let report = try BounceFetch.fetch(
                workspace: options.workspace, environment: environment,
                each: { line in if !json { Console.out(line.text) } })
            if json {
                try Console.json(report)
            } else {
                for note in report.notes { Console.out("note: \(note)") }
                let publication = try? environment.workspace(options.workspace).loadPublication()
                Console.out(
                    BounceFetch.summaryLine(report.summary, after: publication?.bounce?.after ?? .keep))
            }
            if let error = report.summary.error {
                throw CommandFailure(message: "the bounce mailbox: \(error)", status: ExitStatus.unavailable)
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what digest reads from one bounce, complaint or auto-reply saved as .eml.",
            discussion: """
                Prints the kind (bounce, complaint, auto-reply, delivery-report, not-a-report) and, per failed or
                complained recipient, the status, the server's reply code and text, the class (hard, soft,
                complaint, none) and the reason. --json prints the documented schema (docs/bounces.md).
                  digest bounces inspect bounce.eml --json
                """)

        @Argument(help: "The message, as a .eml file.") var file: String
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() async throws {
            let message = try BounceInspection.inspect(file: file, environment: Live.environment)
            if json {
                let encoder = JSONEncoder()
                // The schema's keys are snake_case already.
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                return Console.out(String(decoding: try encoder.encode(message), as: UTF8.self))
            }
            Console.out(
                "\(message.kind.rawValue) (\(message.format))\(message.subject.isEmpty ? "" : ": \(message.subject)")")
            for report in message.reports {
                Console.out(
                    "  \(report.recipient.isEmpty ? "(no recipient named)" : report.recipient)  \(report.bounceClass.rawValue), "
                        + "\(report.reason)  \([report.status, report.replyCode].filter { !$0.isEmpty }.joined(separator: " "))"
                )
                if !report.diagnostic.isEmpty { Console.out("    \(report.diagnostic)") }
            }
            if !message.original.returnPath.isEmpty {
                Console.out("  original return path: \(message.original.returnPath)")
            }
        }
    }
}
