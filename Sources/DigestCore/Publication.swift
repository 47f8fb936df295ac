import Foundation
import Yams

/// The publication a workspace sends for: who it is, where its mail goes out, what its footer says.
/// Read from `publication.yaml` at the top of the workspace.
public struct Publication: Equatable, Sendable {
    public var name: String
    /// The publication's domain: it names the list (`List-Id`) and Message-IDs.
    public var domain: String
    /// The language of the digest, as a BCP 47 tag (`en`, `ar`).
    public var language: String
    public var sender: Mailbox
    public var replyTo: EmailAddress?
    public var timeZone: TimeZone
    public var smtp: SMTPSettings
    /// The postal address every bulk mail must show in its footer.
    public var postalAddress: String
    /// Where a reader unsubscribes; the per-reader token is added to it.
    public var unsubscribeURL: String
    /// The web copy of an edition: `{date}` is replaced by the edition's date.
    public var archiveURL: String?
    /// The template folder, relative to the workspace, when publication.yaml names one; nil for
    /// `Templates/` when the workspace has it, else the templates built into digest.
    public var templates: String?
    /// The list's identifier for `List-Id` (RFC 2919); the domain when not set.
    public var listID: String
    /// Where `List-Unsubscribe`'s mailto: goes; `unsubscribe@` the domain when not set.
    public var unsubscribeMailbox: EmailAddress
    /// Gmail's `Feedback-ID` (campaign:customer:mailtype:sender), when the sender uses it.
    public var feedbackID: String?
    /// DKIM signing, when configured.
    public var dkim: DKIMSettings?
    /// The feeds `digest gather` reads, in the order their sections appear.
    public var feeds: [FeedSource] = []
    /// Which items gather keeps, and how it shortens summaries.
    public var gather = GatherSettings()
    /// What is counted of readers' clicks: nothing unless the publication chose it.
    public var tracking = TrackingSettings()
    /// The VERP return path of runs to subscribers (`bounces+TOKEN@domain`), when set.
    public var bounce: BounceSettings?
    /// Where the list and the ledger are kept (`store:`): a path to the SQLite file (relative to the
    /// workspace), or `postgres://USER@HOST:PORT/DATABASE?sslmode=…`; nil for `digest.sqlite` in the workspace.
    public var store: String?
    /// How often the digest goes out (`daily`, `weekly`), for the footer's words; nil when not said.
    public var cadence: String?
    /// The publication's own words for the templates' fixed labels, over its language's table.
    public var labelOverrides: [String: String] = [:]

    /// The templates' fixed words in the publication's language, with its own overrides.
    public var labels: [String: String] { Labels.table(language: language, overrides: labelOverrides) }

    public init(
        name: String, domain: String, language: String = "en", sender: Mailbox, replyTo: EmailAddress? = nil,
        timeZone: TimeZone, smtp: SMTPSettings, postalAddress: String, unsubscribeURL: String,
        archiveURL: String? = nil, templates: String? = nil, listID: String? = nil,
        unsubscribeMailbox: EmailAddress? = nil, feedbackID: String? = nil, dkim: DKIMSettings? = nil,
        feeds: [FeedSource] = [], gather: GatherSettings = GatherSettings()
    ) {
        self.name = name
        self.domain = domain
        self.language = language
        self.sender = sender
        self.replyTo = replyTo
        self.timeZone = timeZone
        self.smtp = smtp
        self.postalAddress = postalAddress
        self.unsubscribeURL = unsubscribeURL
        self.archiveURL = archiveURL
        self.templates = templates
        self.listID = listID ?? domain
        self.unsubscribeMailbox = unsubscribeMailbox ?? EmailAddress(known: "unsubscribe", domain)
        self.feedbackID = feedbackID
        self.dkim = dkim
        self.feeds = feeds
        self.gather = gather
    }

    /// The web address of the edition of `date`, when the publication has an archive.
    public func archiveURL(for date: EditionDate) -> String? {
        archiveURL?.replacingOccurrences(of: "{date}", with: date.description)
    }

    /// The edition date that holds the moment `now` in the publication's time zone: "today".
    public func today(at now: Date) -> EditionDate {
        EditionDate(containing: now, in: timeZone)
    }
}

