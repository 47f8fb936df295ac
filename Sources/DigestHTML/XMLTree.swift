import CLibXML2
import Foundation

/// Namespaces the feed formats use.
package enum Namespace {
    package static let atom = "http://www.w3.org/2005/Atom"
    package static let content = "http://purl.org/rss/1.0/modules/content/"
    package static let dc = "http://purl.org/dc/elements/1.1/"
    package static let itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd"
    package static let media = "http://search.yahoo.com/mrss/"
    package static let rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    package static let rss1 = "http://purl.org/rss/1.0/"
    package static let rss090 = "http://my.netscape.com/rdf/simple/0.9/"
    package static let atom03 = "http://purl.org/atom/ns#"
    package static let xml = "http://www.w3.org/XML/1998/namespace"
}

/// libxml2's one-time set-up, before any parse (it makes the parser safe to use from several threads).
package enum LibXML {
    package static let initialized: Bool = {
        xmlInitParser()
        return true
    }()
}

/// A parsed XML or HTML document, freed when dropped.
package final class XMLTree {
    package let document: xmlDocPtr

    package init(document: xmlDocPtr) {
        self.document = document
    }

    deinit {
        xmlFreeDoc(document)
    }

    package var root: MarkupElement? { xmlDocGetRootElement(document).map(MarkupElement.init) }

    /// Why a document could not be parsed, with the line and column libxml2 reports.
    public struct ParseError: Error, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// Parses XML strictly (a truncated or broken feed is an error, not a guess). `encoding` is the
    /// charset from the HTTP header, which overrides the document's own declaration (RFC 7303).
    package static func xml(_ data: Data, url: String, encoding: String?) throws -> XMLTree {
        _ = LibXML.initialized
        guard let context = xmlNewParserCtxt() else { throw ParseError(line: 0, column: 0, message: "out of memory") }
        defer { xmlFreeParserCtxt(context) }
        let options = Int32(
            XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
                | XML_PARSE_NOCDATA.rawValue | XML_PARSE_HUGE.rawValue)
        let document = data.withUnsafeBytes { bytes -> xmlDocPtr? in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return nil }
            return xmlCtxtReadMemory(context, base, Int32(bytes.count), url, encoding, options)
        }
        let wellFormed = context.pointee.wellFormed != 0
        if let document, wellFormed { return XMLTree(document: document) }
        if let document { xmlFreeDoc(document) }
        let error = context.pointee.lastError
        let message =
            error.message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) }
            ?? "not well-formed XML"
        throw ParseError(
            line: Int(error.line), column: Int(error.int2), message: data.isEmpty ? "the document is empty" : message)
    }

    /// Parses XML strictly, and when that fails, once more after `XMLRepair`'s clean-up pass (a blank line
    /// before the declaration, undeclared Latin-1, HTML entities, a bare `&`). The well-formed path is the
    /// strict parse alone. Returns the tree and the repairs made; throws the strict parse's error (its line
    /// and column are the document's own) when the repaired document fails too.
    package static func xmlRepairing(_ data: Data, url: String, encoding: String?) throws -> (XMLTree, [String]) {
        do {
            let tree = try xml(data, url: url, encoding: encoding)
            // A DOCTYPE naming an external DTD (RSS 0.91's) makes libxml2 accept the HTML entities that DTD
            // defines without reading it, and leave them out of the text: read them as characters instead.
            guard tree.document.pointee.intSubset != nil else { return (tree, []) }
            let repaired = XMLRepair.repair(data, encoding: encoding)
            guard !repaired.repairs.isEmpty,
                let again = try? xml(repaired.data, url: url, encoding: repaired.encoding)
            else { return (tree, []) }
            return (again, repaired.repairs)
        } catch let error as ParseError {
            guard !data.isEmpty else { throw error }
            let repaired = XMLRepair.repair(data, encoding: encoding)
            guard !repaired.repairs.isEmpty,
                let tree = try? xml(repaired.data, url: url, encoding: repaired.encoding)
            else { throw error }
            return (tree, repaired.repairs)
        }
    }

    /// Parses HTML the way a browser would: never fails on tag soup.
    package static func html(_ data: Data, url: String, encoding: String? = "utf-8") -> XMLTree? {
        _ = LibXML.initialized
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                | HTML_PARSE_NONET.rawValue)
        // A parser context is costly to set up and a feed has thousands of descriptions: reuse them.
        let context = HTMLContextPool.shared.take()
        defer { HTMLContextPool.shared.give(back: context) }
        let document = data.withUnsafeBytes { bytes -> htmlDocPtr? in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) else { return nil }
            guard let context else { return htmlReadMemory(base, Int32(bytes.count), url, encoding, options) }
            return htmlCtxtReadMemory(context, base, Int32(bytes.count), url, encoding, options)
        }
        return document.map(XMLTree.init)
    }
}

