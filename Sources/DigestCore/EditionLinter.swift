/// Gmail shows "[Message clipped]" and hides the rest (the unsubscribe link with it) when a message's
/// HTML is larger than about 102 KB.
public enum GmailClipping {
    /// The size past which Gmail clips.
    public static let limit = 102 * 1024
    /// What digest aims to stay under, leaving room for per-reader links and a relay's additions.
    public static let budget = 90 * 1024

    /// A sentence for the editor when `html` is over the limit, else nil.
    public static func warning(html: String) -> String? {
        let size = html.utf8.count
        guard size > limit else { return nil }
        return "the HTML part is \(kilobytes(size)), over Gmail's \(kilobytes(limit)) clipping limit: "
            + "Gmail will hide its end, the unsubscribe link included; cut items or shorten summaries"
    }

    /// `93.4 KB` (1 KB = 1,024 bytes, as Gmail counts).
    public static func kilobytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + 512) / 1024
        return "\(tenths / 10).\(tenths % 10) KB"
    }
}

/// What a parser found in the rendered HTML part: its links and images, in document order.
public struct HTMLFacts: Sendable, Equatable {
    public struct ImageTag: Sendable, Equatable {
        public var src: String
        /// nil when the tag has no `alt` attribute at all.
        public var alt: String?

        public init(src: String, alt: String?) {
            self.src = src
            self.alt = alt
        }
    }

    public var links: [String]
    public var images: [ImageTag]

    public init(links: [String], images: [ImageTag]) {
        self.links = links
        self.images = images
    }
}

/// How one link answered.
public struct LinkCheck: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// A 2xx (after redirects).
        case answers
        /// Gone for sure: 404, 410 or another client error, a host that does not resolve, a refused connection.
        case broken(String)
        /// No clear answer: a timeout, a server error, or a refusal that may be aimed at robots (401, 403, 429).
        case doubtful(String)
    }

    /// The reason given when a link's host name does not resolve.
    public static let unresolvedHost = "the host name does not resolve"

    public var url: String
    public var outcome: Outcome
    /// The HTTP status of the last answer, 0 when none came.
    public var status: Int
    /// Whether a GET was needed because the HEAD request failed.
    public var neededGET: Bool
    public var seconds: Double

    public init(url: String, outcome: Outcome, status: Int, neededGET: Bool, seconds: Double) {
        self.url = url
        self.outcome = outcome
        self.status = status
        self.neededGET = neededGET
        self.seconds = seconds
    }
}

/// One thing `digest check` found, with the item it concerns and what to do.
public struct Finding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case error, warning

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .error && rhs == .warning }
    }

    public var severity: Severity
    /// `edition`, or the item: `Syria, item 1 "Syria Daily: …"`.
    public var subject: String
    public var message: String
    public var fix: String

    public init(_ severity: Severity, _ subject: String, _ message: String, fix: String) {
        self.severity = severity
        self.subject = subject
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(severity.rawValue): \(subject): \(message)\n  fix: \(fix)" }
}

/// Lints an edition before it is sent: the edition's fields, its rendered parts, and (when given) how its
/// links answered. Pure: the HTML is parsed and the links are checked by the caller.
public enum EditionLinter {
    /// RFC 5322's recommended line length, and about what a phone's inbox shows of a subject.
    public static let subjectLimit = 78