/// Where bounces come back: each message of a run goes out with the envelope sender
/// `LOCAL+TOKEN@domain` (VERP), TOKEN naming the run and the reader, signed.
public struct BounceSettings: Equatable, Sendable {
    public var domain: String
    public var localPart: String
    /// The mailbox those reports arrive in, which `digest bounces fetch` reads; nil when not set.
    public var mailbox: BounceMailbox?
    /// What `digest bounces fetch` does with a message once what it says is recorded.
    public var after: AfterFetch = .keep
    /// A CA certificate file (PEM) to trust for the mailbox server, for a private CA.
    public var caFile: String?
    /// `soft_limit` soft bounces within `soft_days` days mark a reader bounced.
    public var softLimit: Int = 3
    public var softDays: Int = 15

    public init(domain: String, localPart: String = "bounces") {
        self.domain = domain
        self.localPart = localPart
    }

    /// What becomes of a processed message in the bounce mailbox.
    public enum AfterFetch: Equatable, Sendable, CustomStringConvertible {
        case keep
        case delete
        /// Into this IMAP folder (created when missing).
        case move(String)

        /// `keep`, `delete` or `move:Folder`; nil for anything else.
        public init?(_ text: String) {
            switch text {
            case "keep": self = .keep
            case "delete": self = .delete
            default:
                guard text.hasPrefix("move:") else { return nil }
                let folder = String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces)
                guard !folder.isEmpty, folder.allSatisfy({ $0.isASCII && $0 != "\"" && $0 != "\\" }),
                    !folder.contains(where: { $0.isNewline })
                else { return nil }
                self = .move(folder)
            }
        }

        public var description: String {
            switch self {
            case .keep: "keep"
            case .delete: "delete"
            case .move(let folder): "move:\(folder)"
            }
        }
    }
}

/// The bounce mailbox: `imaps://user@host:993/INBOX`, `imap://…` (STARTTLS), `pop3s://user@host:995` or
/// `pop3://…` (STARTTLS). The password is never in the URL: it comes from DIGEST_BOUNCE_PASSWORD(_FILE).
public struct BounceMailbox: Equatable, Sendable {
    /// As written in publication.yaml (it names the mailbox in the store's record of processed messages).
    public var url: String
    public var isPOP3: Bool
    /// Implicit TLS (`imaps`, `pop3s`); otherwise STARTTLS.
    public var implicitTLS: Bool
    public var host: String
    public var port: Int
    public var user: String
    /// The IMAP folder (`INBOX` when the URL names none); empty for POP3.
    public var folder: String

    /// `imaps://host:993`: the server, without user or folder.
    public var server: String {
        let scheme = (isPOP3 ? "pop3" : "imap") + (implicitTLS ? "s" : "")
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// `host:port`, for messages.
    public var address: String { "\(host):\(port)" }

    /// Reads a mailbox URL; the problem in words when it is not one.
    public static func parse(_ url: String) -> Result<BounceMailbox, BounceMailboxProblem> {
        func fail(_ text: String) -> Result<BounceMailbox, BounceMailboxProblem> { .failure(.init(message: text)) }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            return fail("'\(url)' is not a URL; write imaps://user@host:993/INBOX or pop3s://user@host:995")
        }
        let ports = ["imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110]
        guard let defaultPort = ports[scheme] else {
            return fail("the mailbox URL must start with imaps://, imap://, pop3s:// or pop3://, not \(scheme)://")
        }
        if components.password != nil {
            return fail(
                "the mailbox URL must not carry a password; set DIGEST_BOUNCE_PASSWORD (or DIGEST_BOUNCE_PASSWORD_FILE)"
            )
        }
        guard let host = components.host, !host.isEmpty else { return fail("the mailbox URL '\(url)' names no host") }
        guard let user = components.user, !user.isEmpty else {
            return fail("the mailbox URL names no user: write \(scheme)://USER@\(host)/…")
        }
        let isPOP3 = scheme.hasPrefix("pop3")
        var folder = components.path
        while folder.hasPrefix("/") { folder.removeFirst() }
        if isPOP3, !folder.isEmpty {
            return fail("a POP3 mailbox has no folders: write \(scheme)://\(user)@\(host) without /\(folder)")
        }
        if !isPOP3 {
            if folder.isEmpty { folder = "INBOX" }
            if folder.contains(";") || folder.contains("\"") || !folder.allSatisfy(\.isASCII) {
                return fail("the IMAP folder '\(folder)' must be plain ASCII without ; or \"")
            }
        }
        return .success(
            BounceMailbox(
                url: url, isPOP3: isPOP3, implicitTLS: scheme.hasSuffix("s"), host: host,
                port: components.port ?? defaultPort, user: user, folder: isPOP3 ? "" : folder))
    }
}

/// What is wrong with a mailbox URL.
public struct BounceMailboxProblem: Error, Equatable, Sendable {
    public var message: String
}

/// What digest counts of what readers do. Opens are never tracked (Apple Mail Privacy Protection and
/// image proxies fetch every picture, so an "open" means nothing).
public struct TrackingSettings: Equatable, Sendable {
    public enum Clicks: String, Sendable {
        /// Nothing is counted: links go straight to the stories.
        case off
        /// Clicks are counted per story of an edition, through `digest serve`'s `/l/…` links; no reader
        /// identity is in a link.
        case stories
    }

