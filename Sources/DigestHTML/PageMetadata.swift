import CLibXML2
import DigestCore
import Foundation

/// What a web page says about itself: OpenGraph, Twitter card and JSON-LD metadata, falling back to
/// `<title>` and the first paragraph. For `digest add URL`.
public struct PageMetadata: Equatable, Sendable {
    public var title: String
    public var description: String
    public var author: String
    public var published: Date?
    public var imageURL: String?
    public var imageAlt: String?
    public var canonicalURL: String?

    public static func parse(_ data: Data, url: String, encoding: String? = nil) -> PageMetadata {
        var meta: [String: String] = [:]
        var title = ""
        var firstParagraph = ""
        var canonical: String?
        var jsonLD: [Any] = []
        if let tree = XMLTree.html(data, url: url, encoding: encoding), let root = tree.root {
            func visit(_ element: MarkupElement) {
                switch element.lowercasedName {
                case "meta":
                    let key = (element.attribute("property") ?? element.attribute("name") ?? "").lowercased()
                    if !key.isEmpty, meta[key] == nil, let content = element.attribute("content") {
                        meta[key] = content
                    }
                case "title" where title.isEmpty:
                    title = element.text
                case "link" where element.attribute("rel")?.lowercased() == "canonical":
                    canonical = element.attribute("href")
                case "script" where element.attribute("type")?.lowercased() == "application/ld+json":
                    if let object = try? JSONSerialization.jsonObject(with: Data(element.text.utf8)) {
                        jsonLD.append(object)
                    }
                case "p" where firstParagraph.isEmpty:
                    firstParagraph = HTMLCleaner.tidy(element.text)
                default: break
                }
                if !["script", "style"].contains(element.lowercasedName) { element.children.forEach(visit) }
            }
            visit(root)
        }
        let article = jsonLD.lazy.compactMap(Self.article).first ?? [:]
        func first(_ values: String?...) -> String {
            values.lazy.compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.first { !$0.isEmpty } ?? ""
        }
        let image = first(meta["og:image"], meta["twitter:image"], Self.imageURL(article["image"]))
        let base = URL(string: url)
        return PageMetadata(
            title: first(meta["og:title"], meta["twitter:title"], article["headline"] as? String, title),
            description: first(
                meta["og:description"], meta["twitter:description"], meta["description"],
                article["description"] as? String, firstParagraph),
            author: first(
                meta["article:author"].flatMap { $0.hasPrefix("http") ? nil : $0 }, meta["author"],
                Self.name(article["author"]), meta["twitter:creator"]),
            published: [meta["article:published_time"], article["datePublished"] as? String, meta["date"]].lazy
                .compactMap { $0.flatMap(FeedDate.parse) }.first,
            imageURL: image.isEmpty ? nil : URL(string: image, relativeTo: base)?.absoluteString,
            imageAlt: meta["og:image:alt"] ?? meta["twitter:image:alt"],
            canonicalURL: canonical.flatMap { URL(string: $0, relativeTo: base)?.absoluteString })
    }

    static let articleTypes: Set<String> = [
        "NewsArticle", "Article", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle", "WebPage",
    ]

    /// The first article object in a JSON-LD value (an object, an array, or an `@graph`).
    static func article(_ value: Any) -> [String: Any]? {
        if let array = value as? [Any] { return array.lazy.compactMap(article).first }
        guard let object = value as? [String: Any] else { return nil }
        if let graph = object["@graph"] { return article(graph) }
        let types = (object["@type"] as? String).map { [$0] } ?? (object["@type"] as? [String]) ?? []
        return types.contains(where: articleTypes.contains) ? object : nil
    }

    static func name(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        if let object = value as? [String: Any] { return object["name"] as? String }
        if let array = value as? [Any] {
            let names = array.compactMap { name($0) }
            return names.isEmpty ? nil : names.joined(separator: ", ")
        }
        return nil
    }

    static func imageURL(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        if let object = value as? [String: Any] { return object["url"] as? String }
        if let array = value as? [Any] { return array.lazy.compactMap { imageURL($0) }.first }
        return nil
    }
}