    /// `cutTitles` are the titles of the items the editor cut (the ids in `removed:`), when known: a
    /// subject or preheader that still names one is flagged.
    public static func check(
        edition: Edition, rendered: RenderedEdition, unsubscribeURL: String, html: HTMLFacts, links: [LinkCheck]?,
        cutTitles: [String] = []
    ) -> [Finding] {
        var findings: [Finding] = []
        if edition.items.isEmpty {
            findings.append(
                Finding(
                    .error, "edition", "nothing to send: the edition has no items",
                    fix: "run digest gather, add items with digest add, or write them under sections: in the file"))
        }
        findings += leadFindings(edition)
        findings += cutItemFindings(edition, cutTitles: cutTitles)
        var itemNames: [String: String] = [unsubscribeURL: "footer (the unsubscribe link)"]
        let subject = TextMarks.singleLine(edition.subject)
        if subject.isEmpty {
            findings.append(
                Finding(
                    .error, "edition", "the subject is empty", fix: "write a subject: line in the edition file"))
        } else if subject.count > subjectLimit {
            findings.append(
                Finding(
                    .warning, "edition",
                    "the subject is \(subject.count) characters long; inboxes cut it after about \(subjectLimit)",
                    fix: "shorten the subject to \(subjectLimit) characters or fewer"))
        }
        if TextMarks.singleLine(edition.preheader).isEmpty {
            findings.append(
                Finding(
                    .warning, "edition",
                    "there is no preheader: inboxes will show the first words of the email after the subject",
                    fix: "write a preheader: line, one sentence that makes the reader open the email"))
        }

        var firstItemForURL: [String: String] = [:]
        var editionImages: Set<String> = []
        for (sectionIndex, section) in edition.sections.enumerated() {
            for (itemIndex, item) in section.items.enumerated() {
                let name = itemName(section: section, sectionIndex: sectionIndex, itemIndex: itemIndex, item: item)
                let url = item.url.trimmingCharacters(in: .whitespaces)
                if url.isEmpty {
                    findings.append(
                        Finding(.error, name, "the item has no URL", fix: "give it the url: of its page"))
                } else if let first = firstItemForURL[comparable(url)] {
                    findings.append(
                        Finding(
                            .warning, name, "links to \(url), as \(first) does",
                            fix: "cut one of the two, or point this one at its own page"))
                } else {
                    firstItemForURL[comparable(url)] = name
                    itemNames[url] = name
                    itemNames[TrackingParameters.strip(url)] = name
                }
                if case .podcast(let episode) = item.content, let audio = episode.audio {
                    itemNames[audio.url] = itemNames[audio.url] ?? name
                    let mailed = TrackingParameters.strip(audio.url)
                    itemNames[mailed] = itemNames[mailed] ?? name
                }
                if TextMarks.singleLine(item.summary).isEmpty {
                    findings.append(
                        Finding(
                            .warning, name, "the item has no summary",
                            fix: "write a summary: of a sentence or two, or cut the item"))
                }
                for image in item.images {
                    editionImages.insert(image.url)
                    if TextMarks.singleLine(image.alt).isEmpty {
                        findings.append(
                            Finding(
                                .error, name, "the image \(image.url) has no alt text",
                                fix: "describe what the picture shows in its alt: (readers with images off see it)"))
                    }
                }
            }
        }
        for image in html.images where !editionImages.contains(image.src) && (image.alt ?? "").isEmpty {
            findings.append(
                Finding(
                    .error, "template", "the HTML part has an image without alt text: \(image.src)",
                    fix: "add alt=\"…\" to its <img> in the template (alt=\"\" only for a purely decorative image)"))
        }

        let size = rendered.html.utf8.count
        if size > GmailClipping.limit {
            findings.append(
                Finding(
                    .error, "edition",
                    "the HTML part is \(GmailClipping.kilobytes(size)), over Gmail's "
                        + "\(GmailClipping.kilobytes(GmailClipping.limit)) clipping limit: Gmail hides the end, "
                        + "unsubscribe link included",
                    fix:
                        "cut items or shorten summaries until it is under \(GmailClipping.kilobytes(GmailClipping.budget))"
                ))
        } else if size > GmailClipping.budget {
            findings.append(
                Finding(
                    .warning, "edition",
                    "the HTML part is \(GmailClipping.kilobytes(size)), close to Gmail's "
                        + "\(GmailClipping.kilobytes(GmailClipping.limit)) clipping limit",
                    fix:
                        "stay under \(GmailClipping.kilobytes(GmailClipping.budget)) to leave room for per-reader links"
                ))
        }

        let textLinks = Set(rendered.links + [unsubscribeURL])
        let htmlLinks = Set(html.links)
        for url in ordered(html.links) where !textLinks.contains(url) {
            findings.append(
                Finding(
                    .error, itemNames[url] ?? "note or footer", "the HTML part links to \(url), the text part does not",
                    fix:
                        "the two templates must give the same links: add it to the text template or drop it from the HTML one"
                ))
        }
        for url in ordered(rendered.links + [unsubscribeURL]) where !htmlLinks.contains(url) {
            findings.append(
                Finding(
                    .error, itemNames[url] ?? "note or footer", "the text part links to \(url), the HTML part does not",
                    fix:
                        "the two templates must give the same links: add it to the HTML template or drop it from the text one"
                ))
        }

        for check in links ?? [] {
            switch check.outcome {
            case .answers: continue
            case .broken(let reason):
                findings.append(
                    Finding(
                        .error, itemNames[check.url] ?? "note or footer", "\(check.url) does not answer: \(reason)",
                        fix: "correct the link or cut the item; open it in a browser to see what happened"))
            case .doubtful(let reason):
                findings.append(
                    Finding(
                        .warning, itemNames[check.url] ?? "note or footer",
                        "\(check.url) gave no clear answer: \(reason)",
                        fix: "open it in a browser: if it works there, the site was slow or turned a robot away"))
            }
        }
        return findings
    }