/// HTML parser contexts for reuse: `htmlCtxtReadMemory` resets one before each document. A context is
/// used by one thread at a time; the pool hands each caller its own.
final class HTMLContextPool: @unchecked Sendable {
    static let shared = HTMLContextPool()
    private let lock = NSLock()
    private var free: [htmlParserCtxtPtr] = []

    func take() -> htmlParserCtxtPtr? {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? htmlNewParserCtxt()
    }

    func give(back context: htmlParserCtxtPtr?) {
        guard let context else { return }
        lock.lock()
        defer { lock.unlock() }
        if free.count < 16 { free.append(context) } else { htmlFreeParserCtxt(context) }
    }
}

/// A read-only view of an element of an `XMLTree` (valid while the tree lives).
package struct MarkupElement {
    package let node: xmlNodePtr

    package init(_ node: xmlNodePtr) {
        self.node = node
    }

    package var name: String { node.pointee.name.map { String(cString: $0) } ?? "" }
    package var namespace: String? { node.pointee.ns?.pointee.href.map { String(cString: $0) } }
    package var lowercasedName: String { name.lowercased() }

    package func isNamed(_ local: String, _ namespace: String? = nil) -> Bool {
        // Compared as C strings: this runs for every child of every item, so no String is made.
        guard let name = node.pointee.name, Self.equal(name, local) else { return false }
        guard let namespace else { return true }
        guard let href = node.pointee.ns?.pointee.href else { return false }
        return Self.equal(href, namespace)
    }

    package static func equal(_ pointer: UnsafePointer<xmlChar>, _ string: String) -> Bool {
        string.withCString { xmlStrEqual(pointer, UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) != 0 }
    }

    package var children: [MarkupElement] {
        var result: [MarkupElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(MarkupElement(current)) }
            child = current.pointee.next
        }
        return result
    }

    package func child(_ local: String, _ namespace: String? = nil) -> MarkupElement? {
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                let element = MarkupElement(current)
                if element.isNamed(local, namespace) { return element }
            }
            child = current.pointee.next
        }
        return nil
    }

    package func all(_ local: String, _ namespace: String? = nil) -> [MarkupElement] {
        var result: [MarkupElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                let element = MarkupElement(current)
                if element.isNamed(local, namespace) { result.append(element) }
            }
            child = current.pointee.next
        }
        return result
    }

    /// The text content, entities decoded, surrounding whitespace trimmed.
    package var text: String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { digest_xml_free(content) }
        return Self.trimmed(content)
    }

    /// The C string without ASCII whitespace at either end, decoded once (Foundation's trimming bridges
    /// through NSString, which is slow in a loop over thousands of items).
    package static func trimmed(_ pointer: UnsafePointer<UInt8>) -> String {
        let length = strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
        var start = 0
        var end = length
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        while start < end, isSpace(pointer[start]) { start += 1 }
        while end > start, isSpace(pointer[end - 1]) { end -= 1 }
        return String(decoding: UnsafeBufferPointer(start: pointer + start, count: end - start), as: UTF8.self)
    }

    package func text(of local: String, _ namespace: String? = nil) -> String? {
        child(local, namespace).map(\.text).flatMap { $0.isEmpty ? nil : $0 }
    }

    package func attribute(_ name: String, _ namespace: String? = nil) -> String? {
        let value =
            namespace.map { xmlGetNsProp(node, name, $0) } ?? xmlGetProp(node, name)
        guard let value else { return nil }
        defer { digest_xml_free(value) }
        return String(cString: value)
    }

    /// The element's children serialised back to markup (Atom's xhtml content, HTML in descriptions).
    package var innerMarkup: String {
        guard let buffer = xmlBufferCreate() else { return text }
        defer { xmlBufferFree(buffer) }
        var child = node.pointee.children
        while let current = child {
            xmlNodeDump(buffer, node.pointee.doc, current, 0, 0)
            child = current.pointee.next
        }
        return String(cString: xmlBufferContent(buffer))
    }

    package var line: Int { Int(xmlGetLineNo(node)) }

    /// The parent element, if the parent is an element (not the document).
    package var parent: MarkupElement? {
        guard let parent = node.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { return nil }
        return MarkupElement(parent)
    }

    /// The element's own `xml:base`, if it declares one.
    package var xmlBase: String? { attribute("base", Namespace.xml) }
}
