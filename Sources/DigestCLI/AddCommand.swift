import ArgumentParser
import DigestCore
import DigestCurl
import DigestFeeds
import Foundation

struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add one article to an edition from its web page.",
        discussion: """
            Reads the page's OpenGraph, Twitter card and JSON-LD metadata (title, description, author,
            published time, image), falling back to <title> and the first paragraph, and appends the article
            to the section (the edition's first section by default; created when missing).
              digest add https://eaworldview.com/2017/11/syria-daily/ --section Syria
            """
    )

    @Argument(help: "The article's web address.") var url: String
    @Option(help: "The section to add it to.") var section: String?
    @Option(help: "The edition's date, YYYY-MM-DD. Default: today.") var date: String?
    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            throw ValidationError("the URL must start with http:// or https://")
        }
    }

    func run() async throws {
        let environment = Live.environment
        let workspace = try environment.workspace(options.workspace)
        let publication = try workspace.loadPublication()
        let date = try environment.editionDate(self.date, publication: publication)
        let file = workspace.editionFile(date)
        var edition =
            FileManager.default.fileExists(atPath: file.path)
            ? try workspace.loadEdition(date) : Edition(date: date, subject: "", preheader: "", sections: [])
        let document: FetchedDocument
        switch try CurlFetcher(configuration: .init(totalTimeout: publication.gather.timeout)).fetch(url) {
        case .failure(let error): throw CommandFailure(message: "\(error)")
        case .success(let fetched): document = fetched
        }
        let page = PageMetadata.parse(document.body, url: url, encoding: document.charset)
        let link = page.canonicalURL.flatMap { $0.lowercased().hasPrefix("http") ? $0 : nil } ?? url
        if edition.items.contains(where: { CanonicalURL.of($0.url) == CanonicalURL.of(link) }) {
            throw CommandFailure(message: "\(link) is in the edition of \(date) already")
        }
        let title = page.title.isEmpty ? link : TextMarks.singleLine(page.title)
        let item = Item(
            title: title, url: link,
            summary: HTMLCleaner.summary(
                TextMarks.singleLine(page.description), length: publication.gather.summaryLength),
            published: page.published,
            source: ItemSource(feed: "added by hand", guid: link),
            content: .article(
                Article(
                    author: TextMarks.singleLine(page.author),
                    image: page.imageURL.map { Image(url: $0, alt: page.imageAlt ?? title) })))
        let name = section ?? edition.sections.first?.title ?? "Today"
        if let index = edition.sections.firstIndex(where: { $0.title == name }) {
            edition.sections[index].items.append(item)
        } else {
            edition.sections.append(Section(title: name, items: [item]))
        }
        if edition.subject.isEmpty { edition.subject = title }
        try FileManager.default.createDirectory(at: workspace.editionFolder(date), withIntermediateDirectories: true)
        try Data(EditionFile.encode(edition).utf8).write(to: file, options: .atomic)
        Console.out("added \"\(title)\" to \(name) in \(workspace.displayPath(file))")
        if page.published == nil { Console.out("  note: the page gives no publication time") }
    }
}
