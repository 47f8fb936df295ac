import DigestCore
import DigestMail
import Foundation

/// `digest render`: the edition's text part, HTML part and the whole message as files.
public enum Render {
    /// The files written, with their sizes.
    public struct Report: Sendable {
        public var files: [(path: String, bytes: Int)]
    }

    /// The three files of `loaded` as bytes: `digest.txt`, `digest.html` and `digest.eml`. The message is
    /// addressed to the publication's own sender, dated 06:00 on the edition's day, with identifiers that
    /// derive from the date, so an unchanged edition renders to the same bytes. With DKIM configured the
    /// message is signed, as a reader receives it (the signatures are deterministic too).
    public static func files(_ loaded: LoadedEdition) throws -> [(name: String, data: Data)] {
        let signer = try Secrets(variables: [:], workspace: loaded.workspace).dkimSigner(loaded.publication.dkim)
        let builder = DigestMessageBuilder(
            publication: loaded.publication, rendered: loaded.rendered,
            identity: SequentialMessageIdentity(seed: loaded.edition.date.description), signer: signer)
        let dated = loaded.edition.date.start(in: loaded.publication.timeZone).addingTimeInterval(6 * 3600)
        let message = try builder.message(
            to: Reader(address: loaded.publication.sender.address, name: loaded.publication.name), date: dated)
        return [
            ("digest.txt", Data(loaded.rendered.text().utf8)),
            ("digest.html", Data(loaded.rendered.html.utf8)),
            ("digest.eml", Data(message.data)),
        ]
    }

    /// Writes the files into `folder` (the edition's own folder when nil).
    public static func write(_ loaded: LoadedEdition, to folder: URL?) throws -> Report {
        let folder = folder ?? loaded.workspace.editionFolder(loaded.edition.date)
        let files = try files(loaded)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, data) in files {
                // Write beside and rename, so a reader of the folder never sees half a file.
                try data.write(to: folder.appendingPathComponent(name), options: .atomic)
            }
        } catch {
            throw WorkflowError("cannot write to \(folder.path): \(error.localizedDescription)")
        }
        return Report(
            files: files.map { (loaded.workspace.displayPath(folder.appendingPathComponent($0.name)), $0.data.count) })
    }
}
