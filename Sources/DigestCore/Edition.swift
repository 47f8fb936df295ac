import Foundation

/// One day's digest: what the editor shapes in `Editions/<date>/edition.yaml`.
public struct Edition: Equatable, Sendable {
    public var date: EditionDate
    /// The running number of this edition, when the publication counts them.
    public var issueNumber: Int?
    public var subject: String
    /// The line mail clients show after the subject in the inbox.
    public var preheader: String
    /// A hash of the preheader as gather last wrote it: while the file still matches it, the editor has
    /// not touched the preheader and gather may write a fresh one (after a cut, say).
    public var preheaderFingerprint: String?
    /// The editor's note, in Markdown.
    public var note: String
    public var sections: [Section]
    /// Feed item ids the editor cut: a later gather must not bring them back.
    public var removedItemIDs: [String]
    /// Every feed item id gather has put into this edition: an id here but no longer in the sections
    /// was cut by the editor.
    public var gatheredItemIDs: [String] = []

    public init(
        date: EditionDate, issueNumber: Int? = nil, subject: String, preheader: String = "", note: String = "",
        sections: [Section] = [], removedItemIDs: [String] = []
    ) {
        self.date = date
        self.issueNumber = issueNumber
        self.subject = subject
        self.preheader = preheader
        self.note = note
        self.sections = sections
        self.removedItemIDs = removedItemIDs
    }

    /// Every item, in reading order.
    public var items: [Item] { sections.flatMap(\.items) }
}

/// A titled group of items: "Syria", "Listen", "Watch".
public struct Section: Equatable, Sendable {
    public var title: String
    public var items: [Item]

    public init(title: String, items: [Item]) {
        self.title = title
        self.items = items
    }
}

/// Where an item came from, so that a second gather recognises it.
public struct ItemSource: Equatable, Sendable {
    public var feed: String
    public var guid: String
    /// A hash of the title and summary as gather last wrote them: when the file still matches it, the
    /// editor has not touched them and a newer version from the feed may replace them.
    public var fingerprint: String?

    public init(feed: String, guid: String, fingerprint: String? = nil) {
        self.feed = feed
        self.guid = guid
        self.fingerprint = fingerprint
    }
}

/// A picture with the text a reader gets when images are off.
public struct Image: Equatable, Sendable {
    public var url: String
    public var alt: String

    public init(url: String, alt: String) {
        self.url = url
        self.alt = alt
    }
}

/// An item of the digest: what it is, and the fields every kind shares.
public struct Item: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable, Codable {
        case article, podcast, video
    }

    /// Article, podcast episode or video, with the fields only that kind has.
    public enum Content: Equatable, Sendable {
        case article(Article)
        case podcast(PodcastEpisode)
        case video(Video)
    }

    public var title: String
    public var url: String
    public var summary: String
    public var published: Date?
    /// The editor's own line about the item, shown above the summary.
    public var editorNote: String
    /// The lead story of the edition, shown first and larger.
    public var isLead: Bool
    public var source: ItemSource?
    public var content: Content

    public init(
        title: String, url: String, summary: String = "", published: Date? = nil, editorNote: String = "",
        isLead: Bool = false, source: ItemSource? = nil, content: Content
    ) {
        self.title = title
        self.url = url
        self.summary = summary
        self.published = published
        self.editorNote = editorNote
        self.isLead = isLead
        self.source = source
        self.content = content
    }

    public var kind: Kind {
        switch content {
        case .article: .article
        case .podcast: .podcast
        case .video: .video
        }
    }
}

public struct Article: Equatable, Sendable {
    public var author: String
    public var categories: [String]
    public var image: Image?

    public init(author: String = "", categories: [String] = [], image: Image? = nil) {
        self.author = author
        self.categories = categories
        self.image = image
    }
}

/// The audio file of a podcast episode, as its feed's `<enclosure>` gives it.
public struct Enclosure: Equatable, Sendable {
    public var url: String
    public var type: String
    /// Size in bytes, when known.
    public var length: Int?

    public init(url: String, type: String, length: Int? = nil) {
        self.url = url
        self.type = type
        self.length = length
    }
}

public struct PodcastEpisode: Equatable, Sendable {
    public var show: String
    public var audio: Enclosure?
    public var duration: MediaDuration?
    public var episodeNumber: Int?
    public var image: Image?

    public init(
        show: String, audio: Enclosure? = nil, duration: MediaDuration? = nil, episodeNumber: Int? = nil,
        image: Image? = nil
    ) {
        self.show = show
        self.audio = audio
        self.duration = duration
        self.episodeNumber = episodeNumber
        self.image = image
    }
}

public struct Video: Equatable, Sendable {
    public var duration: MediaDuration?
    public var thumbnail: Image?

    public init(duration: MediaDuration? = nil, thumbnail: Image? = nil) {
        self.duration = duration
        self.thumbnail = thumbnail
    }
}

/// A running time in whole seconds, written `H:MM:SS` or `M:SS` (as `itunes:duration` is).
public struct MediaDuration: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    /// Reads `3723`, `62:03`, `1:02:03`; nil for anything else.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        var total = 0
        for (index, part) in parts.enumerated() {
            guard let value = Int(part) else { return nil }
            // Minutes and seconds after the first field stay below 60.
            if index > 0 && value >= 60 { return nil }
            total = total * 60 + value
        }
        self.seconds = total
    }

    /// `1:02:03` or `31:05`.
    public var description: String {
        let hours = seconds / 3600
        let minutes = (seconds % 3600) / 60
        let secs = seconds % 60
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    /// `1 h 2 min` or `31 min`: how a reader wants to see it.
    public var spoken: String { spoken(hours: "h", minutes: "min", seconds: "s") }

    /// The spoken form with the language's units (`Labels`).
    public func spoken(hours: String, minutes minuteUnit: String, seconds secondUnit: String) -> String {
        let minutes = (seconds + 30) / 60
        if minutes < 1 { return "\(seconds) \(secondUnit)" }
        return minutes >= 60
            ? "\(minutes / 60) \(hours) \(minutes % 60) \(minuteUnit)" : "\(minutes) \(minuteUnit)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
