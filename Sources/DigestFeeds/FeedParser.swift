import DigestCore
import DigestHTML
import Foundation

/// One entry of a feed, as digest reads it.
public struct FeedItem: Equatable, Sendable, Codable {
    public var kind: Item.Kind
    /// The GUID (RSS), id (Atom) or about (RDF); the link when the feed gives none.
    public var id: String
    public var title: String
    public var link: String
    public var published: Date?
    public var author: String
    /// Clean text of the description or content.
    public var summary: String
    /// The same, as safe HTML.
    public var summaryHTML: String
    public var categories: [String]
    public var enclosure: EnclosureInfo?
    public var durationSeconds: Int?
    public var episode: Int?
    public var imageURL: String?
    public var imageAlt: String?

    public struct EnclosureInfo: Equatable, Sendable, Codable {
        public var url: String
        public var type: String
        public var length: Int?

        public init(url: String, type: String, length: Int?) {
            self.url = url
            self.type = type
            self.length = length
        }
    }

    public var duration: MediaDuration? { durationSeconds.map(MediaDuration.init(seconds:)) }
}

/// A parsed feed.
public struct ParsedFeed: Sendable {
    public enum Format: String, Sendable {
        case rss2 = "RSS 2.0"
        case rss1 = "RSS 1.0 (RDF)"
        case atom = "Atom 1.0"
    }

    public var format: Format
    public var title: String
    public var link: String
    public var items: [FeedItem]
}

/// Why a document is not a feed digest can read.
public struct FeedError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads RSS 2.0 (content:encoded, dc:creator, category, enclosure, media:*), Atom 1.0, RSS 1.0/RDF,
/// podcast RSS with the iTunes namespace and Media RSS.
public enum FeedParser {
    /// Parses `data`. `url` resolves relative links; `encoding` is the HTTP header's charset, if any.
    public static func parse(_ data: Data, url: String, encoding: String? = nil) throws -> ParsedFeed {
        let tree: XMLTree
        do {
            tree = try XMLTree.xml(data, url: url, encoding: encoding)
        } catch let error as XMLTree.ParseError {
            if looksLikeHTML(data) {
                throw FeedError(message: "this is an HTML page, not a feed (look for a link to its RSS or Atom feed)")
            }
            throw FeedError(message: "not a well-formed feed: \(error)")
        }
        guard let root = tree.root else { throw FeedError(message: "the document is empty") }
        switch (root.name, root.namespace) {
        case ("rss", _):
            guard let channel = root.child("channel") else {
                throw FeedError(message: "an RSS document without a <channel>")
            }
            let defaults = ChannelDefaults(channel)
            return ParsedFeed(
                format: .rss2, title: channel.text(of: "title") ?? "", link: channel.text(of: "link") ?? url,
                items: channel.all("item").map { rssItem($0, channel: defaults, base: url) })
        case ("RDF", Namespace.rdf?):
            let channel = root.child("channel", Namespace.rss1)
            return ParsedFeed(
                format: .rss1, title: channel?.text(of: "title", Namespace.rss1) ?? "",
                link: channel?.text(of: "link", Namespace.rss1) ?? url,
                items: root.all("item", Namespace.rss1).map { rssItem($0, channel: nil, base: url) })
        case ("feed", Namespace.atom?):
            return ParsedFeed(
                format: .atom, title: root.text(of: "title", Namespace.atom) ?? "",
                link: atomLink(root, base: url) ?? url,
                items: root.all("entry", Namespace.atom).map { atomEntry($0, feed: root, base: url) })
        case ("html", _), ("HTML", _):
            throw FeedError(message: "this is an HTML page, not a feed (look for a link to its RSS or Atom feed)")
        default:
            throw FeedError(
                message: "not a feed: the document's root element is <\(root.name)>, not <rss>, <feed> or <rdf:RDF>")
        }
    }

    static func looksLikeHTML(_ data: Data) -> Bool {
        let head = String(decoding: data.prefix(1024), as: UTF8.self).lowercased()
        return head.contains("<!doctype html") || head.contains("<html")
    }

    static func resolve(_ link: String, base: String) -> String {
        let trimmed = link.trimmedASCII
        let lower = trimmed.prefix(8).lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") { return trimmed }
        if let joined = HTMLCleaner.rootRelative(trimmed, base: base) { return joined }
        return URL(string: trimmed, relativeTo: URL(string: base))?.absoluteURL.absoluteString ?? trimmed
    }

