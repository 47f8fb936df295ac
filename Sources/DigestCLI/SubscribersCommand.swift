import ArgumentParser
import DigestCore
import DigestStore
import DigestWorkflow
import Foundation

extension WorkspaceOptions {
    /// The store of the workspace these options name.
    func openStore(_ environment: DigestEnvironment) throws -> any ListStore {
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
                Exports of Mailchimp (one file per status), Substack, Ghost, listmonk, Buttondown, Kit and
                beehiiv are recognised by their columns, and each reader's status read the way that service
                writes it (docs/subscribers.md lists the columns read). A file whose status cannot be told
                is refused unless --status names it for every row; an unknown status value rejects its row.
                Other columns are kept as attributes; tags, join and confirmation times are kept.
                Rejected rows are listed with their line numbers; the rest is imported in one transaction.
                An import never makes an unsubscribed, bounced or complained reader active again.
                """)

        @Argument(help: "The CSV file.") var file: String
        @Option(
            help: """
                The status of every row whose own status does not say the reader left: active, unsubscribed, \
                bounced or complained. Needed when the file does not say.
                """) var status: Subscriber.Status?
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let report = try SubscriberImport.run(
                file: file, status: status, workspace: options.workspace, environment: Live.environment)
            for rejection in report.rejected {
                Console.error("\(file):\(rejection.line): rejected: \(rejection.reason)")
            }
            for variant in report.caseVariantsInFile { Console.error("\(file):\(variant.line): warning: \(variant)") }
            for variant in report.counts.caseVariants {
                Console.error(
                    "\(file):\(variant.line): warning: \(variant.address) and \(variant.other) (on the list already) "
                        + "differ only in case: kept as two readers")
            }
            let counts = report.counts
            Console.out("\(file): a \(report.service.displayName) export; status from \(report.statusFrom)")
            Console.out(
                "\(file): \(counts.added) added, \(counts.updated) updated, \(counts.unchanged) unchanged, "
                    + "\(report.duplicates) duplicate row\(report.duplicates == 1 ? "" : "s") merged, "
                    + "\(report.rejected.count) rejected")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one subscriber, or bring back one who unsubscribed (--resubscribe).")
        @Argument(help: "The address.") var email: String
        @Option(help: "The reader's name.") var name = ""
        @Flag(help: "Make a reader who unsubscribed active again (they asked to come back).") var resubscribe = false
        @Flag(
            help: """
                With --resubscribe: also make a bounced or complained reader active again. Use it only when the \
                reader told you the address works and they want the mail: mailing a complainer hurts delivery.
                """) var overrideBounceOrComplaint = false
        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let store = try options.openStore(environment)
            if resubscribe {
                let address = try SubscribersCommand.address(email)
                switch try store.resubscribe(
                    address, overridingBounceOrComplaint: overrideBounceOrComplaint, source: "add --resubscribe",
                    now: environment.now())
                {
                case .resubscribed(let from): Console.out("resubscribed \(address) (was \(from.rawValue))")
                case .alreadyActive: Console.out("\(address) is active already")
                case .refused(let status):
                    throw CommandFailure(
                        message: "\(address) is \(status.rawValue): not resubscribed. If the reader told you the "
                            + "address works and they want the mail, add --override-bounce-or-complaint")
                case .unknown:
                    throw CommandFailure(message: "\(address) is not on the list: add it without --resubscribe")
                }
                return
            }
            switch try store.add(
                try SubscribersCommand.address(email), name: TextMarks.singleLine(name), source: "add",
                now: environment.now())
            {
            case .added(let subscriber):
                Console.out("added \(subscriber.email)")
                for other in try store.caseVariants(of: subscriber.email) {
                    Console.error(
                        "warning: \(subscriber.email) and \(other) differ only in case: kept as two readers "
                            + "(most mail systems deliver both to one mailbox)")
                }
            case .exists(let subscriber):
                let hint =
                    subscriber.status == .unsubscribed
                    ? "; to bring the reader back: digest subscribers add --resubscribe \(subscriber.email)" : ""
                Console.out("\(subscriber.email) is on the list already (\(subscriber.status.rawValue))\(hint)")
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
                // Why bounced and complained readers are off the list: the report or refusal that put them there.
                var reasons: [EmailAddress: String] = [:]
                for off in [Subscriber.Status.bounced, .complained] where status == nil || status == off {
                    reasons.merge(try store.offListReasons(status: off)) { first, _ in first }
                }
                try store.forEachSubscriber(status: status) { subscriber in
                    let name = subscriber.name.isEmpty ? "" : "  \(subscriber.name)"
                    let why = reasons[subscriber.email].map { "  (\($0))" } ?? ""
                    Console.out("\(subscriber.email)  \(subscriber.status.rawValue)\(name)\(why)")
                }
            }
            let pending = try store.pendingSignups()
            if !count && status == nil {
                for signup in pending {
                    let name = signup.name.isEmpty ? "" : "  \(signup.name)"
                    Console.out("\(signup.address)  pending since \(Timestamp.format(signup.createdAt))\(name)")
                }
            }
            let counts = try store.counts()
            let shown = Subscriber.Status.allCases.filter { status == nil || $0 == status }
            var summary = shown.map { "\(counts[$0] ?? 0) \($0.rawValue)" }
            if status == nil { summary.append("\(pending.count) pending (signed up, not confirmed)") }
            Console.out(summary.joined(separator: ", "))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write subscribers as CSV (email, name, status, joined_at, source, confirmed_at, service, tags, attributes)."
        )
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
