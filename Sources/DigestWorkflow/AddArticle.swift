import DigestCore
import DigestCurl
import DigestFeeds
import DigestHTML
import Foundation

/// `digest add`: one article, read from its web page, placed in a section of the edition.
public enum AddArticle {
    public struct Report: Sendable {
        public var title: String
        public var section: String
        /// The edition file as the editor would type its path.
        public var file: String
        /// The page gives no publication time.
        public var undated: Bool
        /// The editor's previous file, kept when it could not be edited in place (see `Workspace.save`).
        public var backup: String? = nil
    }

    public static func run(
        url: String, section: String?, workspace explicit: String?, date given: String?,
        environment: DigestEnvironment
    ) throws -> Report {
        let workspace = try environment.workspace(explicit)
        let publication = try workspace.loadPublication()
        let date = try environment.editionDate(given, publication: publication)
        let file = workspace.editionFile(date)
        var edition =
            FileManager.default.fileExists(atPath: file.path)
            ? try workspace.loadEdition(date) : Edition(date: date, subject: "", preheader: "", sections: [])
        let document: FetchedDocument
        switch try CurlFetcher(configuration: .init(totalTimeout: publication.gather.timeout)).fetch(url) {
        case .failure(let error): throw WorkflowError("\(error)")
        case .success(let fetched): document = fetched
        }
        let page = PageMetadata.parse(document.body, url: url, encoding: document.charset)
        let link = page.canonicalURL.flatMap { $0.lowercased().hasPrefix("http") ? $0 : nil } ?? url
        if edition.items.contains(where: { CanonicalURL.of($0.url) == CanonicalURL.of(link) }) {
            throw WorkflowError("\(link) is in the edition of \(date) already")
        }
        let item = article(from: page, link: link, summaryLength: publication.gather.summaryLength)
        let name = section ?? edition.sections.first?.title ?? "Today"
        if let index = edition.sections.firstIndex(where: { $0.title == name }) {
            edition.sections[index].items.append(item)
        } else {
            edition.sections.append(Section(title: name, items: [item]))
        }
        if edition.subject.isEmpty { edition.subject = item.title }
        let backup = try workspace.save(edition)
        return Report(
            title: item.title, section: name, file: workspace.displayPath(file), undated: page.published == nil,
            backup: backup)
    }

    /// The edition's item for a page: its metadata, one line each, the summary cut as gather cuts it.
    static func article(from page: PageMetadata, link: String, summaryLength: Int) -> Item {
        let title = page.title.isEmpty ? link : TextMarks.singleLine(page.title)
        return Item(
            title: title, url: link,
            summary: HTMLCleaner.summary(TextMarks.singleLine(page.description), length: summaryLength),
            published: page.published,
            source: ItemSource(feed: "added by hand", guid: link),
            content: .article(
                Article(
                    author: TextMarks.singleLine(page.author),
                    // The edition holds web links only (a page read from a file has file: pictures).
                    image: page.imageURL.flatMap {
                        $0.lowercased().hasPrefix("http") ? Image(url: $0, alt: page.imageAlt ?? title) : nil
                    })))
    }
}
