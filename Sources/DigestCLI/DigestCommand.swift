import ArgumentParser
import DigestCore
import DigestWorkflow
import Foundation

/// The live environment the commands run in; tests replace it with `Live.$environment.withValue`.
public enum Live {
    @TaskLocal public static var environment = DigestEnvironment()
}

/// Exit statuses, decided here and nowhere else.
public enum ExitStatus {
    public static let success: Int32 = 0
    /// ArgumentParser's status for a bad command line.
    public static let usage: Int32 = 64
    /// An edition, config or template file has problems; the messages say where.
    public static let badInput: Int32 = 65
    /// Some recipients did not get the message (refused, deferred or in doubt); the report says which.
    public static let notAllDelivered: Int32 = 75
    /// Some feeds could not be read; the edition was written from the others.
    public static let someFeedsFailed: Int32 = 69
    /// The bounce mailbox could not be read (connection, TLS, login, a command refused).
    public static let unavailable: Int32 = 69
    /// Something outside the editor's files failed: the SMTP set-up, a disk write.
    public static let failure: Int32 = 1

    /// The status of a verb's failure.
    static func of(_ kind: WorkflowError.Kind) -> Int32 {
        switch kind {
        case .failure: failure
        case .badInput: badInput
        case .usage: usage
        case .notAllDelivered: notAllDelivered
        case .someFeedsFailed: someFeedsFailed
        case .unavailable: unavailable
        }
    }
}

/// Options every edition command takes.
struct WorkspaceOptions: ParsableArguments {
    @Option(
        name: .long, help: "The workspace folder (the one with publication.yaml). Default: found upwards from here.")
    var workspace: String?
}

public struct DigestCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Gather, preview, render and send a publication's daily digest email.",
        discussion: """
            Every command works on today's edition (in the publication's time zone)
            unless given a date:
              digest init my-digest            # start a publication: asks what it needs
              digest gather                    # the day's items from the feeds
              digest preview 2017-11-18        # the email in the terminal
              digest check 2017-11-18          # lint: subject, summaries, links, size
              digest render 2017-11-18         # digest.txt, digest.html, digest.eml
              digest send 2017-11-18 --to me@example.com   # a test copy
              digest send 2017-11-18           # every active subscriber; safe to rerun
              digest serve --port 8080         # one-click unsubscribe and the archive
            SMTP credentials come from DIGEST_SMTP_USER and DIGEST_SMTP_PASSWORD (or
            DIGEST_SMTP_PASSWORD_FILE); the unsubscribe signing key from
            DIGEST_UNSUBSCRIBE_KEY (or DIGEST_UNSUBSCRIBE_KEY_FILE).
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, GatherCommand.self, AddCommand.self, PreviewCommand.self, CheckCommand.self,
            RenderCommand.self, SendCommand.self, RunsCommand.self, ReportCommand.self, PublishCommand.self,
            SubscribersCommand.self, StoreCommand.self,
            FeedsCommand.self, DKIMCommand.self, BouncesCommand.self, DNSCommand.self, TemplatesCommand.self,
            ServeCommand.self, SubscribeFormCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line, printing the editor's problems as `file:line:column: error: …`.
    public static func runMain(arguments: [String]? = nil) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return ExitStatus.success
        } catch let problem as Problem {
            Console.error(problem.description)
            return ExitStatus.badInput
        } catch let problems as Problems {
            Console.error(problems.description)
            let count = problems.all.count
            Console.error("\(count) problem\(count == 1 ? "" : "s") to fix before digest can go on.")
            return ExitStatus.badInput
        } catch let failure as CommandFailure {
            Console.error("error: \(failure.message)")
            return failure.status
        } catch let failure as WorkflowError {
            Console.error("error: \(failure.message)")
            return ExitStatus.of(failure.kind)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Console.out(fullMessage(for: error))
            } else {
                Console.error(fullMessage(for: error))
            }
            return code == .validationFailure ? ExitStatus.usage : code.rawValue
        }
    }
}

/// A command's failure with its message and exit status.
struct CommandFailure: Error {
    var message: String
    var status: Int32 = ExitStatus.failure
}