    /// More than one item marked `lead: true`: only one can lead.
    static func leadFindings(_ edition: Edition) -> [Finding] {
        var leads: [String] = []
        for (sectionIndex, section) in edition.sections.enumerated() {
            for (itemIndex, item) in section.items.enumerated() where item.isLead {
                leads.append(itemName(section: section, sectionIndex: sectionIndex, itemIndex: itemIndex, item: item))
            }
        }
        guard leads.count > 1 else { return [] }
        return [
            Finding(
                .error, "edition", "\(leads.count) items are marked as the lead: \(leads.joined(separator: " and "))",
                fix: "keep 'lead: true' on the one top story and remove it from the others")
        ]
    }

    /// A subject or preheader that names an item the editor cut.
    static func cutItemFindings(_ edition: Edition, cutTitles: [String]) -> [Finding] {
        let kept = Set(edition.items.map { normalized($0.title) })
        var findings: [Finding] = []
        for (field, text) in [("subject", edition.subject), ("preheader", edition.preheader)] {
            let line = normalized(text)
            guard !line.isEmpty else { continue }
            for title in cutTitles {
                let cut = normalized(title)
                guard !cut.isEmpty, !kept.contains(cut), line.contains(cut) else { continue }
                findings.append(
                    Finding(
                        .warning, "edition", "the \(field) names \"\(TextMarks.singleLine(title))\", an item you cut",
                        fix: "rewrite the \(field): line without it (or delete the preheader and run digest gather "
                            + "to write a fresh one)"))
            }
        }
        return findings
    }

    static func normalized(_ text: String) -> String {
        TextMarks.singleLine(text).lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The links a check should try: every http(s) link of both parts, once, in order.
    public static func checkableLinks(rendered: RenderedEdition, html: HTMLFacts) -> [String] {
        ordered(rendered.links + html.links).filter {
            let lower = $0.lowercased()
            return lower.hasPrefix("http://") || lower.hasPrefix("https://")
        }
    }

    static func itemName(section: Section, sectionIndex: Int, itemIndex: Int, item: Item) -> String {
        let title = TextMarks.singleLine(section.title)
        let sectionName = title.isEmpty ? "section \(sectionIndex + 1)" : title
        return "\(sectionName), item \(itemIndex + 1) \"\(TextMarks.singleLine(item.title))\""
    }

    /// A URL as compared for duplicates: no fragment, scheme and host in lower case, no trailing slash.
    static func comparable(_ url: String) -> String {
        var text = url.trimmingCharacters(in: .whitespaces)
        if let hash = text.firstIndex(of: "#") { text = String(text[..<hash]) }
        if let schemeEnd = text.range(of: "://") {
            let afterScheme = text[schemeEnd.upperBound...]
            let hostEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
            text = text[..<hostEnd].lowercased() + text[hostEnd...]
        }
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    static func ordered(_ urls: [String]) -> [String] {
        var seen: Set<String> = []
        return urls.filter { seen.insert($0).inserted }
    }
}

extension Item {
    /// The item's pictures: an article's image, a podcast's artwork, a video's thumbnail.
    var images: [Image] {
        switch content {
        case .article(let article): article.image.map { [$0] } ?? []
        case .podcast(let episode): episode.image.map { [$0] } ?? []
        case .video(let video): video.thumbnail.map { [$0] } ?? []
        }
    }
}
