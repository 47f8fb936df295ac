import CLibXML2
import DigestCore
import Foundation

/// Turns the HTML of a feed's description into clean text and safe HTML, with libxml2's HTML parser:
/// entities decoded, scripts, styles, iframes and event attributes gone, relative links resolved.
public enum HTMLCleaner {
    /// Elements dropped with everything inside them.
    static let dropped: Set<String> = [
        "script", "style", "iframe", "object", "embed", "noscript", "form", "input", "button", "select", "textarea",
        "svg", "math", "template", "head", "title", "meta", "link",
    ]
    /// Elements kept in the safe HTML, with the attributes each may keep.
    static let allowed: [String: [String]] = [
        "p": [], "br": [], "strong": [], "b": [], "em": [], "i": [], "u": [], "ul": [], "ol": [], "li": [],
        "blockquote": [], "h2": [], "h3": [], "h4": [], "a": ["href", "title"],
        "img": ["alt", "height", "src", "width"],
        "figure": [], "figcaption": [],
    ]
    static let blocks: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
        "tr",
        "table", "section", "article", "header", "footer", "pre", "hr",
    ]

    public struct Cleaned: Equatable, Sendable {
        /// Paragraphs separated by blank lines, whitespace collapsed.
        public var text: String
        public var html: String
    }

    public static func clean(_ html: String, base: String?) -> Cleaned {
        // Plain text (no tags, no entities) needs no parser: only its whitespace tidied.
        if !needsParser(html) {
            // A blank line in plain text parts paragraphs (looked for only when there is a line break).
            guard html.utf8.contains(0x0A) else {
                let text = tidy(html)
                return Cleaned(text: text, html: text.isEmpty ? "" : "<p>\(HTMLEscape.text(text))</p>")
            }
            let text = tidy(markParagraphs(html))
            let paragraphs = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            return Cleaned(text: text, html: paragraphs.map { "<p>\(HTMLEscape.text($0))</p>" }.joined())
        }
        // The fragment as it is: libxml2 adds <html> and <body>, and the encoding is given.
        guard let tree = XMLTree.html(Data(html.utf8), url: base ?? "about:blank"), let root = tree.root else {
            return Cleaned(text: html, html: "")
        }
        var text: [UInt8] = []
        var safe: [UInt8] = []
        text.reserveCapacity(html.utf8.count)
        safe.reserveCapacity(html.utf8.count)
        walk(root.node, base: base, text: &text, html: &safe)
        return Cleaned(text: tidy(text), html: String(decoding: safe, as: UTF8.self).trimmedASCII)
    }

    /// Plain text with each blank line (a line of nothing but white space) made a paragraph separator.
    static func markParagraphs(_ text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        for index in lines.indices where lines[index].allSatisfy(\.isWhitespace) && index > 0 {
            lines[index] = "\u{2029}"
        }
        return lines.joined(separator: "\n")
    }

    /// Whether `text` has markup: a `<`, or an `&` that starts an entity (`&amp;`, `&#8217;`). A bare
    /// "&" in "Regime & Russia" is just text.
    static func needsParser(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            if byte == 0x3C { return true }
            guard byte == 0x26 else { continue }
            var end = index + 1
            while end < bytes.count, end - index <= 32,
                (bytes[end] >= 0x30 && bytes[end] <= 0x39) || (bytes[end] | 0x20 >= 0x61 && bytes[end] | 0x20 <= 0x7A)
                    || (end == index + 1 && bytes[end] == 0x23)
            {
                end += 1
            }
            if end > index + 1, end < bytes.count, bytes[end] == 0x3B { return true }
        }
        return false
    }

    /// Walks the parsed fragment once, writing its text and its safe HTML as bytes (this runs for every
    /// description of every feed, so no String is made per node).
    static func walk(_ node: xmlNodePtr, base: String?, text: inout [UInt8], html: inout [UInt8]) {
        var child = node.pointee.children
        while let current = child {
            defer { child = current.pointee.next }
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                guard let content = current.pointee.content else { continue }
                let bytes = UnsafeBufferPointer(
                    start: content, count: strlen(UnsafeRawPointer(content).assumingMemoryBound(to: CChar.self)))
                text.append(contentsOf: bytes)
                HTMLEscape.append(bytes, to: &html, quotes: false)
            case XML_ELEMENT_NODE:
                // libxml2's HTML parser gives tag names in lower case.
                let element = MarkupElement(current)
                let name = element.name
                if dropped.contains(name) { continue }
                let isBlock = blocks.contains(name)
                // Structure is marked with the Unicode separators, so that newlines inside text nodes
                // (the page source's own line breaks) stay mere whitespace.
                if isBlock { text.append(contentsOf: paragraphSeparator) }
                if name == "br" { text.append(contentsOf: lineSeparator) }
                if let attributes = allowed[name] {
                    html.append(0x3C)
                    html.append(contentsOf: name.utf8)
                    for attribute in attributes {
                        guard var value = element.attribute(attribute) else { continue }
                        if attribute == "href" || attribute == "src" {
                            guard let resolved = safeURL(value, base: base) else { continue }
                            value = resolved
                        }
                        html.append(0x20)
                        html.append(contentsOf: attribute.utf8)
                        html.append(contentsOf: "=\"".utf8)
                        HTMLEscape.append(value.utf8, to: &html, quotes: true)
                        html.append(0x22)
                    }
                    html.append(0x3E)
                    walk(current, base: base, text: &text, html: &html)
                    if name != "br" && name != "img" {
                        html.append(contentsOf: "</".utf8)
                        html.append(contentsOf: name.utf8)
                        html.append(0x3E)
                    }
                } else {
                    walk(current, base: base, text: &text, html: &html)
                }
                if isBlock { text.append(contentsOf: paragraphSeparator) }
            default:
                continue
            }
        }
    }

    static let paragraphSeparator: [UInt8] = [0xE2, 0x80, 0xA9]
    static let lineSeparator: [UInt8] = [0xE2, 0x80, 0xA8]

    /// An http(s) or mailto URL, resolved against `base`; nil for javascript:, data: and the like.
    static func safeURL(_ value: String, base: String?) -> String? {
        let trimmed = value.trimmedASCII
        let lower = trimmed.prefix(8).lowercased()
        if (lower.hasPrefix("https://") || lower.hasPrefix("http://"))
            && !trimmed.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 })
        {
            return trimmed
        }
        if let base, let joined = rootRelative(trimmed, base: base) { return joined }
        // Other relative links cost a URL parse of the base.
        guard let url = URL(string: trimmed, relativeTo: base.flatMap(URL.init(string:)))?.absoluteURL,
            let scheme = url.scheme?.lowercased(),
            ["http", "https", "mailto"].contains(scheme)
        else { return nil }
        return url.absoluteString
    }

    /// A root-relative path (`/2017/11/story/`) joined to an http(s) base's origin, when that is all
    /// resolving it takes: no dot segments, nothing that needs escaping. Nil sends the caller to URL.
    package static func rootRelative(_ path: String, base: String) -> String? {
        let bytes = path.utf8
        guard bytes.first == 0x2F, bytes.dropFirst().first != 0x2F else { return nil }
        var previousSlash = false
        var dotsAfterSlash = 0
        var inPath = true
        for byte in bytes {
            // Controls, space, quotes, backslash, percent escapes, non-ASCII and the like go the slow way.
            if byte <= 0x20 || byte >= 0x7F || byte == 0x22 || byte == 0x5C || byte == 0x3C || byte == 0x3E
                || byte == 0x7B || byte == 0x7D || byte == 0x7C || byte == 0x5E || byte == 0x60 || byte == 0x25
            {
                return nil
            }
            guard inPath else { continue }
            if byte == 0x2E {
                if previousSlash || dotsAfterSlash > 0 { dotsAfterSlash += 1 }
            } else {
                // "/./" and "/../" (or at the end, before ? or #) are dot segments.
                if dotsAfterSlash > 0 && (byte == 0x2F || byte == 0x3F || byte == 0x23) { return nil }
                dotsAfterSlash = 0
            }
            if byte == 0x3F || byte == 0x23 { inPath = false }
            previousSlash = byte == 0x2F
        }
        if inPath && dotsAfterSlash > 0 { return nil }
        let baseBytes = Array(base.utf8)
        let schemeLength: Int
        if baseBytes.starts(with: "https://".utf8) {
            schemeLength = 8
        } else if baseBytes.starts(with: "http://".utf8) {
            schemeLength = 7
        } else {
            return nil
        }
        var end = schemeLength
        while end < baseBytes.count, baseBytes[end] != 0x2F, baseBytes[end] != 0x3F, baseBytes[end] != 0x23 {
            // An authority with user info, odd characters or upper case is left to URL.
            let byte = baseBytes[end]
            guard
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x2D
                    || byte == 0x3A
            else { return nil }
            end += 1
        }
        guard end > schemeLength else { return nil }
        return String(decoding: baseBytes[..<end], as: UTF8.self) + path
    }

    /// Whitespace runs as one space, paragraphs (U+2029) separated by one blank line, line breaks
    /// (U+2028) kept, nothing at either end. One pass over the scalars.
    static func tidy(_ text: String) -> String {
        tidy(Array(text.utf8))
    }

    static func tidy(_ input: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var pendingSpace = false
        var pendingBreak = 0  // 1: a line break, 2: a paragraph break
        var index = 0
        while index < input.count {
            let byte = input[index]
            var length = 1
            var kind = 0  // 0: text, 1: space, 2: line break, 3: paragraph break
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C: kind = 1
            case 0xC2 where index + 1 < input.count && input[index + 1] == 0xA0:
                kind = 1
                length = 2
            case 0xE2 where index + 2 < input.count && input[index + 1] == 0x80:
                let third = input[index + 2]
                if third == 0xA9 {
                    kind = 3
                } else if third == 0xA8 {
                    kind = 2
                } else if third <= 0x8A || third == 0xAF {
                    kind = 1
                }
                if kind != 0 { length = 3 }
            case 0xE3 where index + 2 < input.count && input[index + 1] == 0x80 && input[index + 2] == 0x80:
                kind = 1
                length = 3
            default: break
            }
            switch kind {
            case 1: pendingSpace = true
            case 2: pendingBreak = max(pendingBreak, 1)
            case 3: pendingBreak = 2
            default:
                if !output.isEmpty {
                    if pendingBreak == 2 {
                        output += [0x0A, 0x0A]
                    } else if pendingBreak == 1 {
                        output.append(0x0A)
                    } else if pendingSpace {
                        output.append(0x20)
                    }
                }
                pendingSpace = false
                pendingBreak = 0
                output.append(byte)
            }
            index += length
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The paragraphs on one line. A paragraph that ends without punctuation (a standfirst, a heading) is
    /// followed by a dash, so that it does not run into the next one's first words.
    static func joinedParagraphs(_ text: String) -> String {
        guard text.contains("\n") else { return text }
        let paragraphs = text.components(separatedBy: "\n\n").map { $0.replacingOccurrences(of: "\n", with: " ") }
        var result = ""
        for paragraph in paragraphs where !paragraph.isEmpty {
            if let last = result.last {
                result += last.isPunctuation || last.isSymbol ? " " : " — "
            }
            result += paragraph
        }
        return result
    }

    /// The text cut at a sentence end near `length` characters (or at a word, with an ellipsis).
    public static func summary(_ text: String, length: Int) -> String {
        let flat = joinedParagraphs(text)
        guard flat.count > length else { return flat }
        let window = String(flat.prefix(length))
        let enders: [Character] = [".", "!", "?", "؟", "。", "…"]
        var cut: String.Index?
        var index = window.startIndex
        while index < window.endIndex {
            let next = window.index(after: index)
            if enders.contains(window[index]), next == window.endIndex || window[next] == " " { cut = next }
            index = next
        }
        if let cut, window.distance(from: window.startIndex, to: cut) >= length / 2 {
            return String(window[..<cut])
        }
        // The window's last word is whole only when a space follows it in the full text.
        let nextIsSpace = flat.dropFirst(length).first == " "
        let words = nextIsSpace ? window.split(separator: " ")[...] : window.split(separator: " ").dropLast()
        let trimmed = words.joined(separator: " ").trimmingCharacters(in: .punctuationCharacters.union(.whitespaces))
        return (trimmed.isEmpty ? window : trimmed) + "…"
    }
}

/// URLs compared the way readers would: scheme and host in lower case, default port, fragment and
/// tracking parameters (utm_*, fbclid, gclid, …) gone.
public enum CanonicalURL {
    public static func of(_ text: String) -> String {
        guard var components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)) else { return text }
        components.scheme = components.scheme?.lowercased()
        components.host = components.host?.lowercased()
        if (components.scheme == "http" && components.port == 80)
            || (components.scheme == "https" && components.port == 443)
        {
            components.port = nil
        }
        components.fragment = nil
        let kept = (components.queryItems ?? []).filter { item in
            !TrackingParameters.isTracking(item.name)
        }
        components.queryItems = kept.isEmpty ? nil : kept
        if components.path.isEmpty { components.path = "/" }
        return components.string ?? text
    }
}
