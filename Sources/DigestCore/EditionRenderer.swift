/// An edition rendered once: the HTML part, and the text part before it is fitted to a width.
public struct RenderedEdition: Sendable {
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

    /// Renders both parts. `unsubscribeURL` is the reader's own link (the publication's when not personal).
    public func render(_ edition: Edition, unsubscribeURL: String? = nil) throws -> RenderedEdition {
        let unsubscribe = unsubscribeURL ?? publication.unsubscribeURL
        let htmlView = EditionView.build(
            edition: edition, publication: publication, target: .html, unsubscribeURL: unsubscribe)
        let textView = EditionView.build(
            edition: edition, publication: publication, target: .text, unsubscribeURL: unsubscribe)
        let html = try templates.render(htmlView, template: "digest.html")
        let text = try templates.render(textView, template: "digest.txt")
        return RenderedEdition(
            subject: TextMarks.strip(edition.subject), preheader: TextMarks.strip(edition.preheader),
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
