import Foundation

/// What the templates see: ready-formatted strings, built once per edition and output format.
///
/// swift-mustache reads stored properties by reflection, so these are plain structs; a template may
/// name only what is here (`TemplateSet` checks that when it loads).
public struct EditionView: Sendable {
    public var publicationName: String
    public var language: String
    /// `rtl` when the subject is in a right-to-left script, else `ltr`.
    public var direction: String
    /// `left` in a left-to-right edition, `right` in a right-to-left one: where lines start, for
    /// `text-align`, borders and padding that must follow the direction.
    public var startSide: String
    /// The other side: `right`, or `left` in a right-to-left edition.
    public var endSide: String
    public var subject: String
    public var preheader: String?
    /// "Saturday 18 November 2017 · No. 412".
    public var dateLine: String
    public var issueLine: String?
    public var hasNote: Bool
    /// The editor's note: HTML for the HTML part, wrapped-ready text for the text part.
    public var note: String
    /// The edition's lead item (any kind), shown first, above the sections, and larger; taken out of
    /// its section. nil when no item is marked `lead: true`.
    public var lead: ItemView?
    /// The lead's heading: "Top story" (in capitals in the text part, where CSS cannot make them).
    public var leadHeading: String
    /// A line of `=` as wide as the heading, for the text part.
    public var leadRule: String
    public var sections: [SectionView]
    public var footer: FooterView
    /// The fixed words in the publication's language: `{{labels.listen}}`.
    public var labels: LabelsView
    /// The reader's name (empty when unknown), for a greeting: "Dear {{readerName}}".
    public var readerName: String
    /// The numbered links of the text part (empty in the HTML part).
    public var references: [ReferenceView]
    public var hasReferences: Bool
}

public struct SectionView: Sendable {
    public var title: String
    /// A line of `=` as wide as the title, to underline it in the text part.
    public var rule: String
    public var isEmpty: Bool
    public var items: [ItemView]
}

public struct ItemView: Sendable {
    public var isLead: Bool
    public var title: String
    public var url: String
    /// ` [3]` in the text part, empty in the HTML part.
    public var ref: String
    public var summary: String?
    public var editorNote: String?
    /// "By Scott Lucas · 09:30": byline and time, or show, episode and duration; absent when there is none.
    public var meta: String?
    public var article: ArticleView?
    public var podcast: PodcastView?
    public var video: VideoView?
}

public struct ImageView: Sendable {
    /// The picture's address (named `src` so that `{{url}}` inside an image still means the item's link).
    public var src: String
    public var alt: String
}

public struct ArticleView: Sendable {
    public var author: String?
    public var categories: String?
    public var image: ImageView?
}

public struct PodcastView: Sendable {
    public var show: String
    public var duration: String?
    public var episode: String?
    /// The audio file when the feed gave one, else the episode's page.
    public var listenURL: String
    public var listenRef: String
    public var image: ImageView?
}

public struct VideoView: Sendable {
    public var duration: String?
    public var thumbnail: ImageView?
}

public struct FooterView: Sendable {
    public var reason: String
    public var postalAddress: String
    public var postalAddressLines: [String]
    public var archiveURL: String?
    public var archiveRef: String?
    public var unsubscribeURL: String
}

public struct ReferenceView: Sendable {
    public var number: Int
    public var url: String
}

/// The output an `EditionView` is built for.
public enum RenderTarget: Sendable {
    case html
    case text
}

