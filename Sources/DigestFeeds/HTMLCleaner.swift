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
                if isBlock { text += "\n\n" }
                if name == "br" { text += "\n" }
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
                if isBlock { text += "\n\n" }
            default:
                continue
            }
        }
    }

    /// An http(s) or mailto URL, resolved against `base`; nil for javascript:, data: and the like.
    static func safeURL(_ value: String, base: URL?) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = URL(string: trimmed, relativeTo: base)?.absoluteURL, let scheme = url.scheme?.lowercased(),
            ["http", "https", "mailto"].contains(scheme)
        else { return nil }
        return url.absoluteString
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Whitespace runs as one space, paragraphs separated by one blank line.
    static func tidy(_ text: String) -> String {
        let paragraphs = text.components(separatedBy: "\n\n").map { paragraph in
            paragraph.split(whereSeparator: { $0.isWhitespace && $0 != "\n" }).joined(separator: " ")
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return paragraphs.filter { !$0.isEmpty }.joined(separator: "\n\n")
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
