import CLibXML2
import DigestCore
import Foundation

/// An HTML email as a text browser shows it: the structure (paragraphs, headings in bold, list items,
/// table cells one after another), image alt texts, and every link as a numbered reference listed at
/// the end. Read through libxml2's HTML parser, so what it shows is what the markup says, not what a
/// template meant: for `digest preview --html` and for `digest check`.
public enum HTMLTextBrowser {
    /// The page as marked text (see `TextMarks`) and its links, `[1]` first.
    public struct Page: Sendable {
        public var markedText: String
        public var links: [String]

        /// Wrapped to `width` columns and painted for a terminal or a pipe.
        public func text(width: Int = 72, painter: TextPainter = .plain) -> String {
            painter.paint(TextWrapper.wrap(markedText, width: width), links: links) + "\n"
        }
    }

    public static func browse(_ html: String) -> Page {
        guard let tree = XMLTree.html(Data(html.utf8), url: "about:blank"), let root = tree.root else {
            return Page(markedText: "", links: [])
        }
        let writer = PageWriter()
        writer.walk(root.node)
        writer.endBlock()
        var text = writer.output
        if !writer.links.isEmpty {
            text += "\n\n" + TextMarks.bold("Links")
            for (index, url) in writer.links.enumerated() { text += "\n[\(index + 1)] \(url)" }
        }
        return Page(markedText: text, links: writer.links)
    }

    /// Every link target and image of the page, in document order.
    public static func facts(_ html: String) -> HTMLFacts {
        guard let tree = XMLTree.html(Data(html.utf8), url: "about:blank"), let root = tree.root else {
            return HTMLFacts(links: [], images: [])
        }
        var facts = HTMLFacts(links: [], images: [])
        func visit(_ node: xmlNodePtr) {
            var child = node.pointee.children
            while let current = child {
                defer { child = current.pointee.next }
                guard current.pointee.type == XML_ELEMENT_NODE else { continue }
                let element = MarkupElement(current)
                if element.name == "a", let href = element.attribute("href") {
                    facts.links.append(href.trimmedASCII)
                }
                if element.name == "img" {
                    facts.images.append(
                        HTMLFacts.ImageTag(src: element.attribute("src") ?? "", alt: element.attribute("alt")))
                }
                visit(current)
            }
        }
        visit(root.node)
        return facts
    }
}

/// Writes a parsed page as paragraphs of marked text.
private final class PageWriter {
    static let skipped: Set<String> = ["head", "script", "style", "title", "template", "noscript"]
    static let blocks: Set<String> = [
        "p", "div", "table", "tr", "td", "th", "ul", "ol", "li", "blockquote", "section", "article", "header",
        "footer", "center", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre", "body", "figure", "figcaption",
    ]
    static let headings: Set<String> = ["h1", "h2", "h3", "h4", "h5", "h6"]

    var output = ""
    var line = ""
    var pendingSpace = false
    /// Line breaks owed before the next text: 1 after `<br>`, 2 between blocks.
    var pendingBreaks = 0
    var links: [String] = []
    var linkNumbers: [String: Int] = [:]
    var listCounters: [Int?] = []

    func walk(_ node: xmlNodePtr) {
        var child = node.pointee.children
        while let current = child {
            defer { child = current.pointee.next }
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { text(String(cString: content)) }
            case XML_ELEMENT_NODE:
                element(current)
            default:
                // Comments, Outlook's conditional blocks among them, are not shown by a browser.
                continue
            }
        }
    }

    func element(_ node: xmlNodePtr) {
        let element = MarkupElement(node)
        let name = element.name
        if Self.skipped.contains(name) { return }
        let style = (element.attribute("style") ?? "").lowercased().filter { !$0.isWhitespace }
        if style.contains("display:none") {
            // Hidden text (the preheader) is what inboxes show after the subject: worth seeing, marked.
            let inner = captured { walk(node) }
            if !inner.isEmpty {
                endBlock()
                put(TextMarks.dim("(hidden) " + inner))
                endBlock()
            }
            return
        }
        switch name {
        case "br":
            flushLine()
            pendingBreaks = max(pendingBreaks, 1)
            return
        case "hr":
            endBlock()
            put(String(repeating: "-", count: 40))
            endBlock()
            return
        case "img":
            guard let alt = element.attribute("alt") else {
                word("[image without alt text]")
                return
            }
            let cleaned = Self.collapsed(alt)
            if !cleaned.isEmpty { word("[image: \(cleaned)]") }
            return
        case "a":
            walk(node)
            if let href = element.attribute("href")?.trimmedASCII, !href.isEmpty {
                word(TextMarks.reference(number(for: href)))
            }
            return
        case "strong", "b":
            let inner = captured { walk(node) }
            if !inner.isEmpty { word(TextMarks.bold(inner)) }
            return
        default:
            break
        }
        if name == "li" {
            // List items one to a line, the list as a whole set apart like a paragraph.
            var marker = "- "
            if let counter = listCounters.last, let count = counter {
                listCounters[listCounters.count - 1] = count + 1
                marker = "\(count + 1). "
            }
            let inner = captured { walk(node) }
            put(marker + inner)
            pendingBreaks = 1
            return
        }
        let isBlock = Self.blocks.contains(name)
        if isBlock { endBlock() }
        if Self.headings.contains(name) {
            let inner = captured { walk(node) }
            if !inner.isEmpty { put(TextMarks.bold(inner)) }
            endBlock()
            return
        }
        if name == "ul" || name == "ol" {
            listCounters.append(name == "ol" ? 0 : nil)
            walk(node)
            listCounters.removeLast()
            endBlock()
            return
        }
        walk(node)
        if isBlock { endBlock() }
    }

    func number(for url: String) -> Int {
        if let number = linkNumbers[url] { return number }
        links.append(url)
        linkNumbers[url] = links.count
        return links.count
    }

    /// Text runs, with HTML's whitespace collapsing: any run of spaces and line breaks is one space.
    func text(_ text: String) {
        for character in text {
            if character.isWhitespace || character == "\u{A0}" {
                pendingSpace = true
                continue
            }
            if Self.invisible(character) { continue }
            if pendingSpace && !line.isEmpty { line.append(" ") }
            pendingSpace = false
            line.append(character)
        }
    }

    /// A unit that is not split from its neighbours' spacing: a reference, an image's alt text.
    func word(_ word: String) {
        if !line.isEmpty && (pendingSpace || !(line.last?.isWhitespace ?? true)) { line.append(" ") }
        pendingSpace = false
        line.append(word)
    }

    /// Whole text, on its own line(s).
    func put(_ text: String) {
        flushLine()
        line = text
        flushLine()
    }

    func flushLine() {
        pendingSpace = false
        guard !line.isEmpty else { return }
        if !output.isEmpty { output += String(repeating: "\n", count: max(pendingBreaks, 1)) }
        output += line
        line = ""
        pendingBreaks = 0
    }

    func endBlock() {
        flushLine()
        pendingBreaks = 2
    }

    /// What `body` writes inline, taken out as a string (for bold, lists and hidden text).
    func captured(_ body: () -> Void) -> String {
        let saved = (line, pendingSpace)
        line = ""
        pendingSpace = false
        body()
        let inner = line
        line = saved.0
        pendingSpace = saved.1
        return inner
    }

    static func invisible(_ character: Character) -> Bool {
        character.unicodeScalars.allSatisfy {
            [0x200B, 0x200C, 0x200D, 0x034F, 0xFEFF, 0x00AD].contains($0.value)
        }
    }

    static func collapsed(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace || $0 == "\u{A0}" }).joined(separator: " ")
    }
}
