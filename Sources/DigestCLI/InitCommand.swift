import ArgumentParser
import DigestCore
import DigestWorkflow
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a publication: a workspace with a commented publication.yaml, Editions/ and a .gitignore.",
        discussion: """
            On a terminal it asks for the values it needs, showing each default; from a script (or with
            --yes) it takes them from the options, with defaults for all but --domain. It never overwrites a
            file. The templates are built into digest; --templates (or later `digest templates eject`)
            copies them into Templates/ for you to change.
              digest init my-digest
              digest init my-digest --name "My Digest" --domain example.com --time-zone Europe/Berlin \\
                --feed https://example.com/feed/ --feed "Listen=https://example.com/podcast.xml" --yes
            """
    )

    @Argument(help: "The folder to create the workspace in. Default: the current folder.")
    var folder: String?

    @Option(help: "The publication's name. Default: the folder's name.")
    var name: String?

    @Option(help: "Your domain (example.com): it names the list and the Message-IDs. Required without a terminal.")
    var domain: String?

    @Option(help: "The sender's address. Default: digest@<domain>.")
    var sender: String?

    @Option(help: "What \"today\" means: a time zone name such as Europe/London. Default: this machine's.")
    var timeZone: String?

    @Option(help: "The digest's language, a BCP 47 tag (en, ar, fr). Default: en.")
    var language: String?

    @Option(help: "A feed to gather: URL, or Section=URL (default section: Today). Repeat for more.")
    var feed: [String] = []

    @Flag(help: "Also copy the built-in templates into Templates/ to change them.")
    var templates = false

    @Flag(name: .shortAndLong, help: "Ask nothing: take the options and the defaults.")
    var yes = false

    func run() async throws {
        let environment = Live.environment
        let target = environment.path(folder ?? ".")
        let shown = folder ?? "."
        let interactive = !yes && isatty(STDIN_FILENO) == 1
        let settings = try interactive ? ask(target: target, environment: environment) : given(target, environment)
        let problems = Init.problems(in: settings)
        guard problems.isEmpty else {
            throw CommandFailure(
                message: problems.joined(separator: "\nerror: ") + "\n  fix: digest init --help lists the options",
                status: ExitStatus.usage)
        }
        let report = try Init.create(in: target, settings: settings)
        var created = report.created
        var kept = report.kept
        if templates {
            let ejected = try TemplatesEject.eject(
                into: report.workspace.root.appendingPathComponent("Templates"), workspace: report.workspace)
            if !ejected.created.isEmpty { created.append("Templates/ (\(ejected.created.count) templates)") }
            kept += ejected.kept
        }
        let what: [String: String] = [
            "publication.yaml": "the publication's settings; every key is explained beside it",
            "Editions/": "one folder per edition, written by digest gather",
            ".gitignore": "keeps the subscriber database, keys and caches out of git",
        ]
        Console.out("Created \(settings.name) in \(shown == "." ? "this folder" : shown + "/"):")
        for name in created {
            Console.out(
                "  " + name.padding(toLength: max(18, name.count + 2), withPad: " ", startingAt: 0)
                    + (what[name] ?? "the templates, yours to change"))
        }
        for name in kept { Console.out("  kept \(name): it exists already") }
        var steps: [(String, String)] = []
        if shown != "." { steps.append(("cd \(shown)", "")) }
        steps.append(("$EDITOR publication.yaml", "your postal address, the relay (smtp.url)"))
        if settings.feeds.isEmpty {
            steps.append(("", "and your feeds under feeds:"))
        }
        steps.append(("digest gather", "today's edition from the feeds"))
        steps.append(("digest preview", "the email as a reader of the text part sees it"))
        steps.append(("digest check", "what to fix before sending"))
        if !templates { steps.append(("digest templates eject", "only to change the email's look")) }
        Console.out("\nNext:")
        for (command, comment) in steps {
            if command.isEmpty {
                Console.out(String(repeating: " ", count: 34) + "# " + comment)
            } else {
                let padded = command.padding(toLength: max(32, command.count + 1), withPad: " ", startingAt: 0)
                Console.out("  " + (comment.isEmpty ? command : padded + "# " + comment))
            }
        }
        Console.out("Before the first send, see \"Before the first send\" in digest's README.")
    }

    /// The settings from the options and the defaults; a missing --domain is a usage error.
    func given(_ target: URL, _ environment: DigestEnvironment) throws -> Init.Settings {
        guard let domain else {
            throw CommandFailure(
                message:
                    "digest init needs --domain (your publication's domain, such as example.com) when it cannot ask: "
                    + (yes ? "--yes was given" : "standard input is not a terminal")
                    + "\n  fix: digest init \(folder ?? ".") --domain example.com [--name NAME --time-zone ZONE --feed URL]",
                status: ExitStatus.usage)
        }
        return Init.Settings(
            name: name ?? Init.defaultName(for: target), domain: domain,
            sender: sender ?? Init.defaultSender(domain: domain),
            timeZone: timeZone ?? Init.defaultTimeZone(variables: environment.variables),
            language: language ?? "en", feeds: feed)
    }

    /// Asks for each value no option gave, showing its default, until it is usable.
    func ask(target: URL, environment: DigestEnvironment) throws -> Init.Settings {
        Console.out("A new publication in \(target.path). Press Enter to take the value in [brackets].")
        var settings = Init.Settings(
            name: name ?? "", domain: domain ?? "", sender: sender ?? "", timeZone: timeZone ?? "",
            language: language ?? "en", feeds: feed)
        func problem(_ option: String) -> String? {
            Init.problems(in: settings).first { $0.hasPrefix(option + ":") }
        }
        func prompt(_ question: String, default value: String?, option: String, set: (String) -> Void) throws {
            while true {
                let shown = value.map { " [\($0)]" } ?? ""
                FileHandle.standardOutput.write(Data("\(question)\(shown): ".utf8))
                guard let line = readLine() else {
                    throw CommandFailure(message: "digest init: stopped; nothing was written")
                }
                let answer = line.trimmingCharacters(in: .whitespaces)
                set(answer.isEmpty ? (value ?? "") : answer)
                guard let problem = problem(option) else { return }
                Console.out("  " + problem.dropFirst(option.count + 2))
            }
        }
        if name == nil {
            try prompt("Publication name", default: Init.defaultName(for: target), option: "--name") {
                settings.name = $0
            }
        }
        if domain == nil {
            try prompt("Your domain (names the list and the Message-IDs)", default: nil, option: "--domain") {
                settings.domain = $0.lowercased()
            }
        }
        if sender == nil {
            try prompt(
                "Sender's address (From:)", default: Init.defaultSender(domain: settings.domain), option: "--sender"
            ) { settings.sender = $0 }
        }
        if timeZone == nil {
            try prompt(
                "Time zone (what \"today\" means)",
                default: Init.defaultTimeZone(variables: environment.variables), option: "--time-zone"
            ) { settings.timeZone = $0 }
        }
        if language == nil {
            try prompt("Language (en, ar, fr, de, es…)", default: "en", option: "--language") {
                settings.language = $0
            }
        }
        if feed.isEmpty {
            Console.out("Feeds to gather, one a line: URL, or Section=URL (section Today when none). Empty to finish.")
            while true {
                FileHandle.standardOutput.write(Data("Feed \(settings.feeds.count + 1): ".utf8))
                guard let line = readLine() else { break }
                let answer = line.trimmingCharacters(in: .whitespaces)
                if answer.isEmpty { break }
                settings.feeds.append(answer)
                if let problem = problem("--feed") {
                    Console.out("  " + problem.dropFirst("--feed: ".count))
                    settings.feeds.removeLast()
                }
            }
        }
        return settings
    }
}