    /// What an RSS channel gives every item, read once (not once per item: a channel holds all items).
    struct ChannelDefaults {
        var author: String?
        var image: String?

        init(_ channel: MarkupElement?) {
            author = nil
            image = nil
            guard let channel else { return }
            for child in channel.children where child.namespace == Namespace.itunes {
                if child.name == "author" { author = child.text }
                if child.name == "image" { image = child.attribute("href") }
            }
        }
    }

    static func rssItem(_ item: MarkupElement, channel: ChannelDefaults?, base: String) -> FeedItem {
        let link = resolve(
            item.text(of: "link") ?? item.text(of: "link", Namespace.rss1) ?? item.attribute("about", Namespace.rdf)
                ?? "", base: base)
        let guid = item.text(of: "guid") ?? item.attribute("about", Namespace.rdf) ?? link
        let title = item.text(of: "title") ?? item.text(of: "title", Namespace.rss1) ?? ""
        // A short description reads better as a summary than the whole article body, which is read only
        // when there is no description.
        let description =
            item.text(of: "description") ?? item.text(of: "summary", Namespace.itunes)
            ?? item.text(of: "encoded", Namespace.content) ?? item.text(of: "description", Namespace.rss1) ?? ""
        let cleaned = HTMLCleaner.clean(description, base: link.isEmpty ? base : link)
        let date =
            item.text(of: "pubDate") ?? item.text(of: "date", Namespace.dc)
            ?? item.text(of: "published", Namespace.atom)
        let author =
            item.text(of: "creator", Namespace.dc) ?? item.text(of: "author", Namespace.itunes) ?? item.text(
                of: "author")
            ?? channel?.author ?? ""
        var result = FeedItem(
            kind: .article, id: guid, title: HTMLCleaner.clean(title, base: nil).text, link: link,
            published: date.flatMap(FeedDate.parse), author: author, summary: cleaned.text, summaryHTML: cleaned.html,
            categories: item.all("category").map(\.text).filter { !$0.isEmpty }
                + item.all("subject", Namespace.dc).map(\.text),
            enclosure: nil, durationSeconds: nil, episode: nil, imageURL: nil, imageAlt: nil)
        media(item, base: base, into: &result)
        if let enclosure = item.child("enclosure"), let url = enclosure.attribute("url") {
            result.enclosure = .init(
                url: resolve(url, base: base), type: enclosure.attribute("type") ?? "",
                length: enclosure.attribute("length").flatMap { Int($0) })
        }
        itunes(item, channel: channel, into: &result)
        result.kind = kind(of: result)
        return result
    }

    static func atomLink(_ element: MarkupElement, base: String) -> String? {
        let links = element.all("link", Namespace.atom)
        let alternate = links.first { ($0.attribute("rel") ?? "alternate") == "alternate" }
        return alternate?.attribute("href").map { resolve($0, base: base) }
    }

    static func atomEntry(_ entry: MarkupElement, feed: MarkupElement, base: String) -> FeedItem {
        let link = atomLink(entry, base: base) ?? ""
        let id = entry.text(of: "id", Namespace.atom) ?? link
        let summaryElement = entry.child("summary", Namespace.atom) ?? entry.child("content", Namespace.atom)
        var markup = ""
        if let summaryElement {
            switch summaryElement.attribute("type") ?? "text" {
            case "xhtml": markup = summaryElement.innerMarkup
            case "html": markup = summaryElement.text
            default: markup = HTMLEscape.text(summaryElement.text)
            }
        }
        let cleaned = HTMLCleaner.clean(markup, base: link.isEmpty ? base : link)
        let titleElement = entry.child("title", Namespace.atom)
        let title =
            titleElement.map { element in
                element.attribute("type") == "html" || element.attribute("type") == "xhtml"
                    ? HTMLCleaner.clean(
                        element.attribute("type") == "xhtml" ? element.innerMarkup : element.text, base: nil
                    ).text
                    : element.text
            } ?? ""
        let author =
            entry.child("author", Namespace.atom)?.text(of: "name", Namespace.atom)
            ?? feed.child("author", Namespace.atom)?.text(of: "name", Namespace.atom) ?? ""
        let date = entry.text(of: "published", Namespace.atom) ?? entry.text(of: "updated", Namespace.atom)
        var result = FeedItem(
            kind: .article, id: id, title: title, link: link, published: date.flatMap(FeedDate.parse), author: author,
            summary: cleaned.text, summaryHTML: cleaned.html,
            categories: entry.all("category", Namespace.atom).compactMap {
                $0.attribute("label") ?? $0.attribute("term")
            },
            enclosure: nil, durationSeconds: nil, episode: nil, imageURL: nil, imageAlt: nil)
        if let enclosure = entry.all("link", Namespace.atom).first(where: { $0.attribute("rel") == "enclosure" }),
            let href = enclosure.attribute("href")
        {
            result.enclosure = .init(
                url: resolve(href, base: base), type: enclosure.attribute("type") ?? "",
                length: enclosure.attribute("length").flatMap { Int($0) })
        }
        media(entry, base: base, into: &result)
        itunes(entry, channel: nil, into: &result)
        result.kind = kind(of: result)
        return result
    }

