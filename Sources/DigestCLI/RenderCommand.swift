import ArgumentParser
import DigestCore
import DigestMail
import Foundation

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write an edition's digest.txt, digest.html and digest.eml.",
        discussion: """
            The .eml is the full MIME message as a reader receives it, addressed to the publication's own
            sender. It is dated 06:00 on the edition's day and its identifiers derive from the date, so
            rendering an unchanged edition again gives the same bytes.
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
        loaded.warnIfClipped()
        let folder =
            out.map { URL(fileURLWithPath: $0, relativeTo: environment.currentDirectory).standardizedFileURL }
            ?? loaded.workspace.editionFolder(loaded.edition.date)
        let builder = DigestMessageBuilder(
            publication: loaded.publication, rendered: loaded.rendered,
            identity: SequentialMessageIdentity(seed: loaded.edition.date.description))
        let dated = loaded.edition.date.start(in: loaded.publication.timeZone).addingTimeInterval(6 * 3600)
        let message = try builder.message(
            to: Reader(address: loaded.publication.sender.address, name: loaded.publication.name), date: dated)
        let files: [(String, Data)] = [
            ("digest.txt", Data(loaded.rendered.text().utf8)),
            ("digest.html", Data(loaded.rendered.html.utf8)),
            ("digest.eml", Data(message.data)),
        ]
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, data) in files {
                // Write beside and rename, so a reader of the folder never sees half a file.
                try data.write(to: folder.appendingPathComponent(name), options: .atomic)
            }
        } catch {
            throw CommandFailure(message: "cannot write to \(folder.path): \(error.localizedDescription)")
        }
        for (name, data) in files {
            Console.out(
                "wrote \(loaded.workspace.displayPath(folder.appendingPathComponent(name))) (\(data.count) bytes)")
        }
    }
}