extension EditionView {
    /// Builds the view of `edition` for `target`. `links` collects the text part's numbered links.
    public static func build(
        edition: Edition, publication: Publication, target: RenderTarget, unsubscribeURL: String,
        readerName: String = ""
    ) -> EditionView {
        let links = LinkTable()
        let clean = TextMarks.singleLine
        func ref(_ url: String) -> String {
            target == .text ? " " + TextMarks.reference(links.number(for: url)) : ""
        }
        func styled(_ text: String, _ style: (String) -> String) -> String {
            target == .text ? style(text) : text
        }
        let timeFormatter = ClockTime(timeZone: publication.timeZone)
        let table = publication.labels
        let labels = LabelsView(table)
        func spoken(_ duration: MediaDuration) -> String {
            duration.spoken(
                hours: table["hours"] ?? "h", minutes: table["minutes"] ?? "min", seconds: table["seconds"] ?? "s")
        }
        // Links go out without the parameters that only track readers.
        let link = TrackingParameters.strip
        // The first item marked as the lead leads; it is taken out of its section.
        let leadPosition = edition.sections.enumerated().lazy.compactMap { sectionIndex, section in
            section.items.firstIndex(where: \.isLead).map { (sectionIndex, $0) }
        }.first
        var lead: ItemView?
        let markdown = Markdown(TextMarks.strip(edition.note))
        let note =
            target == .html
            ? MarkdownRenderer.html(markdown) : MarkdownRenderer.text(markdown, link: { links.number(for: $0) })

        func itemView(_ item: Item, isLead: Bool) -> ItemView {
            let title = clean(item.title)
            let url = link(item.url)
            var view = ItemView(
                isLead: isLead, title: styled(title, TextMarks.bold), url: url, ref: ref(url),
                summary: nonEmpty(clean(item.summary)), editorNote: nonEmpty(clean(item.editorNote)), meta: nil,
                article: nil,
                podcast: nil, video: nil)
            var meta: [String] = []
            switch item.content {
            case .article(let article):
                if !article.author.isEmpty {
                    meta.append(labels.by + " " + isolated(clean(article.author), within: labels.by))
                }
                if let published = item.published { meta.append(timeFormatter.string(published)) }
                view.article = ArticleView(
                    author: nonEmpty(clean(article.author)),
                    categories: nonEmpty(article.categories.map(clean).joined(separator: ", ")),
                    image: article.image.map { ImageView(src: $0.url, alt: clean($0.alt)) })
            case .podcast(let episode):
                meta.append(isolated(clean(episode.show)))
                if let number = episode.episodeNumber { meta.append("\(labels.episode) \(number)") }
                if let duration = episode.duration { meta.append(spoken(duration)) }
                let listen = link(episode.audio?.url ?? item.url)
                view.podcast = PodcastView(
                    show: clean(episode.show), duration: episode.duration.map(spoken),
                    episode: episode.episodeNumber.map(String.init), listenURL: listen,
                    listenRef: listen == url ? view.ref : ref(listen),
                    image: episode.image.map { ImageView(src: $0.url, alt: clean($0.alt)) })
            case .video(let video):
                meta.append(labels.video)
                if let duration = video.duration { meta.append(spoken(duration)) }
                view.video = VideoView(
                    duration: video.duration.map(spoken),
                    thumbnail: video.thumbnail.map { ImageView(src: $0.url, alt: clean($0.alt)) })
            }
            view.meta = meta.isEmpty ? nil : styled(meta.joined(separator: " · "), TextMarks.dim)
            return view
        }

        // The lead is numbered first in the text part, as it is read first.
        if let (sectionIndex, itemIndex) = leadPosition {
            lead = itemView(edition.sections[sectionIndex].items[itemIndex], isLead: true)
        }
        let sections = edition.sections.enumerated().compactMap { sectionIndex, section -> SectionView? in
            var sourceItems = section.items
            if let position = leadPosition, position.0 == sectionIndex {
                sourceItems.remove(at: position.1)
                // A section that held only the lead has nothing left to show.
                if sourceItems.isEmpty { return nil }
            }
            let items = sourceItems.map { itemView($0, isLead: false) }
            let title = clean(section.title)
            return SectionView(
                title: styled(title, TextMarks.bold), rule: String(repeating: "=", count: DisplayWidth.of(title)),
                isEmpty: items.isEmpty, items: items)
        }

        let archive = publication.archiveURL(for: edition.date)
        let digestName = Labels.digestName(table, name: publication.name, cadence: publication.cadence)
        let footer = FooterView(
            reason: (table["subscribed"] ?? "{digest}").replacingOccurrences(of: "{digest}", with: digestName),
            postalAddress: publication.postalAddress.replacingOccurrences(of: "\n", with: ", "),
            postalAddressLines: publication.postalAddress.split(separator: "\n").map(String.init),
            archiveURL: archive, archiveRef: archive.map(ref), unsubscribeURL: unsubscribeURL)
        let issueLine = edition.issueNumber.map { "\(table["issue"] ?? "No.") \($0)" }
        let dateLine = [edition.date.longText, issueLine].compactMap { $0 }.joined(separator: " · ")
        let direction = ScriptDirection.of(edition.subject)
        return EditionView(
            publicationName: styled(publication.name, TextMarks.bold), language: publication.language,
            direction: direction, startSide: direction == "rtl" ? "right" : "left",
            endSide: direction == "rtl" ? "left" : "right", subject: clean(edition.subject),
            preheader: nonEmpty(clean(edition.preheader)),
            dateLine: styled(dateLine, TextMarks.dim), issueLine: issueLine,
            hasNote: !markdown.blocks.isEmpty, note: note, lead: lead,
            leadHeading: target == .text ? TextMarks.bold(labels.topStory.uppercased()) : labels.topStory,
            leadRule: String(repeating: "=", count: DisplayWidth.of(labels.topStory.uppercased())), sections: sections,
            footer: footer,
            labels: labels, readerName: readerName,
            references: links.urls.enumerated().map { ReferenceView(number: $0.offset + 1, url: $0.element) },
            hasReferences: !links.urls.isEmpty)
    }
}

/// A right-to-left name between Unicode's first-strong isolate and its closing mark, so that it cannot
/// pull its neighbours into its direction: "By سكوت لوكاس · 09:30" keeps the time after the name.
/// With `within`, a name is isolated when its direction differs from that text's: "بقلم EA WorldView staff".
func isolated(_ text: String, within context: String = "By") -> String {
    ScriptDirection.of(text) != ScriptDirection.of(context) ? "\u{2068}\(text)\u{2069}" : text
}

func nonEmpty(_ text: String) -> String? {
    text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : text
}

/// Numbers links in the order they first appear; a link seen again keeps its number.
final class LinkTable {
    private(set) var urls: [String] = []
    private var numbers: [String: Int] = [:]

    func number(for url: String) -> Int {
        if let number = numbers[url] { return number }
        urls.append(url)
        numbers[url] = urls.count
        return urls.count
    }
}

/// `09:30` in the publication's zone, with the POSIX locale.
struct ClockTime {
    let calendar: Calendar

    init(timeZone: TimeZone) {
        calendar = .gregorian(in: timeZone)
    }

    func string(_ date: Date) -> String {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }
}

/// Whether text reads right to left, judged by its first strong character (as the Unicode bidi algorithm does).
public enum ScriptDirection {
    public static func of(_ text: String) -> String {
        for scalar in text.unicodeScalars {
            let value = scalar.value
            // Hebrew, Arabic, Syriac, Thaana, NKo and the Arabic presentation forms.
            if (0x0590...0x08FF).contains(value) || (0xFB1D...0xFDFF).contains(value)
                || (0xFE70...0xFEFF).contains(value)
            {
                return "rtl"
            }
            if scalar.properties.isAlphabetic { return "ltr" }
        }
        return "ltr"
    }
}