    /// Media RSS: media:content (or inside media:group), media:thumbnail, media:description.
    static func media(_ item: MarkupElement, base: String, into result: inout FeedItem) {
        let group = item.child("group", Namespace.media)
        let contents = item.all("content", Namespace.media) + (group?.all("content", Namespace.media) ?? [])
        let thumbnail =
            item.child("thumbnail", Namespace.media) ?? group?.child("thumbnail", Namespace.media)
            ?? contents.lazy.compactMap { $0.child("thumbnail", Namespace.media) }.first
        if let thumbnail, let url = thumbnail.attribute("url") {
            result.imageURL = resolve(url, base: base)
        }
        for content in contents {
            guard let url = content.attribute("url") else { continue }
            let type = content.attribute("type") ?? ""
            let medium = content.attribute("medium") ?? ""
            if type.hasPrefix("image/") || medium == "image" {
                if result.imageURL == nil { result.imageURL = resolve(url, base: base) }
                continue
            }
            if result.enclosure == nil {
                result.enclosure = .init(
                    url: resolve(url, base: base),
                    type: type.isEmpty ? (medium == "video" ? "video/*" : medium == "audio" ? "audio/*" : "") : type,
                    length: content.attribute("fileSize").flatMap { Int($0) })
            }
            if result.durationSeconds == nil, let seconds = content.attribute("duration").flatMap({ Int($0) }) {
                result.durationSeconds = seconds
            }
        }
        if result.summary.isEmpty,
            let description = item.text(of: "description", Namespace.media)
                ?? group?.text(of: "description", Namespace.media)
        {
            let cleaned = HTMLCleaner.clean(description, base: base)
            result.summary = cleaned.text
            result.summaryHTML = cleaned.html
        }
        if let title = item.child("title", Namespace.media)?.text ?? group?.text(of: "title", Namespace.media),
            result.title.isEmpty
        {
            result.title = title
        }
    }

    /// The iTunes podcast namespace: duration in every form, episode, image, summary, author.
    static func itunes(_ item: MarkupElement, channel: ChannelDefaults?, into result: inout FeedItem) {
        if let duration = item.text(of: "duration", Namespace.itunes) {
            result.durationSeconds =
                MediaDuration(duration)?.seconds ?? Double(duration).map { Int($0) } ?? result.durationSeconds
        }
        if let episode = item.text(of: "episode", Namespace.itunes).flatMap({ Int($0) }) { result.episode = episode }
        if let image = item.child("image", Namespace.itunes)?.attribute("href")
            ?? channel?.image,
            result.imageURL == nil
        {
            result.imageURL = image
        }
        if result.summary.isEmpty, let summary = item.text(of: "summary", Namespace.itunes) {
            let cleaned = HTMLCleaner.clean(summary, base: nil)
            result.summary = cleaned.text
            result.summaryHTML = cleaned.html
        }
    }

    static func kind(of item: FeedItem) -> Item.Kind {
        let type = item.enclosure?.type.lowercased() ?? ""
        if type.hasPrefix("audio/") { return .podcast }
        if type.hasPrefix("video/") { return .video }
        // A plain window loop over the bytes: String's `contains` goes through Foundation, and the standard
        // library's `firstRange(of:)` on UTF-8 views halved the whole feed parser's speed.
        let link = Array(item.link.lowercased().utf8)
        let hosts = ["youtube.com/", "youtu.be/", "vimeo.com/"].map { Array($0.utf8) }
        if hosts.contains(where: { host in
            link.count >= host.count
                && (0...(link.count - host.count)).contains { link[$0..<$0 + host.count].elementsEqual(host) }
        }) {
            return .video
        }
        if item.episode != nil || (item.durationSeconds != nil && item.enclosure != nil) { return .podcast }
        return .article
    }
}
