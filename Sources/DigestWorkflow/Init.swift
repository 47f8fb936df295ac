import DigestCore
import Foundation

/// `digest init`: a new workspace, a commented `publication.yaml` that explains every key, `Editions/`
/// and a `.gitignore`. It never overwrites a file.
public enum Init {
    /// The values a new publication needs; everything else in publication.yaml gets a commented default.
    public struct Settings: Sendable, Equatable {
        public var name: String
        public var domain: String
        /// The sender's address (From:); its display name is `<name> Digest`.
        public var sender: String
        public var timeZone: String
        public var language: String
        /// `URL`, or `Section=URL` to name the section its items go to.
        public var feeds: [String]

        public init(
            name: String, domain: String, sender: String, timeZone: String, language: String = "en",
            feeds: [String] = []
        ) {
            self.name = name
            self.domain = domain
            self.sender = sender
            self.timeZone = timeZone
            self.language = language
            self.feeds = feeds
        }
    }

    /// What `create` did, paths relative to the new workspace (folders end with `/`).
    public struct Report: Sendable {
        public var workspace: Workspace
        public var created: [String]
        /// Files that were there already and were left as they were.
        public var kept: [String]
    }

    /// The section a feed goes to when `--feed` names none.
    public static let defaultSection = "Today"

    /// The name a publication in `folder` gets when none is given: the folder's name.
    public static func defaultName(for folder: URL) -> String {
        let name = folder.standardizedFileURL.lastPathComponent
        return name.isEmpty || name == "/" ? "My Digest" : name
    }

    /// The sender's address when none is given: `digest@` the domain.
    public static func defaultSender(domain: String) -> String { "digest@\(domain)" }

    /// The time zone of this machine (`TZ`, else the system's).
    public static func defaultTimeZone(variables: [String: String]) -> String {
        if let name = variables["TZ"]?.trimmingCharacters(in: CharacterSet(charactersIn: ":")),
            TimeZone(identifier: name) != nil
        {
            return name
        }
        let identifier = TimeZone.current.identifier
        return TimeZone(identifier: identifier) == nil ? "UTC" : identifier
    }

    /// A feed option split into its section and URL: `Section=URL`, or a bare URL for `defaultSection`.
    public static func feed(_ text: String) -> (section: String, url: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let equals = trimmed.firstIndex(of: "="), !trimmed[..<equals].contains("://") {
            let section = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let url = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            return (section.isEmpty ? defaultSection : section, url)
        }
        return (defaultSection, trimmed)
    }

