/// An edition rendered once: the HTML part, and the text part before it is fitted to a width.
public struct RenderedEdition: Sendable, Codable, Equatable {
    public var subject: String
    public var preheader: String
    public var html: String
    /// The text part with its style marks, not yet wrapped.
    public var markedText: String
    /// The text part's numbered links, `[1]` first.
    public var links: [String]

    /// The text part wrapped to `width` columns and painted: plain for the email, styled for a terminal.
    public func text(width: Int = 72, painter: TextPainter = .plain) -> String {
        painter.paint(TextWrapper.wrap(markedText, width: width), links: links)
    }
}

/// Renders editions of one publication through its templates. Pure: no disk, no clock.
public struct EditionRenderer: Sendable {
    public let publication: Publication
    public let templates: TemplateSet

    public init(publication: Publication, templates: TemplateSet) {
        self.publication = publication
        self.templates = templates
    }

    /// Renders both parts for no reader in particular: the publication's unsubscribe page, no name.
    /// What the preview, the archive and `render` show.
    public func render(_ edition: Edition) throws -> RenderedEdition {
        try render(edition, unsubscribeURL: publication.unsubscribeURL, readerName: "")
    }

    /// Renders both parts once for every reader, with placeholders where each reader's own values go:
    /// `ReaderPlaceholder.token` in the unsubscribe URL and `ReaderPlaceholder.name` for the name.
    public func renderForReaders(_ edition: Edition) throws -> RenderedEdition {
        try render(
            edition, unsubscribeURL: ReaderPlaceholder.unsubscribeURL(base: publication.unsubscribeURL),
            readerName: ReaderPlaceholder.name)
    }

    func render(_ edition: Edition, unsubscribeURL: String, readerName: String) throws -> RenderedEdition {
        let htmlView = EditionView.build(
            edition: edition, publication: publication, target: .html, unsubscribeURL: unsubscribeURL,
            readerName: readerName)
        let textView = EditionView.build(
            edition: edition, publication: publication, target: .text, unsubscribeURL: unsubscribeURL,
            readerName: readerName)
        let html = try templates.render(htmlView, template: "digest.html")
        let text = try templates.render(textView, template: "digest.txt")
        return RenderedEdition(
            subject: TextMarks.singleLine(edition.subject), preheader: TextMarks.singleLine(edition.preheader),
            html: Self.tidy(html), markedText: Self.tidy(text), links: textView.references.map(\.url))
    }

    /// Trailing spaces off every line, no run of more than one blank line, one newline at the end.
    static func tidy(_ text: String) -> String {
        var lines: [Substring] = []
        var blank = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var trimmed = line
            while let last = trimmed.last, last == " " || last == "\t" || last == "\r" { trimmed = trimmed.dropLast() }
            if trimmed.isEmpty {
                blank += 1
                if blank > 1 || lines.isEmpty { continue }
            } else {
                blank = 0
            }
            lines.append(trimmed)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Stand-ins for what differs between readers, put into the rendering once and replaced per reader.
/// They are private-use characters, which are stripped from every value that comes from the edition
/// or a feed, so content can never contain one.
public enum ReaderPlaceholder {
    /// The reader's signed unsubscribe token.
    public static let token = "\u{E00A}"
    /// The reader's name.
    public static let name = "\u{E00B}"

    /// `base` with the token added as its `t` query parameter.
    public static func unsubscribeURL(base: String, token: String = ReaderPlaceholder.token) -> String {
        base + (base.contains("?") ? "&" : "?") + "t=" + token
    }
}
