import DigestCore
import Foundation

extension Workspace {
    /// Writes `edition` to its file: beside it and renamed, so the editor's file is never half-written.
    /// Gather and add both save through here. An existing file is edited, not rewritten: only what
    /// changed is spliced in, and the editor's comments, blank lines, quoting and layout stay
    /// (`EditionFile.edit`); the whole file is written only when there is none yet.
    public func save(_ edition: Edition) throws {
        let file = editionFile(edition.date)
        do {
            try FileManager.default.createDirectory(at: editionFolder(edition.date), withIntermediateDirectories: true)
            let current = (try? Data(contentsOf: file)).map { String(decoding: $0, as: UTF8.self) }
            let text = current.flatMap { EditionFile.edit($0, to: edition) } ?? EditionFile.encode(edition)
            if text != current { try Data(text.utf8).write(to: file, options: .atomic) }
        } catch {
            throw WorkflowError("cannot write \(displayPath(file)): \(error.localizedDescription)")
        }
    }
}
