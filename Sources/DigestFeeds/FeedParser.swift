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
    /// Where `link` came from: the item's own link, its permalink GUID, its enclosure (an episode with no
    /// page of its own), the feed's web address, or nowhere (`link` is then not a web address).
    public var linkSource: LinkSource = .link

    public enum LinkSource: String, Equatable, Sendable, Codable {
        case link, guid, enclosure, feed, none
    }

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
        case rss092 = "RSS 0.92"
        case rss091 = "RSS 0.91"
        case rss090 = "RSS 0.90 (RDF)"
        case rss1 = "RSS 1.0 (RDF)"
        case atom = "Atom 1.0"
        case atom03 = "Atom 0.3"
    }

    public var format: Format
    public var title: String
    public var link: String
    public var items: [FeedItem]
    /// What was wrong with the document and how it was read anyway (empty for a well-formed feed).
    public var recoveries: [String] = []
}

/// Why a document is not a feed digest can read.
public struct FeedError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads RSS 2.0, 0.92, 0.91 (content:encoded, dc:creator, category, enclosure, media:*), Atom 1.0 and 0.3,
/// RSS 1.0/RDF and 0.90, podcast RSS with the iTunes namespace and Media RSS.
public enum FeedParser {
    /// Where a feed's relative links are resolved and where an item without a link of its own points.
    struct Context {
        /// Where the document was fetched.
        var fetched: String
        /// The feed's own address (self, alternate or channel link) when it declares an absolute one,
        /// else `fetched`: relative links resolve against it, after any `xml:base`.
        var declared: String
        /// The feed's web page, for an item with no link, permalink or enclosure.
        var site: String?

        init(fetched: String, candidates: [String?], site: String?) {
            self.fetched = fetched
            declared = candidates.lazy.compactMap { $0 }.first { YAMLSafe.isWebURL($0) } ?? fetched
            self.site = site.flatMap { YAMLSafe.isWebURL($0) ? $0 : nil }
        }

        /// The base of `element`: its and its ancestors' `xml:base`, each resolved against the one outside
        /// it, the outermost against the feed's declared address.
        func base(of element: MarkupElement) -> String {
            var bases: [String] = []
            var current: MarkupElement? = element
            while let node = current {
                if let base = node.xmlBase { bases.append(base) }
                current = node.parent
            }
            return bases.reversed().reduce(declared) { FeedParser.join($1, base: $0) }
        }

        /// `link` made absolute: a web address as it is, anything else against the base of `element`.
        func resolve(_ link: String, at element: MarkupElement) -> String {
            let trimmed = link.trimmedASCII
            if FeedParser.isAbsoluteWeb(trimmed) { return trimmed }
            return FeedParser.join(trimmed, base: base(of: element))
        }
    }

