import Foundation
import Yams

/// Reads an edition from its YAML form (`Editions/<date>/edition.yaml`).
public enum EditionFile {
    static let editionFields = [
        "date", "issue", "subject", "preheader", "preheader_fingerprint", "note", "sections", "removed", "gathered",
    ]
    static let sectionFields = ["title", "items"]
    static let commonItemFields = ["kind", "title", "url", "summary", "published", "note", "lead", "source"]
    static let kindFields: [Item.Kind: [String]] = [
        .article: ["author", "categories", "image"],
        .podcast: ["show", "audio", "duration", "episode", "image"],
        .video: ["duration", "thumbnail"],
    ]

    /// Decodes `text`, naming `file` in every problem. Throws `Problems` listing all that is wrong.
    public static func decode(_ text: String, file: String) throws -> Edition {
        let reader = YAMLReader(file: file)
        guard let root = reader.parse(text) else { throw Problems(reader.problems) }
        let edition = decode(root, reader: reader)
        if let edition, reader.problems.isEmpty { return edition }
        throw Problems(reader.problems)
    }

    private static func decode(_ root: Node, reader: YAMLReader) -> Edition? {
        let what = "the edition"
        guard let map = reader.mapping(root, named: what, allowed: editionFields) else { return nil }
        var date: EditionDate?
        if let text = reader.string(map, "date", in: what, required: true) {
            date = EditionDate(text)
            if date == nil { reader.report(map["date"], "'date' must be a day written YYYY-MM-DD, not '\(text)'") }
        }
        let issue = reader.int(map, "issue", in: what, range: 1...1_000_000)
        let subject = reader.string(map, "subject", in: what, required: true)
        let preheader = reader.string(map, "preheader", in: what) ?? ""
        let preheaderFingerprint = reader.string(map, "preheader_fingerprint", in: what)
        let note = reader.string(map, "note", in: what) ?? ""
        let removed = reader.strings(map, "removed", in: what)
        let gathered = reader.strings(map, "gathered", in: what)
        let sectionNodes = reader.sequence(map, "sections", in: what, required: true) ?? []
        let sections = sectionNodes.enumerated().compactMap { index, node in
            decodeSection(node, number: index + 1, reader: reader)
        }
        guard let date, let subject else { return nil }
        var edition = Edition(
            date: date, issueNumber: issue, subject: subject, preheader: preheader, note: note, sections: sections,
            removedItemIDs: removed)
        edition.gatheredItemIDs = gathered
        edition.preheaderFingerprint = preheaderFingerprint
        return edition
    }

    private static func decodeSection(_ node: Node, number: Int, reader: YAMLReader) -> Section? {
        let what = "section \(number)"
        guard let map = reader.mapping(node, named: what, allowed: sectionFields) else { return nil }
        let title = reader.string(map, "title", in: what, required: true)
        let itemNodes = reader.sequence(map, "items", in: what) ?? []
        let items = itemNodes.enumerated().compactMap { index, node in
            decodeItem(node, what: "item \(index + 1) of \(title.map { "section '\($0)'" } ?? what)", reader: reader)
        }
        guard let title else { return nil }
        return Section(title: title, items: items)
    }

    private static func decodeItem(_ node: Node, what: String, reader: YAMLReader) -> Item? {
        guard case .mapping(let probe) = node else {
            reader.report(node, "\(what) must be a mapping of 'key: value' lines")
            return nil
        }
        guard let kindText = reader.string(probe, "kind", in: what, required: true) else { return nil }
        guard let kind = Item.Kind(rawValue: kindText) else {
            let suggestion = YAMLReader.closest(to: kindText, in: Item.Kind.allCases.map(\.rawValue))
            reader.report(
                probe["kind"],
                "'kind' in \(what) must be article, podcast or video, not '\(kindText)'"
                    + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""))
            return nil
        }
        guard
            let map = reader.mapping(
                node, named: "\(what) (\(kind.rawValue))", allowed: commonItemFields + (kindFields[kind] ?? []))
        else { return nil }
        let title = reader.string(map, "title", in: what, required: true)
        let url = reader.url(map, "url", in: what, required: true)
        let summary = reader.string(map, "summary", in: what) ?? ""
        let published = reader.timestamp(map, "published", in: what)
        let note = reader.string(map, "note", in: what) ?? ""
        let lead = reader.bool(map, "lead", in: what) ?? false
        let source = decodeSource(map["source"], what: what, reader: reader)
        let content: Item.Content
        switch kind {
        case .article:
            content = .article(
                Article(
                    author: reader.string(map, "author", in: what) ?? "",
                    categories: reader.strings(map, "categories", in: what),
                    image: decodeImage(map["image"], key: "image", what: what, reader: reader)))
        case .podcast:
            guard let show = reader.string(map, "show", in: what, required: true) else { return nil }
            content = .podcast(
                PodcastEpisode(
                    show: show, audio: decodeEnclosure(map["audio"], what: what, reader: reader),
                    duration: decodeDuration(map, what: what, reader: reader),
                    episodeNumber: reader.int(map, "episode", in: what, range: 0...1_000_000),
                    image: decodeImage(map["image"], key: "image", what: what, reader: reader)))
        case .video:
            content = .video(
                Video(
                    duration: decodeDuration(map, what: what, reader: reader),
                    thumbnail: decodeImage(map["thumbnail"], key: "thumbnail", what: what, reader: reader)))
        }
        guard let title, let url else { return nil }
        return Item(
            title: title, url: url, summary: summary, published: published, editorNote: note, isLead: lead,
            source: source, content: content)
    }

    private static func decodeDuration(_ map: Node.Mapping, what: String, reader: YAMLReader) -> MediaDuration? {
        guard let text = reader.string(map, "duration", in: what) else { return nil }
        guard let duration = MediaDuration(text) else {
            reader.report(map["duration"], "'duration' in \(what) must be seconds, M:SS or H:MM:SS, not '\(text)'")
            return nil
        }
        return duration
    }

    private static func decodeImage(_ node: Node?, key: String, what: String, reader: YAMLReader) -> Image? {
        guard let node else { return nil }
        let inner = "'\(key)' of \(what)"
        guard let map = reader.mapping(node, named: inner, allowed: ["url", "alt"]) else { return nil }
        let url = reader.url(map, "url", in: inner, required: true)
        guard let alt = reader.string(map, "alt", in: inner, required: true) else {
            return nil
        }
        return url.map { Image(url: $0, alt: alt) }
    }

    private static func decodeEnclosure(_ node: Node?, what: String, reader: YAMLReader) -> Enclosure? {
        guard let node else { return nil }
        let inner = "'audio' of \(what)"
        guard let map = reader.mapping(node, named: inner, allowed: ["url", "type", "length"]) else { return nil }
        let url = reader.url(map, "url", in: inner, required: true)
        let type = reader.string(map, "type", in: inner) ?? "audio/mpeg"
        let length = reader.int(map, "length", in: inner, range: 0...Int.max)
        return url.map { Enclosure(url: $0, type: type, length: length) }
    }

    private static func decodeSource(_ node: Node?, what: String, reader: YAMLReader) -> ItemSource? {
        guard let node else { return nil }
        let inner = "'source' of \(what)"
        guard let map = reader.mapping(node, named: inner, allowed: ["feed", "guid", "fingerprint"]) else { return nil }
        guard let feed = reader.string(map, "feed", in: inner, required: true),
            let guid = reader.string(map, "guid", in: inner, required: true)
        else { return nil }
        return ItemSource(feed: feed, guid: guid, fingerprint: reader.string(map, "fingerprint", in: inner))
    }
}
