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

    /// Editions written for the rendering tests, beside the sample: every item kind and an empty section
    /// (2017-11-19), Arabic script (2017-11-20) and forty items (2017-11-21).
    public static let fixtureEditions: [String: EditionDate] = [
        "kinds": EditionDate(year: 2017, month: 11, day: 19)!,
        "arabic": EditionDate(year: 2017, month: 11, day: 20)!,
        "forty": EditionDate(year: 2017, month: 11, day: 21)!,
    ]

    /// The workspace whose `Editions/` holds the fixture editions.
    public static var fixtureWorkspace: Workspace {
        Workspace(root: root.appendingPathComponent("Tests/DigestCoreTests/Fixtures"))
    }

    /// An edition by name, `sample` or one of `fixtureEditions`, with the sample publication's renderer.
    public static func edition(_ name: String) throws -> (Publication, EditionRenderer, Edition) {
        let loaded = try sample()
        var (publication, renderer, sample) = (loaded.0, loaded.1, loaded.2)
        guard let date = fixtureEditions[name] else { return (publication, renderer, sample) }
        if name == "arabic" {
            // An Arabic publication: its labels ("بقلم", "أبرز خبر") come from the Arabic table.
            publication.language = "ar"
            renderer = EditionRenderer(
                publication: publication, templates: try sampleWorkspace.loadTemplates(for: publication))
        }
        return (publication, renderer, try fixtureWorkspace.loadEdition(date))
    }

    /// The 40-item edition four times over (160 items), each copy's links made distinct: far over
    /// Gmail's clipping limit.
    public static func oversizedEdition() throws -> Edition {
        let (_, _, forty) = try edition("forty")
        var huge = forty
        huge.sections = (0..<4).flatMap { round in
            forty.sections.map { section in
                var section = section
                section.items = section.items.map { item in
                    var item = item
                    item.url += "\(round)"
                    return item
                }
                return section
            }
        }
        return huge
    }

    /// A folder of its own under the system's temporary folder.
    public static func temporaryFolder(_ name: String = "digest-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
