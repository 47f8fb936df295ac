import CLibXML2
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
    static let allowed: [String: Set<String>] = [
        "p": [], "br": [], "strong": [], "b": [], "em": [], "i": [], "u": [], "ul": [], "ol": [], "li": [],
        "blockquote": [], "h2": [], "h3": [], "h4": [], "a": ["href", "title"],
        "img": ["src", "alt", "width", "height"],
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
        if !html.utf8.contains(where: { $0 == 0x3C || $0 == 0x26 }) {
            let text = tidy(html)
            return Cleaned(text: text, html: text.isEmpty ? "" : "<p>\(text)</p>")
        }
        let wrapped = "<html><head><meta charset=\"utf-8\"></head><body>\(html)</body></html>"
        guard let tree = XMLTree.html(Data(wrapped.utf8), url: base ?? "about:blank"), let root = tree.root else {
            return Cleaned(text: html, html: "")
        }
        var text = ""
        var safe = ""
        walk(root.node, base: base.flatMap(URL.init(string:)), text: &text, html: &safe)
        return Cleaned(text: tidy(text), html: safe.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func walk(_ node: xmlNodePtr, base: URL?, text: inout String, html: inout String) {
        var child = node.pointee.children
        while let current = child {
            defer { child = current.pointee.next }
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                guard let content = xmlNodeGetContent(current) else { continue }
                let value = String(cString: content)
                digest_xml_free(content)
                text += value
                html += escape(value)
            case XML_ELEMENT_NODE:
                let element = XMLElement(current)
                let name = element.lowercasedName
                if dropped.contains(name) { continue }
                let isBlock = blocks.contains(name)
                // Structure is marked with the Unicode separators, so that newlines inside text nodes
                // (the page source's own line breaks) stay mere whitespace.
                if isBlock { text += "\u{2029}" }
                if name == "br" { text += "\u{2028}" }
                if let attributes = allowed[name] {
                    html += "<\(name)"
                    for attribute in attributes.sorted() {
                        guard var value = element.attribute(attribute) else { continue }
                        if attribute == "href" || attribute == "src" {
                            guard let resolved = safeURL(value, base: base) else { continue }
                            value = resolved
                        }
                        html += " \(attribute)=\"\(escape(value).replacingOccurrences(of: "\"", with: "&quot;"))\""
                    }
                    html += name == "br" || name == "img" ? ">" : ">"
                    walk(current, base: base, text: &text, html: &html)
                    if name != "br" && name != "img" { html += "</\(name)>" }
                } else {
                    walk(current, base: base, text: &text, html: &html)
                }
                if isBlock { text += "\u{2029}" }
            default:
                continue
            }
        }
    }

    /// An http(s) or mailto URL, resolved against `base`; nil for javascript:, data: and the like.
    static func safeURL(_ value: String, base: URL?) -> String? {
        let trimmed = value.trimmedASCII
        let lower = trimmed.prefix(8).lowercased()
        if (lower.hasPrefix("https://") || lower.hasPrefix("http://"))
            && !trimmed.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 })
        {
            return trimmed
        }
        guard let url = URL(string: trimmed, relativeTo: base)?.absoluteURL, let scheme = url.scheme?.lowercased(),
            ["http", "https", "mailto"].contains(scheme)
        else { return nil }
        return url.absoluteString
    }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E }) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case 0x26: bytes += Array("&amp;".utf8)
            case 0x3C: bytes += Array("&lt;".utf8)
            case 0x3E: bytes += Array("&gt;".utf8)
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whitespace runs as one space, paragraphs (U+2029) separated by one blank line, line breaks
    /// (U+2028) kept, nothing at either end. One pass over the scalars.
    static func tidy(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var pendingSpace = false
        var pendingBreak = 0  // 1: a line break, 2: a paragraph break
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{2029}": pendingBreak = 2
            case "\u{2028}": pendingBreak = max(pendingBreak, 1)
            case " ", "\t", "\n", "\r", "\u{A0}", "\u{0B}", "\u{0C}": pendingSpace = true
            default:
                // Only non-ASCII scalars need the (slow) Unicode property lookup.
                if scalar.value >= 0x80 && scalar.properties.isWhitespace {
                    pendingSpace = true
                    continue
                }
                if !output.isEmpty {
                    if pendingBreak == 2 {
                        output.append(contentsOf: "\n\n".unicodeScalars)
                    } else if pendingBreak == 1 {
                        output.append("\n")
                    } else if pendingSpace {
                        output.append(" ")
                    }
                }
                pendingSpace = false
                pendingBreak = 0
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// The text cut at a sentence end near `length` characters (or at a word, with an ellipsis).
    public static func summary(_ text: String, length: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n\n", with: " ").replacingOccurrences(of: "\n", with: " ")
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
    static let tracking: Set<String> = [
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_hsenc", "_hsmi", "ref_src",
    ]

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
            let name = item.name.lowercased()
            return !name.hasPrefix("utm_") && !tracking.contains(name)
        }
        components.queryItems = kept.isEmpty ? nil : kept
        if components.path.isEmpty { components.path = "/" }
        return components.string ?? text
    }
}
