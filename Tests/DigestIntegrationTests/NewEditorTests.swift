import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// A new editor's first morning with the real binary: `digest init`, gather, preview in a real terminal,
/// check, render and a test copy; and the messages a newcomer meets on the way (issue 13).
@Suite("A new editor", .serialized)
struct NewEditorTests {
    let cli = DigestBinary()

    @Test func initGatherPreviewCheckRenderAndSendFromAnEmptyFolder() async throws {
        let feeds = try FeedTestServer()
        let smtp = try SMTPTestServer()
        defer { smtp.stop() }
        let parent = try Repository.temporaryFolder("new-editor")
        let folder = parent.appendingPathComponent("morning")
        let clock = ContinuousClock()
        let start = clock.now

        let created = try await cli.digest(
            [
                "init", "morning", "--name", "Morning Notes", "--domain", "example.org", "--time-zone",
                "Europe/London", "--feed", "Today=\(feeds.url("feeds/wordpress.xml"))",
                "--feed", "Listen=\(feeds.url("feeds/podcast.xml"))", "--feed", "Watch=\(feeds.url("feeds/video.xml"))",
            ], in: parent)
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        #expect(created.stdout.contains("Created Morning Notes in morning/:"))
        #expect(created.stdout.contains("  publication.yaml"))
        #expect(created.stdout.contains("cd morning"))
        for name in ["publication.yaml", "Editions", ".gitignore"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("Templates").path))

        let gathered = try await cli.digest(["gather", "2017-11-18"], in: folder)
        #expect(gathered.status == 0, "\(gathered.stdout)\(gathered.stderr)")
        let edition = try Workspace(root: folder).loadEdition(Repository.sampleDate)
        #expect(edition.sections.map(\.title) == ["Today", "Listen", "Watch"])
        let firstTitle = try #require(edition.sections.first?.items.first?.title)

        // The first preview, in a real terminal with the built-in templates.
        let terminal = try await TerminalSession(directory: folder)
        do {
            try await terminal.type("\(DigestBinary.path) preview 2017-11-18")
            try await terminal.waitFor("the first preview") { screen in
                screen.contains("Morning Notes") && screen.contains(String(firstTitle.prefix(30)))
            }
            // Printed, not asserted: on a busy 2-core machine this took 76 s once with three builds beside it.
            // The wait above is bounded by its own generous deadline; speed is digest-bench's business.
            print("from digest init to the first preview on screen: \(clock.now - start)")
            try await terminal.press("q")
            #expect(try await terminal.lastExitStatus() == 0)
        } catch {
            await terminal.stop()
            throw error
        }
        await terminal.stop()

        let checked = try await cli.digest(["check", "2017-11-18", "--offline"], in: folder)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")

        let out = parent.appendingPathComponent("out")
        let rendered = try await cli.digest(["render", "2017-11-18", "--out", out.path], in: folder)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let parsed = try await ParsedMessage.parse([out.appendingPathComponent("digest.eml")])
        #expect(parsed.first?.defects.isEmpty == true)
        #expect(parsed.first?.text.contains("Morning Notes") == true)