    /// Parses `data`. `url` is where it was fetched (relative links resolve against it when the feed
    /// names no address of its own); `encoding` is the HTTP header's charset, if any.
    public static func parse(_ data: Data, url: String, encoding: String? = nil) throws -> ParsedFeed {
        let tree: XMLTree
        var recoveries: [String]
        do {
            (tree, recoveries) = try XMLTree.xmlRepairing(data, url: url, encoding: encoding)
        } catch let error as XMLTree.ParseError {
            if let kind = notXML(data) { throw FeedError(message: kind) }
            throw FeedError(message: "not a well-formed feed: \(error)")
        }
        guard let root = tree.root else { throw FeedError(message: "the document is empty") }
        var feed: ParsedFeed
        switch (root.name, root.namespace) {
        case ("rss", _):
            guard let channel = root.child("channel") else {
                throw FeedError(message: "an RSS document without a <channel>")
            }
            let defaults = ChannelDefaults(channel)
            let channelLink = channel.child("link").map(\.text).flatMap { $0.isEmpty ? nil : $0 }
            let atomLinks = channel.all("link", Namespace.atom)
            let context = Context(
                fetched: url,
                candidates: [
                    atomLinks.first { $0.attribute("rel") == "self" }?.attribute("href"),
                    atomLinks.first { $0.attribute("rel") == "alternate" }?.attribute("href"), channelLink,
                ], site: channelLink ?? atomLinks.first { $0.attribute("rel") == "alternate" }?.attribute("href"))
            let format: ParsedFeed.Format
            switch root.attribute("version")?.trimmedASCII {
            case "0.91": format = .rss091
            case "0.92": format = .rss092
            default: format = .rss2
            }
            feed = ParsedFeed(
                format: format, title: channel.text(of: "title") ?? "", link: context.site ?? url,
                items: channel.all("item").map { rssItem($0, channel: defaults, context: context) })
        case ("RDF", Namespace.rdf?):
            let namespace =
                [Namespace.rss1, Namespace.rss090].first {
                    root.child("channel", $0) != nil || root.child("item", $0) != nil
                }
            guard let namespace else {
                throw FeedError(
                    message: "not a feed: an RDF document with no RSS 1.0 or 0.90 <channel> or <item> in it")
            }
            let channel = root.child("channel", namespace)
            let channelLink = channel?.text(of: "link", namespace)
            let context = Context(fetched: url, candidates: [channelLink], site: channelLink)
            feed = ParsedFeed(
                format: namespace == Namespace.rss1 ? .rss1 : .rss090,
                title: channel?.text(of: "title", namespace) ?? "", link: context.site ?? url,
                items: root.all("item", namespace).map { rssItem($0, channel: nil, context: context) })
        case ("feed", Namespace.atom?), ("feed", Namespace.atom03?), ("feed", nil):
            let namespace = root.namespace
            if namespace == nil {
                recoveries.append("<feed> declares no namespace: read as Atom 1.0")
            }
            let links = root.all("link", namespace)
            let self_ = links.first { $0.attribute("rel") == "self" }?.attribute("href")
            let siteElement = links.first { ($0.attribute("rel") ?? "alternate") == "alternate" }
            // The feed's own links may be relative to its xml:base or to where it was fetched.
            let outer = Context(fetched: url, candidates: [], site: nil)
            let site = siteElement.flatMap { element in element.attribute("href").map { outer.resolve($0, at: element) }
            }
            let context = Context(
                fetched: url, candidates: [self_.map { outer.resolve($0, at: root) }, site], site: site)
            feed = ParsedFeed(
                format: namespace == Namespace.atom03 ? .atom03 : .atom,
                title: root.child("title", namespace).map { atomText($0, namespace: namespace) } ?? "",
                link: context.site ?? url,
                items: root.all("entry", namespace).map {
                    atomEntry($0, feed: root, namespace: namespace, context: context)
                })
        case ("feed", let namespace?):
            throw FeedError(
                message: "not a feed digest reads: its root is <feed> in the namespace \"\(namespace)\", which is "
                    + "neither Atom 1.0 (\(Namespace.atom)) nor Atom 0.3 (\(Namespace.atom03))")
        case ("html", _), ("HTML", _):
            throw FeedError(message: htmlPage)
        default:
            let namespace = root.namespace.map { " in the namespace \"\($0)\"" } ?? ""
            throw FeedError(
                message: "not a feed: an XML document whose root element is <\(root.name)>\(namespace); a feed's "
                    + "root is RSS's <rss>, Atom's <feed> or RDF's <rdf:RDF>")
        }
        feed.recoveries = recoveries
        return feed
    }

    static let htmlPage = "this is an HTML page, not a feed (look for a link to its RSS or Atom feed)"

    /// What a document that is not XML is, if it is recognisably something else.
    static func notXML(_ data: Data) -> String? {
        let head = String(decoding: data.prefix(1024), as: UTF8.self)
        let lower = head.lowercased()
        if lower.contains("<!doctype html") || lower.contains("<html") { return htmlPage }
        let first = head.unicodeScalars.first { !$0.properties.isWhitespace && $0 != "\u{FEFF}" }
        if first == "{" || first == "[" {
            return "this is JSON, not an RSS or Atom feed (a JSON Feed? digest reads RSS and Atom: look for the "
                + "site's RSS or Atom feed)"
        }
        return nil
    }

