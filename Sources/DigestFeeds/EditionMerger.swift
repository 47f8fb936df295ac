import DigestCore
import DigestHTML
import Foundation

/// A feed's items as fetched and parsed, with the configuration that names its section.
public struct GatheredFeed: Sendable {
    public var source: FeedSource
    public var items: [FeedItem]
    /// The feed's own title (a podcast's show name, from the channel's `<title>`).
    public var title: String

    public init(source: FeedSource, items: [FeedItem], title: String = "") {
        self.source = source
        self.items = items
        self.title = title
    }
}

/// What a gather did to the edition.
public struct MergeReport: Equatable, Sendable {
    public var added: [String] = []
    public var updated: [String] = []
    /// Items kept although their feed gives no date (flagged for the editor).
    public var undated: [String] = []
    /// Items the editor cut earlier, left out again.
    public var keptOut = 0
    /// Items that another feed (or the edition) had already, by GUID or canonical URL.
    public var duplicates = 0
    /// Items of the edition's window left out because they could not be put in it, each with the reason.
    public var dropped: [DroppedItem] = []
}

/// A feed's item that gather left out, and why: the editor sees every one.
public struct DroppedItem: Equatable, Sendable {
    /// The feed's address, as configured.
    public var feed: String
    public var title: String
    public var id: String
    public var reason: String

    public init(feed: String, title: String, id: String, reason: String) {
        self.feed = feed
        self.title = title
        self.id = id
        self.reason = reason
    }
}

/// Merges gathered feed items into an edition without undoing the editor's work: order, cuts, notes,
/// the lead, and hand-written titles and summaries all stay. Pure: no clock, no disk.
public enum EditionMerger {
    /// The instants an edition of `date` gathers: its day in `timeZone`, or everything after the day of
    /// the previous edition up to the end of this one.
    public static func window(
        for date: EditionDate, settings: GatherSettings, previous: EditionDate?, timeZone: TimeZone
    ) -> DateInterval {
        let end = date.start(in: timeZone).addingTimeInterval(36 * 3600)
        let dayEnd = EditionDate(containing: end, in: timeZone).start(in: timeZone)
        var start = date.start(in: timeZone)
        if settings.window == .sinceLastEdition, let previous, previous < date {
            let after = previous.start(in: timeZone).addingTimeInterval(36 * 3600)
            start = EditionDate(containing: after, in: timeZone).start(in: timeZone)
        }
        return DateInterval(start: start, end: dayEnd)
    }

    public static func merge(
        existing: Edition?, feeds: [GatheredFeed], date: EditionDate, window: DateInterval, summaryLength: Int
    ) -> (Edition, MergeReport) {
        var report = MergeReport()
        var edition = existing ?? Edition(date: date, subject: "", preheader: "", note: "", sections: [])
        let isNew = existing == nil || existing?.items.isEmpty == true

        // What the editor cut since the last gather.
        let present = Set(edition.items.compactMap { $0.source?.guid })
        for id in edition.gatheredItemIDs where !present.contains(id) && !edition.removedItemIDs.contains(id) {
            edition.removedItemIDs.append(id)
        }
        let removed = Set(edition.removedItemIDs)
        var seenIDs = Set<String>()
        var seenURLs = Set<String>()

        for feed in feeds {
            let candidates = feed.items.filter { item in
                guard let published = item.published else { return true }
                return window.contains(published) && published < window.end
            }.sorted { ($0.published ?? .distantFuture) > ($1.published ?? .distantFuture) }
            for feedItem in candidates {
                // The edition holds web links only: an item with none (after the parser's permalink,
                // enclosure and feed fall-backs) is left out, and said so.
                guard YAMLSafe.isWebURL(feedItem.link) else {
                    report.dropped.append(
                        DroppedItem(
                            feed: feed.source.url, title: feedItem.title.isEmpty ? "(untitled)" : feedItem.title,
                            id: feedItem.id, reason: dropReason(feedItem)))
                    continue
                }
                // Items that fell back to the feed's own page share its address: only their ids tell them apart.
                let canonical = feedItem.linkSource == .feed ? nil : CanonicalURL.of(feedItem.link)
                guard !seenIDs.contains(feedItem.id), !(canonical.map(seenURLs.contains) ?? false) else {
                    report.duplicates += 1
                    continue
                }
                seenIDs.insert(feedItem.id)
                if let canonical { seenURLs.insert(canonical) }
                if removed.contains(feedItem.id) {
                    report.keptOut += 1
                    continue
                }
                let item = makeItem(
                    feedItem, source: feed.source, summaryLength: summaryLength, feedTitle: feed.title)
                if feedItem.published == nil { report.undated.append(item.title) }
                if let position = find(feedItem.id, canonical: canonical, in: edition) {
                    var current = edition.sections[position.section].items[position.item]
                    if update(&current, with: item) {
                        edition.sections[position.section].items[position.item] = current
                        report.updated.append(item.title)
                    }
                } else {
                    let sectionIndex =
                        edition.sections.firstIndex { $0.title == feed.source.section }
                        ?? {
                            edition.sections.append(Section(title: feed.source.section, items: []))
                            return edition.sections.count - 1
                        }()
                    edition.sections[sectionIndex].items.append(item)
                    report.added.append(item.title)
                }
                if !edition.gatheredItemIDs.contains(feedItem.id) { edition.gatheredItemIDs.append(feedItem.id) }
            }
        }
        if isNew, let first = edition.sections.first(where: { !$0.items.isEmpty }) {
            let sectionIndex = edition.sections.firstIndex { $0.title == first.title } ?? 0
            edition.sections[sectionIndex].items[0].isLead = true
            edition.subject = first.items[0].title
        }
        // The preheader follows the items while it is as gather wrote it (or empty): after a cut it no
        // longer advertises the cut story. Once the editor writes their own, it is theirs.
        let preheaderUntouched =
            edition.preheader.isEmpty
            || edition.preheaderFingerprint == fingerprint(title: edition.preheader, summary: "")
        if preheaderUntouched, !edition.items.isEmpty {
            let fresh = preheader(for: edition)
            if fresh != edition.preheader || edition.preheaderFingerprint == nil {
                edition.preheader = fresh
                edition.preheaderFingerprint = fingerprint(title: fresh, summary: "")
            }
        }
        if edition.subject.isEmpty { edition.subject = "Digest of \(date.longText)" }
        return (edition, report)
    }

