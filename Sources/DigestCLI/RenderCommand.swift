import ArgumentParser
import DigestWorkflow
import Foundation

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write an edition's digest.txt, digest.html and digest.eml.",
        discussion: """
            The .eml is the full MIME message as a reader receives it, addressed to the publication's own
            sender. It is dated 06:00 on the edition's day and its identifiers derive from the date, so
            rendering an unchanged edition again gives the same bytes. With dkim: in publication.yaml it
            is signed with those keys, as every reader's copy is.
            """
    )

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @Option(help: "The folder to write to. Default: the edition's own folder.")
    var out: String?

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        if let warning = loaded.clippingWarning { Console.error(warning) }
        let report = try Render.write(loaded, to: out.map(environment.path))
        for file in report.files { Console.out("wrote \(file.path) (\(file.bytes) bytes)") }
    }
}