    static func isAbsoluteWeb(_ link: String) -> Bool {
        let lower = link.prefix(8).lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }

    /// `link` against `base` (both trimmed); a web address is returned as it is.
    static func join(_ link: String, base: String) -> String {
        let trimmed = link.trimmedASCII
        if isAbsoluteWeb(trimmed) { return trimmed }
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

    /// The best link an item has: its own web link, else its permalink GUID, else its enclosure, else the
    /// feed's web page; an item with none keeps what it had (and gather reports it).
    static func bestLink(
        own: String, permalink: @autoclosure () -> String?, enclosure: String?, context: Context
    ) -> (String, FeedItem.LinkSource) {
        if YAMLSafe.isWebURL(own) { return (own, .link) }
        if let permalink = permalink(), YAMLSafe.isWebURL(permalink) { return (permalink, .guid) }
        if let enclosure, YAMLSafe.isWebURL(enclosure) { return (enclosure, .enclosure) }
        if let site = context.site { return (site, .feed) }
        return (own, .none)
    }

    /// An identity for an item with no GUID, id or link of its own: the feed and its title and date.
    static func syntheticID(title: String, date: String?, context: Context) -> String {
        "\(context.site ?? context.fetched)#" + EditionMerger.fingerprint(title: title, summary: date ?? "")
    }

    static func rssItem(_ item: MarkupElement, channel: ChannelDefaults?, context: Context) -> FeedItem {
        let ownLink = (item.text(of: "link") ?? item.text(of: "link", Namespace.rss1)).map {
            context.resolve($0, at: item)
        }
        let guidElement = item.child("guid")
        let guid = guidElement.map(\.text).flatMap { $0.isEmpty ? nil : $0 }
        let title = item.text(of: "title") ?? item.text(of: "title", Namespace.rss1) ?? ""
        let date =
            item.text(of: "pubDate") ?? item.text(of: "date", Namespace.dc)
            ?? item.text(of: "published", Namespace.atom)
        let author =
            item.text(of: "creator", Namespace.dc) ?? item.text(of: "author", Namespace.itunes) ?? item.text(
                of: "author")
            ?? channel?.author ?? ""
        var result = FeedItem(
            kind: .article, id: "", title: HTMLCleaner.clean(title, base: nil).text, link: ownLink ?? "",
            published: date.flatMap(FeedDate.parse), author: author, summary: "", summaryHTML: "",
            categories: item.all("category").map(\.text).filter { !$0.isEmpty }
                + item.all("subject", Namespace.dc).map(\.text),
            enclosure: nil, durationSeconds: nil, episode: nil, imageURL: nil, imageAlt: nil)
        if let enclosure = item.child("enclosure"), let url = enclosure.attribute("url") {
            result.enclosure = .init(
                url: context.resolve(url, at: enclosure), type: enclosure.attribute("type") ?? "",
                length: enclosure.attribute("length").flatMap { Int($0.trimmedASCII) })
        }
        media(item, context: context, into: &result)
        // RSS 2.0: a GUID is a permalink unless it says isPermaLink="false" (read only for an item with no
        // web link of its own).
        (result.link, result.linkSource) = bestLink(
            own: ownLink ?? item.attribute("about", Namespace.rdf).map { context.resolve($0, at: item) } ?? "",
            permalink: guidElement?.attribute("isPermaLink")?.trimmedASCII.lowercased() == "false" ? nil : guid,
            enclosure: result.enclosure?.url, context: context)
        result.id =
            guid ?? item.attribute("about", Namespace.rdf) ?? ownLink.flatMap { $0.isEmpty ? nil : $0 }
            ?? result.enclosure?.url
            ?? syntheticID(title: title, date: date, context: context)
        // A short description reads better as a summary than the whole article body, which is read only
        // when there is no description.
        let description =
            item.text(of: "description") ?? item.text(of: "summary", Namespace.itunes)
            ?? item.text(of: "encoded", Namespace.content) ?? item.text(of: "description", Namespace.rss1)
        if let description {
            let cleaned = HTMLCleaner.clean(
                description, base: result.linkSource == .link ? result.link : context.base(of: item))
            result.summary = cleaned.text
            result.summaryHTML = cleaned.html
        }
        if result.summary.isEmpty { mediaDescription(item, context: context, into: &result) }
        itunes(item, channel: channel, into: &result)
        result.kind = kind(of: result)
        return result
    }

    /// The alternate link of an Atom feed or entry (a link without `rel` is one), resolved.
    static func atomLink(_ element: MarkupElement, namespace: String?, context: Context) -> String? {
        let links = element.all("link", namespace)
        let alternate = links.first { ($0.attribute("rel") ?? "alternate") == "alternate" }
        return alternate.flatMap { link in link.attribute("href").map { context.resolve($0, at: link) } }
    }

    /// The markup of an Atom text construct: 1.0's `type` (text, html, xhtml), or 0.3's `type` (a MIME
    /// type) with its `mode` (xml, escaped, base64).
    static func atomMarkup(_ element: MarkupElement, namespace: String?) -> String {
        let type = (element.attribute("type") ?? "text").lowercased()
        let isHTML = type == "html" || type == "xhtml" || type.hasSuffix("/html") || type.hasSuffix("xhtml+xml")
        if namespace == Namespace.atom03 {
            switch element.attribute("mode") ?? "xml" {
            case "escaped": return isHTML ? element.text : HTMLEscape.text(element.text)
            case "base64":
                let decoded =
                    Data(base64Encoded: element.text, options: .ignoreUnknownCharacters).map {
                        String(decoding: $0, as: UTF8.self)
                    } ?? ""
                return isHTML ? decoded : HTMLEscape.text(decoded)
            default: return isHTML ? element.innerMarkup : HTMLEscape.text(element.text)
            }
        }
        if type == "xhtml" || type.hasSuffix("xhtml+xml") { return element.innerMarkup }
        return isHTML ? element.text : HTMLEscape.text(element.text)
    }

    /// An Atom text construct as plain text (titles).
    static func atomText(_ element: MarkupElement, namespace: String?) -> String {
        let type = (element.attribute("type") ?? "text").lowercased()
        let mode = element.attribute("mode") ?? "xml"
        if (type == "text" || type == "text/plain") && mode != "base64" { return element.text }
        return HTMLCleaner.clean(atomMarkup(element, namespace: namespace), base: nil).text
    }

    static func atomEntry(
        _ entry: MarkupElement, feed: MarkupElement, namespace: String?, context: Context
    ) -> FeedItem {
        let ownLink = atomLink(entry, namespace: namespace, context: context)
        let id = entry.text(of: "id", namespace)
        let summaryElement = entry.child("summary", namespace) ?? entry.child("content", namespace)
        let markup = summaryElement.map { atomMarkup($0, namespace: namespace) } ?? ""
        let title = entry.child("title", namespace).map { atomText($0, namespace: namespace) } ?? ""
        let author =
            entry.child("author", namespace)?.text(of: "name", namespace)
            ?? feed.child("author", namespace)?.text(of: "name", namespace) ?? ""
        let date =
            namespace == Namespace.atom03
            ? entry.text(of: "issued", namespace) ?? entry.text(of: "created", namespace)
                ?? entry.text(of: "modified", namespace)
            : entry.text(of: "published", namespace) ?? entry.text(of: "updated", namespace)
        var result = FeedItem(
            kind: .article, id: "", title: title, link: ownLink ?? "", published: date.flatMap(FeedDate.parse),
            author: author, summary: "", summaryHTML: "",
            categories: entry.all("category", namespace).compactMap {
                $0.attribute("label") ?? $0.attribute("term")
            },
            enclosure: nil, durationSeconds: nil, episode: nil, imageURL: nil, imageAlt: nil)
        if let enclosure = entry.all("link", namespace).first(where: { $0.attribute("rel") == "enclosure" }),
            let href = enclosure.attribute("href")
        {
            result.enclosure = .init(
                url: context.resolve(href, at: enclosure), type: enclosure.attribute("type") ?? "",
                length: enclosure.attribute("length").flatMap { Int($0.trimmedASCII) })
        }
        media(entry, context: context, into: &result)
        (result.link, result.linkSource) = bestLink(
            own: ownLink ?? "", permalink: nil, enclosure: result.enclosure?.url, context: context)
        result.id =
            id ?? ownLink.flatMap { $0.isEmpty ? nil : $0 } ?? result.enclosure?.url
            ?? syntheticID(title: title, date: date, context: context)
        let cleaned = HTMLCleaner.clean(
            markup, base: result.linkSource == .link ? result.link : context.base(of: summaryElement ?? entry))
        result.summary = cleaned.text
        result.summaryHTML = cleaned.html
        if result.summary.isEmpty { mediaDescription(entry, context: context, into: &result) }
        itunes(entry, channel: nil, into: &result)
        result.kind = kind(of: result)
        return result
    }

    /// Media RSS: media:content (or inside media:group), media:thumbnail, media:title.
    static func media(_ item: MarkupElement, context: Context, into result: inout FeedItem) {
        let group = item.child("group", Namespace.media)
        let contents = item.all("content", Namespace.media) + (group?.all("content", Namespace.media) ?? [])
        let thumbnail =
            item.child("thumbnail", Namespace.media) ?? group?.child("thumbnail", Namespace.media)
            ?? contents.lazy.compactMap { $0.child("thumbnail", Namespace.media) }.first
        if let thumbnail, let url = thumbnail.attribute("url") {
            result.imageURL = context.resolve(url, at: thumbnail)
        }
        for content in contents {
            guard let url = content.attribute("url") else { continue }
            // Newspapers leave type (and medium) empty on their pictures: the file name says what it is.
            let type = content.attribute("type")?.trimmedASCII.lowercased() ?? ""
            let medium = content.attribute("medium")?.trimmedASCII.lowercased() ?? ""
            let guessed = type.isEmpty && medium.isEmpty ? mediaType(ofFile: url) : ""
            if type.hasPrefix("image/") || medium == "image" || guessed.hasPrefix("image/") {
                if result.imageURL == nil { result.imageURL = context.resolve(url, at: content) }
                continue
            }
            if result.enclosure == nil {
                result.enclosure = .init(
                    url: context.resolve(url, at: content),
                    type: !type.isEmpty
                        ? type : medium == "video" ? "video/*" : medium == "audio" ? "audio/*" : guessed,
                    length: content.attribute("fileSize").flatMap { Int($0.trimmedASCII) })
            }
            if result.durationSeconds == nil, let seconds = content.attribute("duration").flatMap({ Int($0) }) {
                result.durationSeconds = seconds
            }
        }
        if let title = item.child("title", Namespace.media)?.text ?? group?.text(of: "title", Namespace.media),
            result.title.isEmpty
        {
            result.title = title
        }
    }

    /// Media RSS's description, for an item with no summary of its own.
    static func mediaDescription(_ item: MarkupElement, context: Context, into result: inout FeedItem) {
        let group = item.child("group", Namespace.media)
        guard
            let description = item.text(of: "description", Namespace.media)
                ?? group?.text(of: "description", Namespace.media)
        else { return }
        let cleaned = HTMLCleaner.clean(description, base: context.base(of: item))
        result.summary = cleaned.text
        result.summaryHTML = cleaned.html
    }

    /// The media type a file name's extension implies (its path's, before any query), or "".
    static func mediaType(ofFile url: String) -> String {
        let path = url.prefix { $0 != "?" && $0 != "#" }.lowercased()
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return "" }
        switch path[path.index(after: dot)...] {
        case "jpg", "jpeg": return "image/jpeg"
        case "png": return "image/png"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "avif": return "image/avif"
        case "mp3": return "audio/mpeg"
        case "m4a": return "audio/mp4"
        case "ogg", "oga": return "audio/ogg"
        case "mp4", "m4v": return "video/mp4"
        case "webm": return "video/webm"
        case "mov": return "video/quicktime"
        default: return ""
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