    /// The titles of the first three items after the lead, as the line inboxes show after the subject.
    static func preheader(for edition: Edition) -> String {
        let lead = edition.items.firstIndex(where: \.isLead) ?? 0
        return edition.items.enumerated().filter { $0.offset != lead }.prefix(3).map(\.element.title)
            .joined(separator: " · ")
    }

    /// Why an item without a web link could not be placed, in the editor's words.
    static func dropReason(_ item: FeedItem) -> String {
        let link = item.link.trimmingCharacters(in: .whitespacesAndNewlines)
        let what = link.isEmpty ? "it has no link" : "its link \"\(link)\" is not a web (http or https) address"
        return what + ", no permalink GUID, no enclosure, and its feed names no web page to point to instead"
    }

    static func find(_ id: String, canonical: String?, in edition: Edition) -> (section: Int, item: Int)? {
        for (sectionIndex, section) in edition.sections.enumerated() {
            for (itemIndex, item) in section.items.enumerated()
            where item.source?.guid == id || (canonical != nil && CanonicalURL.of(item.url) == canonical) {
                return (sectionIndex, itemIndex)
            }
        }
        return nil
    }

    /// Applies the feed's newer version. Title and summary change only while they are as gather wrote
    /// them (the fingerprint matches); the editor's note, the lead and the position never change.
    static func update(_ item: inout Item, with fresh: Item) -> Bool {
        let before = item
        let untouched = item.source?.fingerprint == fingerprint(title: item.title, summary: item.summary)
        if untouched {
            item.title = fresh.title
            item.summary = fresh.summary
            item.source?.fingerprint = fresh.source?.fingerprint
        }
        item.url = fresh.url
        item.published = fresh.published ?? item.published
        switch (item.content, fresh.content) {
        case (.podcast(var old), .podcast(let new)):
            old.audio = new.audio ?? old.audio
            old.duration = new.duration ?? old.duration
            old.episodeNumber = new.episodeNumber ?? old.episodeNumber
            item.content = .podcast(old)
        case (.video(var old), .video(let new)):
            old.duration = new.duration ?? old.duration
            old.thumbnail = old.thumbnail ?? new.thumbnail
            item.content = .video(old)
        default: break
        }
        return item != before
    }

    static func makeItem(_ feedItem: FeedItem, source: FeedSource, summaryLength: Int, feedTitle: String = "")
        -> Item
    {
        let title = feedItem.title.isEmpty ? feedItem.link : feedItem.title
        let summary = HTMLCleaner.summary(feedItem.summary, length: summaryLength)
        let image = feedItem.imageURL.flatMap { url in
            YAMLSafe.isWebURL(url) ? Image(url: url, alt: feedItem.imageAlt ?? title) : nil
        }
        let content: Item.Content
        switch source.kind ?? feedItem.kind {
        case .article:
            content = .article(Article(author: feedItem.author, categories: feedItem.categories, image: image))
        case .podcast:
            content = .podcast(
                PodcastEpisode(
                    show: showName(feedTitle: feedTitle, author: feedItem.author, section: source.section),
                    audio: feedItem.enclosure.flatMap {
                        YAMLSafe.isWebURL($0.url) ? Enclosure(url: $0.url, type: $0.type, length: $0.length) : nil
                    },
                    duration: feedItem.duration, episodeNumber: feedItem.episode, image: image))
        case .video:
            content = .video(Video(duration: feedItem.duration, thumbnail: image))
        }
        return Item(
            title: title, url: feedItem.link, summary: summary, published: feedItem.published,
            source: ItemSource(
                feed: source.url, guid: feedItem.id, fingerprint: fingerprint(title: title, summary: summary)),
            content: content)
    }

    /// A podcast's show: the channel's title (`itunes:author` is the host), else the author, else the section.
    static func showName(feedTitle: String, author: String, section: String) -> String {
        let title = feedTitle.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if !title.isEmpty { return title }
        return author.isEmpty ? section : author
    }

    /// FNV-1a over the title and summary: enough to notice an edit, stable across runs and machines.
    public static func fingerprint(title: String, summary: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (title + "\n" + summary).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

enum YAMLSafe {
    /// An http(s) address with no white space. Byte-wise (this runs for every item of every feed); text
    /// with non-ASCII bytes is checked for Unicode white space as characters.
    static func isWebURL(_ text: String) -> Bool {
        let bytes = text.utf8
        func starts(with prefix: String) -> Bool {
            bytes.count >= prefix.utf8.count && zip(bytes, prefix.utf8).allSatisfy { $0 | 0x20 == $1 }
        }
        guard starts(with: "http://") || starts(with: "https://") else { return false }
        var ascii = true
        for byte in bytes {
            if byte <= 0x20 || byte == 0x7F { return false }
            if byte >= 0x80 { ascii = false }
        }
        return ascii || !text.contains(where: \.isWhitespace)
    }
}
