import DigestCore
import Foundation

extension Workspace {
    /// Writes `edition` to its file: beside it and renamed, so the editor's file is never half-written.
    /// Gather and add both save through here. An existing file is edited, not rewritten: only what
    /// changed is spliced in, and the editor's comments, blank lines, quoting and layout stay
    /// (`EditionFile.edit`); the whole file is written when there is none yet. When an existing file
    /// cannot be edited in place (sections or items written in YAML's flow style, `[{…}]`), it is
    /// rewritten whole and the editor's version kept beside it as `edition.yaml.bak`, whose path is
    /// returned.
    @discardableResult
    public func save(_ edition: Edition) throws -> String? {
        let file = editionFile(edition.date)
        do {
            try FileManager.default.createDirectory(at: editionFolder(edition.date), withIntermediateDirectories: true)
            let current = (try? Data(contentsOf: file)).map { String(decoding: $0, as: UTF8.self) }
            if let current, let edited = EditionFile.edit(current, to: edition) {
                if edited != current { try Data(edited.utf8).write(to: file, options: .atomic) }
                return nil
            }
            var backup: String?
            if let current {
                let copy = file.appendingPathExtension("bak")
                try Data(current.utf8).write(to: copy, options: .atomic)
                backup = displayPath(copy)
            }
            try Data(EditionFile.encode(edition).utf8).write(to: file, options: .atomic)
            return backup
        } catch {
            throw WorkflowError("cannot write \(displayPath(file)): \(error.localizedDescription)")
        }
    }
}
