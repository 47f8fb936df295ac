import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// `digest preview --html` and `--open`, and the clipping warning, through the built binary.
@Suite("Previewing the HTML part", .serialized)
struct PreviewHTMLTests {
    let cli = DigestBinary()
    static let feedsGolden = Repository.root.appendingPathComponent("Tests/DigestHTMLTests/Golden")
    static let coreGolden = Repository.root.appendingPathComponent("Tests/DigestCoreTests/Golden")

    @Test func previewHTMLIntoAPipeIsTheTextBrowserView() async throws {
        let result = try await cli.digest(["preview", "2017-11-18", "--html"])
        #expect(result.status == 0, "\(result.stderr)")
        let golden = try String(contentsOf: Self.feedsGolden.appendingPathComponent("sample-html.txt"), encoding: .utf8)
        #expect(result.stdout == golden)
    }

    @Test func previewHTMLWithColorMatchesTheStyledGoldenFile() async throws {
        let result = try await cli.digest(["preview", "2017-11-18", "--html", "--color", "always", "--width", "60"])
        #expect(result.status == 0, "\(result.stderr)")
        let golden = try String(
            contentsOf: Self.feedsGolden.appendingPathComponent("sample-html-60.ansi"), encoding: .utf8)
        #expect(result.stdout == golden)
    }

    @Test func previewOpenWithoutADesktopWritesTheFileAndSaysWhatToDo() async throws {
        let result = try await cli.digest(
            ["preview", "2017-11-18", "--open"], in: try cli.workspaceCopy(),
            environment: ["DISPLAY": "", "WAYLAND_DISPLAY": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("no desktop session here"))
        let path = try #require(result.stdout.split(separator: "\n").first?.dropFirst("wrote ".count))
        #expect(path.hasSuffix("digest-2017-11-18.html"))
        let written = try String(contentsOfFile: String(path), encoding: .utf8)
        #expect(
            written == (try String(contentsOf: Self.coreGolden.appendingPathComponent("sample.html"), encoding: .utf8)))
    }

    @Test func previewOpenHandsTheFileToTheDesktopOpener() async throws {
        let bin = try Repository.temporaryFolder("opener")
        let record = bin.appendingPathComponent("opened.txt")
        let opener = bin.appendingPathComponent("xdg-open")
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > '\(record.path)'\n".write(to: opener, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: opener.path)
        // A copy: --open keeps its file in the workspace's .digest-cache/preview/.
        let workspace = try cli.workspaceCopy()
        let result = try await cli.digest(
            ["preview", "2017-11-18", "--open"], in: workspace,
            environment: ["DISPLAY": ":0", "PATH": "\(bin.path):/usr/bin:/bin"])
        #expect(result.status == 0, "\(result.stderr)")
        let opened = try String(contentsOf: record, encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(opened.hasSuffix("/digest-2017-11-18.html"))
        #expect(result.stdout == "wrote \(opened)\n")
        #expect(try String(contentsOfFile: opened, encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
    }

    @Test func renderPreviewAndCheckSayWhenGmailWouldClipTheMessage() async throws {
        let workspace = try cli.workspaceCopy()
        var huge = try Repository.oversizedEdition()
        huge.date = EditionDate(year: 2017, month: 11, day: 22)!
        let folder = workspace.appendingPathComponent("Editions/2017-11-22")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try EditionFile.encode(huge).write(
            to: folder.appendingPathComponent("edition.yaml"), atomically: true, encoding: .utf8)

        let out = try Repository.temporaryFolder("render")
        let render = try await cli.digest(["render", "2017-11-22", "--out", out.path], in: workspace)
        #expect(render.status == 0, "\(render.stderr)")
        #expect(render.stderr.hasPrefix("warning: Editions/2017-11-22/edition.yaml: the HTML part is "))
        #expect(render.stderr.contains("KB, over Gmail's 102.0 KB clipping limit"))
        let preview = try await cli.digest(["preview", "2017-11-22"], in: workspace)
        #expect(preview.stderr.contains("over Gmail's 102.0 KB clipping limit"))
        let check = try await cli.digest(["check", "2017-11-22", "--offline"], in: workspace)
        #expect(check.status == 65)
        #expect(check.stdout.contains("items, HTML part "))
        #expect(check.stdout.contains("error: edition: the HTML part is "))
        #expect(check.stdout.contains("KB, over Gmail's 102.0 KB clipping limit"))
    }
}
