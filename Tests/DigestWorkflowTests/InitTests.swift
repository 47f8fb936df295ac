import DigestCore
import DigestMail
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

/// `digest init` and the built-in templates, in-process.
@Suite("Starting a publication")
struct InitTests {
    static let settings = Init.Settings(
        name: "Morning Notes: Beirut", domain: "example.org", sender: "digest@example.org", timeZone: "Asia/Beirut",
        language: "ar",
        feeds: ["https://example.org/feed/", "Listen=https://example.org/podcast.xml?show=1&a=b"])

    @Test func initWritesAPublicationThatLoadsWithTheValuesGiven() throws {
        let folder = try Repository.temporaryFolder("init").appendingPathComponent("notes")
        let report = try Init.create(in: folder, settings: Self.settings)
        #expect(report.created == ["publication.yaml", "Editions/", ".gitignore"])
        #expect(report.kept.isEmpty)
        let workspace = Workspace(root: folder)
        let publication = try workspace.loadPublication()
        #expect(publication.name == "Morning Notes: Beirut")
        #expect(publication.domain == "example.org")
        #expect(publication.sender.address.description == "digest@example.org")
        #expect(publication.timeZone.identifier == "Asia/Beirut")
        #expect(publication.language == "ar")
        #expect(publication.templates == nil)
        #expect(publication.feeds.map(\.section) == ["Today", "Listen"])
        #expect(publication.feeds.map(\.url) == ["https://example.org/feed/", "https://example.org/podcast.xml?show=1&a=b"])
        #expect(publication.archiveURL(for: Repository.sampleDate) == "https://example.org/digest/2017-11-18/")
        #expect(workspace.usesBuiltInTemplates(publication))
        let ignored = try String(contentsOf: folder.appendingPathComponent(".gitignore"), encoding: .utf8)
        for line in ["digest.sqlite", "keys/", ".digest-cache/"] { #expect(ignored.contains("\n\(line)\n")) }
    }

    /// Every key of the file has a comment that says what it is for, just above it or beside it.
    @Test func everyKeyOfTheNewPublicationExplainsItself() throws {
        let text = Init.publicationYAML(Self.settings)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            guard let first = line.first, first != "#", first != " ", line.contains(":") else { continue }
            let above = lines[..<index].last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
            #expect(above.hasPrefix("#") || line.contains(" # "), "'\(line)' has no comment")
        }
        for key in ["dkim:", "reply_to:", "templates:", "list_id:", "feedback_id:", "# - url:"] {
            #expect(text.contains("# \(key)") || text.contains(key), "\(key) is not shown")
        }
    }

    /// Names and URLs that YAML would read otherwise (a comment, a key, a number, a boolean) come back as typed.
    @Test func trickyValuesReadBackAsTyped() throws {
        for name in ["Notes #1", "News: Today", "yes", "2026", "\"Quoted\" \\ back", "Ünïcödé خبر", "a:b"] {
            var settings = Self.settings
            settings.name = name
            settings.feeds = ["https://example.org/feed?x=1#top", "Section: One=https://example.org/a:b"]
            let publication = try Publication.decode(Init.publicationYAML(settings), file: "publication.yaml")
            #expect(publication.name == name)
            #expect(publication.feeds.map(\.url) == ["https://example.org/feed?x=1#top", "https://example.org/a:b"])
            #expect(publication.feeds.map(\.section) == ["Today", "Section: One"])
        }
    }

    @Test func initRefusesAWorkspaceAndKeepsOtherFiles() throws {
        let folder = try Repository.temporaryFolder("init")
        try "mine\n".write(to: folder.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
        let report = try Init.create(in: folder, settings: Self.settings)
        #expect(report.kept == [".gitignore"])
        #expect(try String(contentsOf: folder.appendingPathComponent(".gitignore"), encoding: .utf8) == "mine\n")
        let before = try Data(contentsOf: folder.appendingPathComponent("publication.yaml"))
        #expect(throws: WorkflowError.self) { try Init.create(in: folder, settings: Self.settings) }
        #expect(try Data(contentsOf: folder.appendingPathComponent("publication.yaml")) == before)
    }

    @Test func badValuesAreNamedByTheirOption() {
        var settings = Self.settings
        settings.domain = "not a domain"
        settings.sender = "nobody"
        settings.timeZone = "Mars/Olympus"
        settings.feeds = ["ftp://example.org/feed"]
        let problems = Init.problems(in: settings)
        #expect(problems.count == 4)
        for option in ["--domain", "--sender", "--time-zone", "--feed"] {
            #expect(problems.contains { $0.hasPrefix(option + ":") }, "\(option)")
        }
    }

    /// The sample without Templates/ and without `templates:` renders the same bytes with the built-in copy.
    @Test func aWorkspaceWithoutTemplatesRendersWithTheBuiltInOnes() throws {
        let workspace = try DigestBinary().workspaceCopy()
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("Templates"))
        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(
            of: "templates: Templates\n", with: "")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let environment = DigestEnvironment(
            now: { Date(timeIntervalSince1970: 1_510_999_200) }, variables: [:], currentDirectory: workspace)
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment)
        let golden = Repository.root.appendingPathComponent("Tests/DigestCoreTests/Golden")
        #expect(Data(loaded.rendered.text().utf8) == (try Data(contentsOf: golden.appendingPathComponent("sample.txt"))))
        #expect(Data(loaded.rendered.html.utf8) == (try Data(contentsOf: golden.appendingPathComponent("sample.html"))))

        // Naming a folder that is not there is still an error, not a silent fallback.
        try (text + "templates: Mine\n").write(to: config, atomically: true, encoding: .utf8)
        #expect(throws: Problem.self) {
            _ = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment)
        }
    }

    @Test func ejectWritesTheBuiltInTemplatesAndNeverReplacesOne() throws {
        let workspace = Workspace(root: try Repository.temporaryFolder("eject"))
        let folder = workspace.root.appendingPathComponent("Templates")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "mine\n".write(to: folder.appendingPathComponent("digest.txt.mustache"), atomically: true, encoding: .utf8)
        let report = try TemplatesEject.eject(into: folder, workspace: workspace)
        #expect(report.kept == ["Templates/digest.txt.mustache"])
        #expect(report.created.count == BuiltInTemplates.files.count - 1)
        #expect(report.created.contains("Templates/partials/html/article.mustache"))
        let original = Repository.root.appendingPathComponent("Templates/partials/html/article.mustache")
        #expect(
            try Data(contentsOf: folder.appendingPathComponent("partials/html/article.mustache"))
                == Data(contentsOf: original))
        #expect(try String(contentsOf: folder.appendingPathComponent("digest.txt.mustache"), encoding: .utf8) == "mine\n")
        let again = try TemplatesEject.eject(into: folder, workspace: workspace)
        #expect(again.created.isEmpty && again.kept.count == BuiltInTemplates.files.count)
    }
}
