import DigestCore
import Foundation

/// Paths of the repository, for tests that read the sample workspace and golden files.
public enum Repository {
    /// The package root, found from this file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var sampleWorkspace: Workspace { Workspace(root: root) }

    public static let sampleDate = EditionDate(year: 2017, month: 11, day: 18)!

    /// The sample publication, templates and edition, loaded as the CLI loads them.
    public static func sample() throws -> (Publication, EditionRenderer, Edition) {
        let workspace = sampleWorkspace
        let publication = try workspace.loadPublication()
        let renderer = EditionRenderer(
            publication: publication, templates: try workspace.loadTemplates(for: publication))
        return (publication, renderer, try workspace.loadEdition(sampleDate))
    }

    /// A folder of its own under the system's temporary folder.
    public static func temporaryFolder(_ name: String = "digest-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
