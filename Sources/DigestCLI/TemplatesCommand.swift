import ArgumentParser
import DigestCore
import DigestWorkflow
import Foundation

struct TemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "The email's templates.",
        subcommands: [EjectCommand.self]
    )

    struct EjectCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eject",
            abstract: "Copy the templates built into digest into the workspace, to change them.",
            discussion: """
                Writes digest.html.mustache, digest.txt.mustache and their partials into Templates/ (or the
                folder publication.yaml's templates: names), which digest then renders with. A file that is
                there already is never replaced: remove it first to get the built-in copy again.
                """
        )

        @Option(help: "The folder to write to. Default: Templates/ in the workspace, or the one templates: names.")
        var to: String?

        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            let environment = Live.environment
            let workspace = try environment.workspace(options.workspace)
            let folder = try to.map(environment.path) ?? TemplatesEject.defaultFolder(workspace)
            let report = try TemplatesEject.eject(into: folder, workspace: workspace)
            for name in report.created { Console.out("wrote \(name)") }
            for name in report.kept { Console.out("kept  \(name): it exists already") }
            if report.created.isEmpty {
                Console.out("nothing to write: every template is in \(report.folder) already")
            } else if workspace.templatesFolder(for: try workspace.loadPublication()).standardizedFileURL.path
                != folder.standardizedFileURL.path
            {
                Console.out("to render with them, set templates: \(report.folder) in publication.yaml")
            } else {
                Console.out("digest now renders with the templates in \(report.folder); see docs/templates.md")
            }
        }
    }
}
