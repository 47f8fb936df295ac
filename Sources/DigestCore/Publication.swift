import Foundation

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
    /// The template folder, relative to the workspace.
    public var templates: String

    public init(
        name: String, domain: String, language: String = "en", sender: Mailbox, replyTo: EmailAddress? = nil,
        timeZone: TimeZone, smtp: SMTPSettings, postalAddress: String, unsubscribeURL: String,
        archiveURL: String? = nil, templates: String = "Templates"
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
    }

    /// The web address of the edition of `date`, when the publication has an archive.
    public func archiveURL(for date: EditionDate) -> String? {
        archiveURL?.replacingOccurrences(of: "{date}", with: date.description)
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

    public init(url: String, helo: String? = nil, caFile: String? = nil) {
        self.url = url
        self.helo = helo
        self.caFile = caFile
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
        "unsubscribe_url", "archive_url", "templates",
    ]

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
            if let smtpMap = reader.mapping(node, named: "'smtp'", allowed: ["url", "helo", "ca_file"]) {
                if let url = reader.string(smtpMap, "url", in: "'smtp'", required: true) {
                    if let problem = SMTPSettings.problem(with: url) {
                        reader.report(smtpMap["url"], problem)
                    } else {
                        smtp = SMTPSettings(
                            url: url, helo: reader.string(smtpMap, "helo", in: "'smtp'"),
                            caFile: reader.string(smtpMap, "ca_file", in: "'smtp'"))
                    }
                }
            }
        } else {
            reader.report(map.first?.key, "\(what) is missing 'smtp' (at least its url)")
        }
        let postal = reader.string(map, "postal_address", in: what, required: true)
        let unsubscribe = reader.url(map, "unsubscribe_url", in: what, required: true)
        let archive = reader.string(map, "archive_url", in: what)
        if let archive, !YAMLReader.isWebURL(archive.replacingOccurrences(of: "{date}", with: "2017-11-18")) {
            reader.report(map["archive_url"], "'archive_url' must be a full https:// address (with {date} for the day)")
        }
        let templates = reader.string(map, "templates", in: what) ?? "Templates"
        guard reader.problems.isEmpty, let name, let domain, let sender, let timeZone, let smtp, let postal,
            let unsubscribe
        else { throw Problems(reader.problems) }
        return Publication(
            name: name, domain: domain, language: language, sender: sender, replyTo: replyTo, timeZone: timeZone,
            smtp: smtp, postalAddress: postal.trimmingCharacters(in: .whitespacesAndNewlines),
            unsubscribeURL: unsubscribe, archiveURL: archive, templates: templates)
    }
}
