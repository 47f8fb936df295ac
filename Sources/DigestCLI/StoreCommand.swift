import ArgumentParser
import DigestWorkflow
import Foundation

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Which store keeps the list and the ledger, and moving it (SQLite, PostgreSQL).",
        discussion: """
            The list and the delivery ledger live in digest.sqlite beside publication.yaml, or where store: in
            publication.yaml (or DIGEST_STORE_URL) says: a path, or postgres://USER@HOST:5432/DATABASE with the
            password in DIGEST_STORE_PASSWORD (or DIGEST_STORE_PASSWORD_FILE).
              digest store check
              digest store copy --to postgres://digest@db.example.com/newsletter?sslmode=verify-full
            """,
        subcommands: [Check.self, Copy.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say which store the workspace uses, whether it can be reached and whether its schema is current."
        )

        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let check = try StoreVerbs.check(workspace: options.workspace, environment: Live.environment)
            Console.out("\(check.kind): \(check.location)")
            if let problem = check.problem {
                throw CommandFailure(message: "the store cannot be reached: \(problem)")
            }
            Console.out("  reachable, \(check.subscribers) subscribers")
            if check.version == check.current {
                Console.out("  schema version \(check.version): current")
            } else if check.version < check.current {
                throw CommandFailure(
                    message:
                        "the store's schema is at version \(check.version), behind this digest's \(check.current): "
                        + "the next command that opens the store brings it up to date")
            } else {
                throw CommandFailure(
                    message: "the store's schema is at version \(check.version), newer than this digest's "
                        + "\(check.current): update digest")
            }
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy everything (list, ledger, runs, archive, clicks, sign-ups) to another, empty store.",
            discussion: """
                One transaction on the target, with the rows of every table counted on both sides; a target
                with any row is refused. The target's password: DIGEST_STORE_TARGET_PASSWORD (or _FILE), else
                DIGEST_STORE_PASSWORD. Then point store: in publication.yaml at the target.
                """)

        @Option(help: "The target: a SQLite file's path, or postgres://USER@HOST:PORT/DATABASE.") var to: String
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let copy = try StoreVerbs.copy(workspace: options.workspace, to: to, environment: Live.environment)
            Console.out("Copied \(copy.from) to \(copy.to):")
            for (table, count) in copy.counts.sorted(by: { $0.key < $1.key }) {
                Console.out("  \(table): \(count) rows")
            }
            Console.out("Now set store: \(to) in publication.yaml (or DIGEST_STORE_URL) to use it.")
        }
    }
}
