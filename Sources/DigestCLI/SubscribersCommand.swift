import ArgumentParser
import DigestCore
import DigestStore
import DigestWorkflow
import Foundation

extension WorkspaceOptions {
    /// The store of the workspace these options name.
    func openStore(_ environment: DigestEnvironment) throws -> SQLiteStore {
        try environment.openStore(try environment.workspace(workspace))
    }
}

struct SubscribersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribers",
        abstract: "Manage the subscriber list (digest.sqlite in the workspace).",
        subcommands: [Import.self, Add.self, Remove.self, Unsubscribe.self, List.self, Export.self]
    )

    static func address(_ text: String) throws -> EmailAddress {
        guard let address = EmailAddress(idn: text) else {
            throw ValidationError("'\(text)' is not an email address: \(EmailAddress.reason(text))")
        }
        return address
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import subscribers from a CSV file (a header row names the columns).",
            discussion: """
                Columns are found by their header: email (or "Email Address"), name (or first and last name),
                status (active, unsubscribed, bounced, complained; Mailchimp's "cleaned" is bounced). Other
                columns are kept as attributes. Comma, semicolon or tab separated; a UTF-8 BOM is fine.
                Rejected rows are listed with their line numbers; the rest is imported in one transaction.
                An import never makes an unsubscribed or bounced reader active again.
                """)

        @Argument(help: "The CSV file.") var file: String
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let workspace = try environment.workspace(options.workspace)
            let url = URL(fileURLWithPath: file, relativeTo: environment.currentDirectory)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw CommandFailure(message: "cannot read \(file)")
            }
            let parsed: SubscriberCSV.Result
            do {
                parsed = try SubscriberCSV.parse(data)
            } catch {
                throw Problem(file: file, message: "\(error)")
            }
            for rejection in parsed.rejected {
                Console.error("\(file):\(rejection.line): rejected: \(rejection.reason)")
            }
            let store = try environment.openStore(workspace)
            let counts = try store.importRows(
                parsed.rows, source: "import:\(url.lastPathComponent)", now: environment.now())
            Console.out(
                "\(file): \(counts.added) added, \(counts.updated) updated, \(counts.unchanged) unchanged, "
                    + "\(parsed.duplicates) duplicate row\(parsed.duplicates == 1 ? "" : "s") merged, \(parsed.rejected.count) rejected"
            )
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add one subscriber.")
        @Argument(help: "The address.") var email: String
        @Option(help: "The reader's name.") var name = ""
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let store = try options.openStore(environment)
            switch try store.add(
                try SubscribersCommand.address(email), name: TextMarks.singleLine(name), source: "add",
                now: environment.now())
            {
            case .added(let subscriber): Console.out("added \(subscriber.email)")
            case .exists(let subscriber):
                Console.out("\(subscriber.email) is on the list already (\(subscriber.status.rawValue))")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a subscriber and their delivery records (use unsubscribe to keep the record).")
        @Argument(help: "The address.") var email: String
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let store = try options.openStore(environment)
            let address = try SubscribersCommand.address(email)
            guard try store.remove(address) else { throw CommandFailure(message: "\(address) is not on the list") }
            Console.out("removed \(address)")
        }
    }

    struct Unsubscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a subscriber unsubscribed.")
        @Argument(help: "The address.") var email: String
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let store = try options.openStore(environment)
            let address = try SubscribersCommand.address(email)
            guard try store.setStatus(address, to: .unsubscribed, now: environment.now()) else {
                throw CommandFailure(message: "\(address) is not on the list")
            }
            Console.out("unsubscribed \(address)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List subscribers, or count them.")
        @Option(help: "Only this status: active, unsubscribed, bounced or complained.") var status: Subscriber.Status?
        @Flag(help: "Print the counts per status only.") var count = false
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let store = try options.openStore(environment)
            if !count {
                try store.forEachSubscriber(status: status) { subscriber in
                    let name = subscriber.name.isEmpty ? "" : "  \(subscriber.name)"
                    Console.out("\(subscriber.email)  \(subscriber.status.rawValue)\(name)")
                }
            }
            let counts = try store.counts()
            let shown = Subscriber.Status.allCases.filter { status == nil || $0 == status }
            Console.out(shown.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write subscribers as CSV (email, name, status, joined_at, source).")
        @Option(help: "Only this status.") var status: Subscriber.Status?
        @Option(help: "The file to write. Default: standard output.") var out: String?
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let store = try options.openStore(environment)
            var text = SubscriberCSV.header()
            try store.forEachSubscriber(status: status) { text += SubscriberCSV.line($0) }
            if let out {
                try Data(text.utf8).write(
                    to: URL(fileURLWithPath: out, relativeTo: environment.currentDirectory), options: .atomic)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

extension Subscriber.Status: ExpressibleByArgument {}