    public var clicks: Clicks = .off
    /// The public address of `digest serve` (`https://news.example.com`); by default `unsubscribe_url`
    /// without its `/unsubscribe`.
    public var baseURL: String?

    public init(clicks: Clicks = .off, baseURL: String? = nil) {
        self.clicks = clicks
        self.baseURL = baseURL
    }
}

extension Publication {
    /// Where `digest serve` answers the public, for `/l/…` links: `tracking.base_url`, or the unsubscribe
    /// URL without its last `/unsubscribe`.
    public var clickBaseURL: String? {
        if let base = tracking.baseURL { return base.hasSuffix("/") ? String(base.dropLast()) : base }
        var url = unsubscribeURL
        if url.hasSuffix("/") { url.removeLast() }
        guard url.hasSuffix("/unsubscribe") else { return nil }
        return String(url.dropLast("/unsubscribe".count))
    }
}

/// A feed and the section its items go to.
public struct FeedSource: Equatable, Sendable {
    public var url: String
    public var section: String
    /// Forces every item of the feed to this kind; nil to tell from each item (audio → podcast, …).
    public var kind: Item.Kind?

    public init(url: String, section: String, kind: Item.Kind? = nil) {
        self.url = url
        self.section = section
        self.kind = kind
    }
}

/// How `digest gather` picks and shapes items.
public struct GatherSettings: Equatable, Sendable {
    public enum Window: String, Equatable, Sendable {
        /// Items published on the edition's day, in the publication's time zone.
        case day
        /// Items published after the day of the previous edition, up to the end of this one's day.
        case sinceLastEdition = "since-last-edition"
    }

    public var window: Window
    /// Summaries are cut at a sentence end near this many characters.
    public var summaryLength: Int
    /// Seconds a feed may take to arrive, in all.
    public var timeout: Int

    public init(window: Window = .day, summaryLength: Int = 280, timeout: Int = 30) {
        self.window = window
        self.summaryLength = summaryLength
        self.timeout = timeout
    }
}

/// The DKIM keys a publication signs with: the signing domain and one or more selectors, each with the
/// path of its private key file (RSA 2048 for everyone; Ed25519 as a second signature).
public struct DKIMSettings: Equatable, Sendable {
    public struct Signature: Equatable, Sendable {
        public var selector: String
        public var keyFile: String

        public init(selector: String, keyFile: String) {
            self.selector = selector
            self.keyFile = keyFile
        }
    }

    public var domain: String
    public var signatures: [Signature]

    public init(domain: String, signatures: [Signature]) {
        self.domain = domain
        self.signatures = signatures
    }
}

/// Where and how digest hands mail to a relay. Credentials are not here: they come from the environment.
public struct SMTPSettings: Equatable, Sendable {
    /// `smtp://host:port` (STARTTLS) or `smtps://host:port` (TLS from the start).
    public var url: String
    /// The name digest gives in EHLO; the sender's domain when not set.
    public var helo: String?
    /// A PEM file of certificate authorities to trust, for relays with a private CA.
    public var caFile: String?
    /// The SPF include the relay's documentation asks senders to publish (`include:_spf.relay.example`);
    /// `digest dns check` looks for it instead of the relay host's addresses.
    public var spfInclude: String?

