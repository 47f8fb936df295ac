import DigestCore
import Foundation

extension Workspace {
    /// Writes `edition` to its file: beside it and renamed, so the editor's file is never half-written.
    /// Gather and add both save through here.
    public func save(_ edition: Edition) throws {
        let file = editionFile(edition.date)
        do {
            try FileManager.default.createDirectory(at: editionFolder(edition.date), withIntermediateDirectories: true)
            try Data(EditionFile.encode(edition).utf8).write(to: file, options: .atomic)
        } catch {
            throw WorkflowError("cannot write \(displayPath(file)): \(error.localizedDescription)")
        }
    }
}
