import ArgumentParser
import DigestBounces
import DigestWorkflow
import Foundation

struct BouncesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounces", abstract: "Read bounces and complaints.", subcommands: [Inspect.self])

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