    public init(url: String, helo: String? = nil, caFile: String? = nil, spfInclude: String? = nil) {
        self.url = url
        self.helo = helo
        self.caFile = caFile
        self.spfInclude = spfInclude
    }

    /// The problem with `url`, or nil when it is a usable SMTP server address.
    public static func problem(with url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            return "'\(url)' is not a URL; write smtp://host:587 or smtps://host:465"
        }
        guard scheme == "smtp" || scheme == "smtps" else {
            return "the SMTP URL must start with smtp:// or smtps://, not \(scheme)://"
        }
        guard let host = components.host, !host.isEmpty else { return "the SMTP URL '\(url)' names no host" }
        if components.user != nil || components.password != nil {
            return "the SMTP URL must not carry a user or password; set DIGEST_SMTP_USER and DIGEST_SMTP_PASSWORD"
        }
        return nil
    }
}

extension Publication {
    static let fields = [
        "name", "domain", "language", "sender", "reply_to", "time_zone", "smtp", "postal_address",
        "unsubscribe_url", "archive_url", "templates", "list_id", "unsubscribe_mailbox", "feedback_id", "dkim",
        "feeds", "gather", "tracking", "cadence", "labels", "bounce", "store",
    ]

    /// What is wrong with a `store:` value, if anything: only a path or a PostgreSQL URL without a password.
    public static func storeProblem(_ value: String) -> (message: String, fix: String)? {
        guard value.contains("://") else { return nil }
        guard value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") else {
            return (
                "'store' must be a path to the SQLite file or a postgres:// URL, not '\(value)'",
                "write store: postgres://USER@HOST:5432/DATABASE, or leave it out for digest.sqlite"
            )
        }
        if let components = URLComponents(string: value), components.password != nil {
            return (
                "'store' has a password in its URL: a secret must never be in publication.yaml",
                "take the password out of the URL and set DIGEST_STORE_PASSWORD (or DIGEST_STORE_PASSWORD_FILE)"
            )
        }
        return nil
    }

    /// The `store:` value of a publication.yaml, read on its own (a command about the list needs no more of
    /// the file); nil when the file has none or cannot be read as YAML.
    public static func storeSetting(_ text: String) -> String? {
        guard let root = try? Yams.compose(yaml: text), case .mapping(let map) = root,
            let node = map["store"], case .scalar(let scalar) = node, !scalar.string.isEmpty
        else { return nil }
        return scalar.string
    }

    /// The cadences the footer can name.
    public static let cadences = ["daily", "weekly"]

    /// Reads `publication.yaml`. Throws `Problems` naming every bad or missing field.
    public static func decode(_ text: String, file: String) throws -> Publication {
        let reader = YAMLReader(file: file)
        guard let root = reader.parse(text) else { throw Problems(reader.problems) }
        let what = "the publication"
        guard let map = reader.mapping(root, named: what, allowed: fields) else { throw Problems(reader.problems) }
        let name = reader.string(map, "name", in: what, required: true)
        let domain = reader.string(map, "domain", in: what, required: true)
        if let domain, !EmailAddress.isHostname(domain) {
            reader.report(map["domain"], "'domain' must be a host name such as example.com, not '\(domain)'")
        }
        let language = reader.string(map, "language", in: what) ?? "en"
        var sender: Mailbox?
        if let node = map["sender"] {
            if let senderMap = reader.mapping(node, named: "'sender'", allowed: ["name", "address"]) {
                let senderName = reader.string(senderMap, "name", in: "'sender'") ?? ""
                if let text = reader.string(senderMap, "address", in: "'sender'", required: true) {
                    if let address = EmailAddress(text) {
                        sender = Mailbox(name: senderName, address: address)
                    } else {
                        reader.report(
                            senderMap["address"],
                            "'address' of 'sender' is not an email address: \(EmailAddress.reason(text))")
                    }
                }
            }
        } else {
            reader.report(map.first?.key, "\(what) is missing 'sender' (name and address)")
        }
        var replyTo: EmailAddress?
        if let text = reader.string(map, "reply_to", in: what) {
            replyTo = EmailAddress(text)
            if replyTo == nil {
                reader.report(map["reply_to"], "'reply_to' is not an email address: \(EmailAddress.reason(text))")
            }
        }
        var timeZone: TimeZone?
        if let text = reader.string(map, "time_zone", in: what, required: true) {
            timeZone = TimeZone(identifier: text)
            if timeZone == nil {
                reader.report(
                    map["time_zone"], "'time_zone' '\(text)' is not a time zone name",
                    fix: "use a name such as Europe/London or America/New_York")
            }
        }
        var smtp: SMTPSettings?
        if let node = map["smtp"] {
            if let smtpMap = reader.mapping(node, named: "'smtp'", allowed: ["url", "helo", "ca_file", "spf_include"]) {
                let spfInclude = reader.string(smtpMap, "spf_include", in: "'smtp'")
                // SPF includes are DNS names, often with underscores (_spf.google.com).
                if let spfInclude, !EmailAddress.isHostname(spfInclude.replacingOccurrences(of: "_", with: "u")) {
                    reader.report(
                        smtpMap["spf_include"],
                        "'spf_include' of 'smtp' must be a domain such as _spf.relay.example, not '\(spfInclude)'")
                }
                if let url = reader.string(smtpMap, "url", in: "'smtp'", required: true) {
                    if let problem = SMTPSettings.problem(with: url) {
                        reader.report(smtpMap["url"], problem)
                    } else {
                        smtp = SMTPSettings(
                            url: url, helo: reader.string(smtpMap, "helo", in: "'smtp'"),
                            caFile: reader.string(smtpMap, "ca_file", in: "'smtp'"), spfInclude: spfInclude)
                    }
                }
            }
        } else {
            reader.report(map.first?.key, "\(what) is missing 'smtp' (at least its url)")
        }
        let postal = reader.string(map, "postal_address", in: what, required: true)
        let unsubscribe = reader.url(map, "unsubscribe_url", in: what, required: true)
        // The URL goes into List-Unsubscribe with a token of about 60 characters: keep the header line
        // far below SMTP's 998-octet limit.
        if let unsubscribe, unsubscribe.utf8.count > 400 {
            reader.report(map["unsubscribe_url"], "'unsubscribe_url' is longer than 400 characters")
        }
        let archive = reader.string(map, "archive_url", in: what)
        if let archive, !YAMLReader.isWebURL(archive.replacingOccurrences(of: "{date}", with: "2017-11-18")) {
            reader.report(map["archive_url"], "'archive_url' must be a full https:// address (with {date} for the day)")
        }
        let templates = reader.string(map, "templates", in: what)
        let listID = reader.string(map, "list_id", in: what)
        if let listID, !EmailAddress.isHostname(listID) {
            reader.report(map["list_id"], "'list_id' must look like a host name (digest.example.com), not '\(listID)'")
        }
        var unsubscribeMailbox: EmailAddress?
        if let text = reader.string(map, "unsubscribe_mailbox", in: what) {
            unsubscribeMailbox = EmailAddress(text)
            if unsubscribeMailbox == nil {
                reader.report(
                    map["unsubscribe_mailbox"],
                    "'unsubscribe_mailbox' is not an email address: \(EmailAddress.reason(text))")
            }
        }
        let feedbackID = reader.string(map, "feedback_id", in: what).map(TextMarks.singleLine)
        let dkim = map["dkim"].flatMap { decodeDKIM($0, defaultDomain: domain, reader: reader) }
        let feeds = (reader.sequence(map, "feeds", in: what) ?? []).enumerated().compactMap { index, node in
            decodeFeed(node, number: index + 1, reader: reader)
        }
        let gather = map["gather"].map { decodeGather($0, reader: reader) } ?? GatherSettings()
        let tracking = map["tracking"].map { decodeTracking($0, reader: reader) } ?? TrackingSettings()
        var bounce: BounceSettings?
        if let node = map["bounce"],
            let bounceMap = reader.mapping(
                node, named: "'bounce'",
                allowed: ["domain", "local_part", "mailbox", "after", "ca_file", "soft_limit", "soft_days"])
        {
            let domain = reader.string(bounceMap, "domain", in: "'bounce'", required: true)
            let local = reader.string(bounceMap, "local_part", in: "'bounce'") ?? "bounces"
            if let domain, !EmailAddress.isHostname(domain) {
                reader.report(
                    bounceMap["domain"], "'domain' of 'bounce' must be a host name such as bounce.example.com")
            } else if EmailAddress("\(local)@example.com") == nil || local.contains("+") {
                reader.report(
                    bounceMap["local_part"], "'local_part' of 'bounce' must be letters, digits, . _ or - (no +)")
            } else if let domain {
                bounce = BounceSettings(domain: domain.lowercased(), localPart: local)
            }
            decodeBounceMailbox(bounceMap, into: &bounce, reader: reader)
        }
        let store = reader.string(map, "store", in: what)
        if let store, let problem = storeProblem(store) {
            reader.report(map["store"], problem.message, fix: problem.fix)
        }
        let cadence = reader.string(map, "cadence", in: what)
        if let cadence, !cadences.contains(cadence) {
            reader.report(
                map["cadence"], "'cadence' must be \(cadences.joined(separator: " or ")), not '\(cadence)'",
                fix: "leave it out when the digest goes out at no fixed rhythm")
        }
        var labels: [String: String] = [:]
        if let node = map["labels"], let labelMap = reader.mapping(node, named: "'labels'", allowed: Labels.names) {
            for name in Labels.names { labels[name] = reader.string(labelMap, name, in: "'labels'") }
        }
        guard reader.problems.isEmpty, let name, let domain, let sender, let timeZone, let smtp, let postal,
            let unsubscribe
        else { throw Problems(reader.problems) }
        var publication = Publication(
            name: name, domain: domain, language: language, sender: sender, replyTo: replyTo, timeZone: timeZone,
            smtp: smtp, postalAddress: postal.trimmingCharacters(in: .whitespacesAndNewlines),
            unsubscribeURL: unsubscribe, archiveURL: archive, templates: templates, listID: listID,
            unsubscribeMailbox: unsubscribeMailbox, feedbackID: feedbackID, dkim: dkim, feeds: feeds, gather: gather)
        publication.cadence = cadence
        publication.labelOverrides = labels
        publication.tracking = tracking
        publication.bounce = bounce
        publication.store = store
        if tracking.clicks != .off, publication.clickBaseURL == nil {
            reader.report(
                map["tracking"],
                "counting clicks needs the public address of digest serve: unsubscribe_url does not end in /unsubscribe",
                fix: "add base_url under tracking:, e.g. base_url: https://news.example.com")
            throw Problems(reader.problems)
        }
        return publication
    }

    /// The `mailbox`, `after`, `ca_file`, `soft_limit` and `soft_days` of `bounce:`.
    private static func decodeBounceMailbox(
        _ map: Node.Mapping, into bounce: inout BounceSettings?, reader: YAMLReader
    ) {
        let what = "'bounce'"
        if let url = reader.string(map, "mailbox", in: what) {
            switch BounceMailbox.parse(url) {
            case .success(let mailbox): bounce?.mailbox = mailbox
            case .failure(let problem): reader.report(map["mailbox"], "'mailbox' of 'bounce': \(problem.message)")
            }
        }
        if let text = reader.string(map, "after", in: what) {
            if let after = BounceSettings.AfterFetch(text) {
                if case .move = after, bounce?.mailbox?.isPOP3 == true {
                    reader.report(
                        map["after"], "'after' of 'bounce' cannot move messages of a POP3 mailbox",
                        fix: "write keep or delete, or read the mailbox over IMAP")
                } else {
                    bounce?.after = after
                }
            } else {
                reader.report(
                    map["after"], "'after' of 'bounce' must be keep, delete or move:FOLDER, not '\(text)'",
                    fix: "keep leaves processed messages where they are (the default); move:Processed files them")
            }
        }
        bounce?.caFile = reader.string(map, "ca_file", in: what)
        if let limit = reader.int(map, "soft_limit", in: what, range: 1...1_000) { bounce?.softLimit = limit }
        if let days = reader.int(map, "soft_days", in: what, range: 1...3_650) { bounce?.softDays = days }
    }

    private static func decodeTracking(_ node: Node, reader: YAMLReader) -> TrackingSettings {
        var settings = TrackingSettings()
        guard let map = reader.mapping(node, named: "'tracking'", allowed: ["clicks", "base_url"]) else {
            return settings
        }
        if let text = reader.string(map, "clicks", in: "'tracking'") {
            if let clicks = TrackingSettings.Clicks(rawValue: text) {
                settings.clicks = clicks
            } else {
                reader.report(
                    map["clicks"], "'clicks' of 'tracking' must be off or stories, not '\(text)'",
                    fix: "stories counts clicks per story without telling readers apart; off counts nothing")
            }
        }
        settings.baseURL = reader.url(map, "base_url", in: "'tracking'")
        return settings
    }

    private static func decodeFeed(_ node: Node, number: Int, reader: YAMLReader) -> FeedSource? {
        let what = "feed \(number)"
        guard let map = reader.mapping(node, named: what, allowed: ["url", "section", "kind"]),
            let url = reader.string(map, "url", in: what, required: true),
            let section = reader.string(map, "section", in: what, required: true)
        else { return nil }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("file://") else {
            reader.report(map["url"], "'url' of \(what) must start with http://, https:// or file://, not '\(url)'")
            return nil
        }
        var kind: Item.Kind?
        if let text = reader.string(map, "kind", in: what) {
            kind = Item.Kind(rawValue: text)
            if kind == nil {
                reader.report(map["kind"], "'kind' of \(what) must be article, podcast or video, not '\(text)'")
            }
        }
        return FeedSource(url: url, section: section, kind: kind)
    }

    private static func decodeGather(_ node: Node, reader: YAMLReader) -> GatherSettings {
        var settings = GatherSettings()
        guard let map = reader.mapping(node, named: "'gather'", allowed: ["window", "summary_length", "timeout"]) else {
            return settings
        }
        if let timeout = reader.int(map, "timeout", in: "'gather'", range: 1...600) { settings.timeout = timeout }
        if let text = reader.string(map, "window", in: "'gather'") {
            if let window = GatherSettings.Window(rawValue: text) {
                settings.window = window
            } else {
                reader.report(map["window"], "'window' of 'gather' must be day or since-last-edition, not '\(text)'")
            }
        }
        if let length = reader.int(map, "summary_length", in: "'gather'", range: 40...5_000) {
            settings.summaryLength = length
        }
        return settings
    }

    private static func decodeDKIM(_ node: Node, defaultDomain: String?, reader: YAMLReader) -> DKIMSettings? {
        let what = "'dkim'"
        guard let map = reader.mapping(node, named: what, allowed: ["domain", "signatures"]) else { return nil }
        let domain = reader.string(map, "domain", in: what) ?? defaultDomain
        if let domain, !EmailAddress.isHostname(domain) {
            reader.report(map["domain"], "'domain' of 'dkim' must be a host name, not '\(domain)'")
        }
        let nodes = reader.sequence(map, "signatures", in: what, required: true) ?? []
        if nodes.isEmpty {
            reader.report(map["signatures"] ?? node, "'signatures' of 'dkim' needs at least one selector and key_file")
        }
        let signatures = nodes.enumerated().compactMap { index, node -> DKIMSettings.Signature? in
            let inner = "signature \(index + 1) of 'dkim'"
            guard let signature = reader.mapping(node, named: inner, allowed: ["selector", "key_file"]),
                let selector = reader.string(signature, "selector", in: inner, required: true),
                let keyFile = reader.string(signature, "key_file", in: inner, required: true)
            else { return nil }
            guard EmailAddress.isDotAtom(selector), !selector.contains("@") else {
                reader.report(
                    signature["selector"], "'selector' must be letters, digits, dots and hyphens, not '\(selector)'")
                return nil
            }
            return DKIMSettings.Signature(selector: selector, keyFile: keyFile)
        }
        guard let domain else { return nil }
        return DKIMSettings(domain: domain, signatures: signatures)
    }
}
