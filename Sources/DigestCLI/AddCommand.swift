import ArgumentParser
import DigestWorkflow
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
        let report = try AddArticle.run(
            url: url, section: section, workspace: options.workspace, date: date, environment: Live.environment)
        Console.out("added \"\(report.title)\" to \(report.section) in \(report.file)")
        if report.undated { Console.out("  note: the page gives no publication time") }
        if let backup = report.backup {
            Console.out(
                "  note: your file was in a shape add cannot edit in place; it was rewritten and your version kept as \(backup)"
            )
        }
    }
}