        let sent = try await cli.digest(
            ["send", "2017-11-18", "--to", "editor@example.org", "--smtp", smtp.url], in: folder)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let received = try smtp.received()
        #expect(received.map(\.recipients) == [["editor@example.org"]])
        let message = try await ParsedMessage.parse(received.map(\.file))
        #expect(message.first?.defects.isEmpty == true)
        #expect(message.first?.to == "editor@example.org")
    }

    /// On a terminal, init asks for what no option gave, shows each default, and asks again after a bad
    /// answer.
    @Test func initAsksOnATerminal() async throws {
        let parent = try Repository.temporaryFolder("init-asks")
        let terminal = try await TerminalSession(directory: parent)
        do {
            try await terminal.type("\(DigestBinary.path) init notes --time-zone Europe/Paris")
            try await terminal.waitFor("the name's question") { $0.contains("Publication name [notes]:") }
            try await terminal.type("Les Notes")
            try await terminal.waitFor("the domain's question") { $0.contains("Your domain") }
            try await terminal.type("not a domain")
            try await terminal.waitFor("the domain asked again") { $0.contains("is not a host name") }
            try await terminal.type("notes.example.fr")
            try await terminal.waitFor("the sender's question") { $0.contains("[digest@notes.example.fr]:") }
            try await terminal.type("")
            try await terminal.waitFor("the language's question") { $0.contains("Language") }
            try await terminal.type("fr")
            try await terminal.waitFor("the feeds' question") { $0.contains("Feed 1:") }
            try await terminal.type("https://notes.example.fr/feed/")
            try await terminal.waitFor("the second feed's question") { $0.contains("Feed 2:") }
            try await terminal.type("")
            try await terminal.waitFor("the next steps") { $0.contains("Next:") }
            #expect(try await terminal.lastExitStatus() == 0)
        } catch {
            await terminal.stop()
            throw error
        }
        await terminal.stop()
        let publication = try Workspace(root: parent.appendingPathComponent("notes")).loadPublication()
        #expect(publication.name == "Les Notes")
        #expect(publication.domain == "notes.example.fr")
        #expect(publication.sender.address.description == "digest@notes.example.fr")
        #expect(publication.timeZone.identifier == "Europe/Paris")
        #expect(publication.language == "fr")
        #expect(publication.feeds.map(\.url) == ["https://notes.example.fr/feed/"])
    }

    @Test func initWithoutATerminalNeedsTheDomainAndNeverOverwrites() async throws {
        let parent = try Repository.temporaryFolder("init-script")
        let missing = try await cli.digest(["init", "notes"], in: parent)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("digest init needs --domain"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parent.appendingPathComponent("notes").path))

        let bad = try await cli.digest(["init", "notes", "--domain", "example.org", "--time-zone", "Mars/Olympus"], in: parent)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--time-zone: 'Mars/Olympus' is not a time zone name"))

        let made = try await cli.digest(["init", "notes", "--domain", "example.org", "--yes", "--templates"], in: parent)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("Templates/ (10 templates)"), "\(made.stdout)")
        #expect(
            FileManager.default.fileExists(
                atPath: parent.appendingPathComponent("notes/Templates/partials/html/video.mustache").path))
        let file = parent.appendingPathComponent("notes/publication.yaml")
        let before = try Data(contentsOf: file)
        let again = try await cli.digest(["init", "notes", "--domain", "example.com", "--yes"], in: parent)
        #expect(again.status == 1)
        #expect(again.stderr.contains("publication.yaml exists already"), "\(again.stderr)")
        #expect(try Data(contentsOf: file) == before)
    }

    @Test func templatesEjectCopiesTheBuiltInTemplatesOutAndTheyAreUsed() async throws {
        let parent = try Repository.temporaryFolder("eject")
        #expect(try await cli.digest(["init", "notes", "--domain", "example.org"], in: parent).status == 0)
        let folder = parent.appendingPathComponent("notes")
        let ejected = try await cli.digest(["templates", "eject"], in: folder)
        #expect(ejected.status == 0, "\(ejected.stderr)")
        #expect(ejected.stdout.contains("wrote Templates/digest.html.mustache"))
        #expect(ejected.stdout.contains("digest now renders with the templates in Templates"))
        let again = try await cli.digest(["templates", "eject"], in: folder)
        #expect(again.stdout.contains("kept  Templates/digest.html.mustache: it exists already"))
        // The editor's change shows: the workspace's Templates/ is used.
        let text = folder.appendingPathComponent("Templates/digest.txt.mustache")
        try (try String(contentsOf: text, encoding: .utf8)).replacingOccurrences(
            of: "{{publicationName}}", with: "{{publicationName}} (my own)"
        ).write(to: text, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: Repository.root.appendingPathComponent("Editions/2017-11-18"),
            to: folder.appendingPathComponent("Editions/2017-11-18"))
        let preview = try await cli.digest(["preview", "2017-11-18"], in: folder)
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("notes (my own)"))
    }

    @Test func aBadDateOnTheCommandLineIsAUsageError() async throws {
        let result = try await cli.digest(["preview", "2017-13-45"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("'2017-13-45' is not a date"))
        #expect(result.stderr.contains("fix: write it as YYYY-MM-DD"))
    }

    /// The hint names this workspace's own latest edition, not the sample's date.
    @Test func theMissingEditionHintNamesTheWorkspacesLatestEdition() async throws {
        let parent = try Repository.temporaryFolder("hints")
        #expect(try await cli.digest(["init", "notes", "--domain", "example.org"], in: parent).status == 0)
        let folder = parent.appendingPathComponent("notes")
        let none = try await cli.digest(["preview", "2026-01-06"], in: folder)
        #expect(none.status == 65)
        #expect(none.stderr.contains("fix: run digest gather 2026-01-06 to make it from the feeds"), "\(none.stderr)")
        let edition = try String(
            contentsOf: Repository.root.appendingPathComponent("Editions/2017-11-18/edition.yaml"), encoding: .utf8)
        let day = folder.appendingPathComponent("Editions/2026-01-05")
        try FileManager.default.createDirectory(at: day, withIntermediateDirectories: true)
        try edition.replacingOccurrences(of: "date: 2017-11-18", with: "date: 2026-01-05").write(
            to: day.appendingPathComponent("edition.yaml"), atomically: true, encoding: .utf8)
        let result = try await cli.digest(["preview", "2026-01-06"], in: folder)
        #expect(result.status == 65)
        #expect(result.stderr.contains("The latest edition is 2026-01-05."))
        #expect(result.stderr.contains("such as 2026-01-05"), "\(result.stderr)")
        #expect(!result.stderr.contains("2017-11-18"))
    }

    @Test func aDuplicatedKeyInThePublicationIsOneLineWithAFix() async throws {
        let workspace = try cli.workspaceCopy()
        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8)
        try (text + "domain: example.org\n").write(to: config, atomically: true, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = try #require(lines.firstIndex { $0.hasPrefix("domain:") }) + 1
        let result = try await cli.digest(["preview", "2017-11-18"], in: workspace)
        #expect(result.status == 65)
        #expect(
            result.stderr.hasPrefix(
                "publication.yaml:\(lines.count):1: error: 'domain' appears twice (first on line \(first))\n  fix: "),
            "\(result.stderr)")
        #expect(!result.stderr.contains("Context"))
        #expect(!result.stderr.contains("postal_address"), "the file is not printed")
    }

    @Test func theTopLevelHelpFitsEightyColumns() async throws {
        let result = try await cli.digest(["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines { #expect(line.count <= 80, "too wide: \(line)") }
        // Every example is one line: the line after one is another example or the prose that follows.
        let examples = lines.indices.filter { lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("digest ") }
        #expect(examples.count >= 8)
        for index in examples where index + 1 < lines.count {
            let next = lines[index + 1].trimmingCharacters(in: .whitespaces)
            #expect(next.hasPrefix("digest ") || next.hasPrefix("SMTP"), "an example wraps: \(lines[index + 1])")
        }
    }

    /// --open keeps one file per edition in the workspace's cache, not a new temporary folder per run.
    @Test func previewOpenLeavesNothingBehindInTheTemporaryFolder() async throws {
        let workspace = try cli.workspaceCopy()
        let temporary = try Repository.temporaryFolder("tmpdir")
        let environment = ["TMPDIR": temporary.path, "DISPLAY": "", "WAYLAND_DISPLAY": ""]
        for _ in 0..<2 {
            let result = try await cli.digest(["preview", "2017-11-18", "--open"], in: workspace, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("wrote \(workspace.path)/.digest-cache/preview/digest-2017-11-18.html"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty)
        let cache = workspace.appendingPathComponent(".digest-cache/preview")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path) == ["digest-2017-11-18.html"])
    }
}
