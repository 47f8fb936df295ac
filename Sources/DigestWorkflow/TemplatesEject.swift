import DigestCore
import Foundation

/// `digest templates eject`: the templates built into digest, copied out for the editor to change.
public enum TemplatesEject {
    public struct Report: Sendable {
        /// The folder, as the editor would type it.
        public var folder: String
        public var created: [String]
        /// Files that were there already and were left as they were.
        public var kept: [String]
    }

    /// The folder the templates go to when none is given: the one publication.yaml's `templates:` names,
    /// else `Templates/`, which digest then uses without a change to publication.yaml.
    public static func defaultFolder(_ workspace: Workspace) throws -> URL {
        workspace.templatesFolder(for: try workspace.loadPublication())
    }

    /// Writes every built-in template under `folder`; a file that exists is never replaced.
    public static func eject(into folder: URL, workspace: Workspace) throws -> Report {
        var created: [String] = []
        var kept: [String] = []
        for file in BuiltInTemplates.files {
            let url = folder.appendingPathComponent(file.path)
            let name = workspace.displayPath(url)
            if FileManager.default.fileExists(atPath: url.path) {
                kept.append(name)
                continue
            }
            do {
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.text.utf8).write(to: url, options: .withoutOverwriting)
            } catch {
                throw WorkflowError("cannot write \(name): \(error.localizedDescription)")
            }
            created.append(name)
        }
        return Report(folder: workspace.displayPath(folder), created: created, kept: kept)
    }
}
