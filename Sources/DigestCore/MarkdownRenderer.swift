/// Writes parsed Markdown as email HTML (styles inline, as mail clients need) or as marked text.
enum MarkdownRenderer {
    static let paragraphStyle = "margin:0 0 12px 0;font-size:16px;line-height:24px;"
    static let linkStyle = "color:#0b5cad;text-decoration:underline;"

    static func html(_ markdown: Markdown) -> String {
        markdown.blocks.map { block in
            switch block {
            case .paragraph(let inlines):
                "<p style=\"\(paragraphStyle)\">\(html(inlines))</p>"
            case .heading(_, let inlines):
                "<p style=\"margin:0 0 8px 0;font-size:17px;line-height:24px;font-weight:bold;\">\(html(inlines))</p>"
            case .bulletList(let items):
                "<ul style=\"margin:0 0 12px 0;padding:0 0 0 24px;\">"
                    + items.map { "<li style=\"margin:0 0 4px 0;font-size:16px;line-height:24px;\">\(html($0))</li>" }
                    .joined() + "</ul>"
            }
        }.joined(separator: "\n")
    }

    static func html(_ inlines: [Markdown.Inline]) -> String {
        inlines.map { inline in
            switch inline {
            case .text(let text): HTMLEscape.text(text)
            case .code(let text):
                "<code style=\"font-family:Menlo,Consolas,monospace;\">\(HTMLEscape.text(text))</code>"
            case .strong(let inner): "<strong style=\"font-weight:bold;\">\(html(inner))</strong>"
            case .emphasis(let inner): "<em style=\"font-style:italic;\">\(html(inner))</em>"
            case .link(let inner, let url):
                // The class lets the templates' dark-mode rules recolour the link.
                "<a class=\"digest-link\" href=\"\(HTMLEscape.attribute(url))\" style=\"\(linkStyle)\">\(html(inner))</a>"
            }
        }.joined()
    }

    /// Text with bold marks and numbered references; paragraphs separated by blank lines.
    static func text(_ markdown: Markdown, link: (String) -> Int) -> String {
        markdown.blocks.map { block in
            switch block {
            case .paragraph(let inlines): text(inlines, link: link)
            case .heading(_, let inlines): TextMarks.bold(text(inlines, link: link))
            case .bulletList(let items): items.map { "- " + text($0, link: link) }.joined(separator: "\n")
            }
        }.joined(separator: "\n\n")
    }

    static func text(_ inlines: [Markdown.Inline], link: (String) -> Int) -> String {
        inlines.map { inline in
            switch inline {
            case .text(let text), .code(let text): TextMarks.strip(text)
            case .strong(let inner): TextMarks.bold(text(inner, link: link))
            case .emphasis(let inner): "*" + text(inner, link: link) + "*"
            case .link(let inner, let url): text(inner, link: link) + " " + TextMarks.reference(link(url))
            }
        }.joined()
    }
}

/// HTML escaping for text and attribute values.
public enum HTMLEscape {
    /// `&`, `<` and `>` as entities.
    public static func text(_ text: String) -> String {
        escaped(text, quotes: false)
    }

    /// Also `"` and `'`, for a value inside an attribute.
    public static func attribute(_ text: String) -> String {
        escaped(text, quotes: true)
    }

    /// Appends `bytes` with `&`, `<`, `>` (and, with `quotes`, `"` and `'`) as entities. Byte by byte,
    /// with no String per call: feed cleaning runs it for every text node of every description.
    @inlinable
    public static func append<Bytes: Collection<UInt8>>(_ bytes: Bytes, to output: inout [UInt8], quotes: Bool) {
        for byte in bytes {
            switch byte {
            case 0x26: output.append(contentsOf: "&amp;".utf8)
            case 0x3C: output.append(contentsOf: "&lt;".utf8)
            case 0x3E: output.append(contentsOf: "&gt;".utf8)
            case 0x22 where quotes: output.append(contentsOf: "&quot;".utf8)
            case 0x27 where quotes: output.append(contentsOf: "&#39;".utf8)
            default: output.append(byte)
            }
        }
    }

    static func escaped(_ text: String, quotes: Bool) -> String {
        guard
            text.utf8.contains(where: {
                $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || (quotes && ($0 == 0x22 || $0 == 0x27))
            })
        else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        append(text.utf8, to: &bytes, quotes: quotes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