    /// What is wrong with each value, said as the option that gives it; empty when all are usable.
    public static func problems(in settings: Settings) -> [String] {
        var problems: [String] = []
        if settings.name.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append("--name: the publication needs a name")
        }
        if !EmailAddress.isHostname(settings.domain) {
            problems.append("--domain: '\(settings.domain)' is not a host name such as example.com")
        }
        if EmailAddress(settings.sender) == nil {
            problems.append(
                "--sender: '\(settings.sender)' is not an email address: \(EmailAddress.reason(settings.sender))")
        }
        if TimeZone(identifier: settings.timeZone) == nil {
            problems.append(
                "--time-zone: '\(settings.timeZone)' is not a time zone name; use one such as Europe/London or America/New_York"
            )
        }
        let language = settings.language
        if language.isEmpty || !language.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            problems.append("--language: '\(language)' is not a language tag such as en, ar or pt-BR")
        }
        for text in settings.feeds {
            let url = feed(text).url.lowercased()
            if !(url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("file://")) {
                problems.append("--feed: '\(text)' must be an http://, https:// or file:// address (or Section=URL)")
            }
        }
        return problems
    }

    /// Creates the workspace in `folder` (made when missing). Refuses when `publication.yaml` is there
    /// already; any other file that exists is kept and reported in `kept`.
    public static func create(in folder: URL, settings: Settings) throws -> Report {
        let problems = problems(in: settings)
        guard problems.isEmpty else {
            throw WorkflowError(problems.joined(separator: "\n"), kind: .usage)
        }
        let workspace = Workspace(root: folder.standardizedFileURL)
        let manager = FileManager.default
        if manager.fileExists(atPath: workspace.configFile.path) {
            throw WorkflowError(
                "\(workspace.configFile.path) exists already: this folder is a workspace, and digest init never "
                    + "overwrites a file. Edit publication.yaml, or give digest init another folder.")
        }
        var created: [String] = []
        var kept: [String] = []
        do {
            if !manager.fileExists(atPath: workspace.root.path) {
                try manager.createDirectory(at: workspace.root, withIntermediateDirectories: true)
            }
            try write(
                publicationYAML(settings), to: workspace.configFile, created: &created, kept: &kept, in: workspace)
            if manager.fileExists(atPath: workspace.editionsFolder.path) {
                kept.append("Editions/")
            } else {
                try manager.createDirectory(at: workspace.editionsFolder, withIntermediateDirectories: true)
                created.append("Editions/")
            }
            try write(
                gitignore, to: workspace.root.appendingPathComponent(".gitignore"), created: &created, kept: &kept,
                in: workspace)
        } catch let error as WorkflowError {
            throw error
        } catch {
            throw WorkflowError("cannot create the workspace in \(workspace.root.path): \(error.localizedDescription)")
        }
        return Report(workspace: workspace, created: created, kept: kept)
    }

    /// Writes `text` to `file` unless a file is there, which is kept as it was and reported.
    static func write(
        _ text: String, to file: URL, created: inout [String], kept: inout [String], in workspace: Workspace
    ) throws {
        let name = workspace.displayPath(file)
        if FileManager.default.fileExists(atPath: file.path) {
            kept.append(name)
            return
        }
        try Data(text.utf8).write(to: file, options: .withoutOverwriting)
        created.append(name)
    }

    /// What stays out of version control: the subscriber database, DKIM keys and digest's caches.
    public static let gitignore = """
        # digest: what stays out of version control.
        # The subscriber database and its journal files (the readers' addresses live here).
        digest.sqlite
        digest.sqlite-wal
        digest.sqlite-shm
        # DKIM private keys (digest dkim keygen writes them to keys/).
        keys/
        *.pem
        # Feed caches (conditional GET) and preview files.
        .digest-cache/

        """

    /// The commented `publication.yaml` for `settings`: every key says what it does.
    public static func publicationYAML(_ settings: Settings) -> String {
        let name = yaml(settings.name)
        let domain = settings.domain.lowercased()
        var feeds = ""
        for text in settings.feeds {
            let (section, url) = feed(text)
            feeds += "  - url: \(yaml(url))\n    section: \(yaml(section))\n"
        }
        let feedsLine = settings.feeds.isEmpty ? "feeds: []\n" : "feeds:\n"
        return """
            # publication.yaml: the publication this workspace sends for. digest reads it from the folder you
            # run it in (or any folder above). Every key is explained beside it; the reference is
            # docs/configuration.md. Secrets never go here: the SMTP password and the unsubscribe key come
            # from environment variables (DIGEST_SMTP_PASSWORD, DIGEST_UNSUBSCRIBE_KEY or their _FILE forms).

            # The publication's name: at the top of every digest and in the sender's name.
            name: \(name)
            # Your domain: it names the mailing list (List-Id) and the Message-IDs.
            domain: \(yaml(domain))
            # The digest's language (a BCP 47 tag: en, ar, fr, de, es…): the HTML's lang, the dates' words and
            # the templates' fixed labels ("By", "Listen"…); replace any label under labels:, e.g.
            # labels:
            #   top_story: Today's lead
            language: \(yaml(settings.language))
            # How often it appears, for the footer ("… daily digest"): daily or weekly. Remove the line for
            # neither. For a weekly digest set gather's window (below) to since-last-edition too.
            cadence: daily
            # Who the digest comes from (From:, and the address bounces return to).
            sender:
              name: \(yaml(settings.name + " Digest"))
              address: \(yaml(settings.sender))
            # Where replies go, when not to the sender:
            # reply_to: editors@\(domain)
            # What "today" means and the times shown beside items: a name such as Europe/London.
            time_zone: \(yaml(settings.timeZone))

            # The relay digest hands mail to. smtp://host:587 uses STARTTLS (required for any relay not on this
            # machine), smtps://host:465 TLS from the start. The login comes from DIGEST_SMTP_USER and
            # DIGEST_SMTP_PASSWORD (or DIGEST_SMTP_PASSWORD_FILE), never from this file.
            smtp:
              url: smtp://localhost:25
              # helo: \(domain)              # the name given in EHLO (default: the sender's domain)
              # ca_file: /etc/digest/relay-ca.pem   # a CA bundle, for a relay with a private CA

            # The postal address every bulk mail must show in its footer (the law in most countries): one line
            # per line. Replace these lines with yours before the first send.
            postal_address: |
              \(settings.name.replacingOccurrences(of: "\n", with: " "))
              Street and number
              Postcode and town, Country

            # Where a reader unsubscribes: digest serve answers here (behind your HTTPS proxy), and each
            # reader's signed one-click token is added to it.
            unsubscribe_url: https://\(domain)/newsletter/unsubscribe
            # The web copy of each edition ("view in your browser"); {date} becomes the edition's date.
            # Remove the line for no archive link.
            archive_url: https://\(domain)/digest/{date}/

            # The templates: without this key digest uses Templates/ when the workspace has it, else the ones
            # built into digest. `digest templates eject` copies those into Templates/ for you to change.
            # templates: Templates

            # What `digest gather` reads, in the order the sections appear. Each feed's items go to its
            # section; kind: article, podcast or video forces the kind (default: told from each item).
            \(feedsLine)\(feeds)  # - url: https://\(domain)/feed/
              #   section: Today
              # - url: https://\(domain)/podcast.xml
              #   section: Listen
              #   kind: podcast

            # How gather picks items. The cadence: one edition per day you run it, with window: day (the items
            # published that day); for a weekly or irregular digest use window: since-last-edition (everything
            # since the previous edition's day).
            gather:
              window: day
              summary_length: 280      # summaries are cut at a sentence end near this many characters
              timeout: 30              # seconds a feed may take

            # Counting clicks per story through digest serve (no reader identity is recorded); off by default:
            # tracking:
            #   clicks: stories

            # Optional headers, with their defaults:
            # list_id: \(domain)                  # List-Id
            # unsubscribe_mailbox: unsubscribe@\(domain)   # List-Unsubscribe's mailto:
            # feedback_id: "digest:news:daily:\(domain)"   # Gmail's Feedback-ID, if you use it

            # DKIM signing (strongly advised before the first send): make a key with
            # `digest dkim keygen --selector digest1`, publish the DNS record it prints, then:
            # dkim:
            #   signatures:
            #     - selector: digest1
            #       key_file: keys/digest1.pem

            """
    }

    /// `text` as a YAML scalar: plain when that reads back as the same text, else double-quoted.
    static func yaml(_ text: String) -> String {
        // Letters, digits and what names, addresses and URLs use; never ": " or " #", which YAML reads
        // as a key or a comment.
        let plainSafe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: " ._-/@+:?&=%~#"))
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        if let first = text.unicodeScalars.first, CharacterSet.alphanumerics.contains(first),
            text.unicodeScalars.allSatisfy(plainSafe.contains), !text.hasSuffix(" "), !text.hasSuffix(":"),
            !text.contains(": "), !text.contains(" #"),
            !reserved.contains(text.lowercased()), Double(text) == nil
        {
            return text
        }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    quoted += String(format: "\\x%02X", scalar.value)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}
