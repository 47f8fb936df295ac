import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// `digest serve` as a real browser and a real crowd of mail providers meet it.
@Suite("digest serve in a browser and under load", .serialized)
struct ServeBrowserAndLoadTests {
    let cli = DigestBinary()
    static let screenshots = Repository.root.appendingPathComponent("Tests/DigestIntegrationTests/Screenshots")

    struct ImageStats: Decodable {
        var width: Int
        var height: Int
        var colours: Int
        var other_than_background: Double
    }

    /// Debian's chromium, headless, takes a screenshot of each page; each must show something (many
    /// colours, a good share of pixels unlike the background). `DIGEST_RECORD_SCREENSHOTS=1` also
    /// copies them to Tests/DigestIntegrationTests/Screenshots, which the README shows.
    @Test func chromiumShowsTheArchiveAnEditionAndThePreview() async throws {
        let chromium = "/usr/bin/chromium"
        guard FileManager.default.isExecutableFile(atPath: chromium) else {
            throw SetupFailure(message: "chromium is missing: run .ci/install-deps test (apt-get install chromium)")
        }
        let workspace = try cli.workspaceCopy()
        // The archive shows only editions sent or published.
        #expect(try await cli.digest(["publish", "2017-11-18"], in: workspace).status == 0)
        let server = try cli.serve(workspace, ["--preview"])
        defer { server.stop() }
        let folder = try Repository.temporaryFolder("screenshots")
        let pages = [
            ("archive.png", "/", "1000,640"),
            ("edition.png", "/editions/2017-11-18", "1000,1000"),
            ("preview-mobile.png", "/preview/2017-11-18?mobile=1", "1000,900"),
            ("preview-dark.png", "/preview/2017-11-18?dark=1", "1000,900"),
        ]
        for (name, path, size) in pages {
            let file = folder.appendingPathComponent(name)
            let result = try await Subprocess.run(
                chromium,
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                    "--user-data-dir=\(folder.appendingPathComponent("profile-\(name)").path)",
                    // Lets the page's timers run ahead, so the frame is painted whole before the picture.
                    "--virtual-time-budget=3000", "--screenshot=\(file.path)", "--window-size=\(size)",
                    "http://127.0.0.1:\(server.port)\(path)",
                ])
            #expect(FileManager.default.fileExists(atPath: file.path), "\(name): \(result.stderr)")
        }
        let files = pages.map { folder.appendingPathComponent($0.0).path }
        let stats = try await Subprocess.run(
            Subprocess.python, [Repository.root.appendingPathComponent("Tests/Support/png_stats.py").path] + files)
        #expect(stats.status == 0, "\(stats.stderr)")
        let images = try stats.stdout.split(separator: "\n").map {
            try JSONDecoder().decode(ImageStats.self, from: Data($0.utf8))
        }
        #expect(images.count == pages.count)
        for (image, page) in zip(images, pages) {
            #expect(image.width == 1000, "\(page.0)")
            #expect(image.colours >= 16, "\(page.0) looks blank: \(image.colours) colours")
            #expect(image.other_than_background >= 0.05, "\(page.0) looks blank")
        }
        // The browser asked for each page, and the preview for its reload script and stamp.
        let log = server.log
        for path in ["\"GET / ", "\"GET /editions/2017-11-18 ", "\"GET /preview/live.js ", "/stamp HTTP/1.1\" 200"] {
            #expect(log.contains(path), "\(path) not in the access log")
        }
        if ProcessInfo.processInfo.environment["DIGEST_RECORD_SCREENSHOTS"] == "1" {
            try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)
            for (name, _, _) in pages {
                let target = Self.screenshots.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: target)
            }
        }
    }

    /// 10,000 readers, each one-click POST from its own signed token, 16 connections at once: every
    /// request answered 200 and every reader unsubscribed in the store afterwards.
    @Test func tenThousandOneClickPostsUnsubscribeTenThousandReadersWithoutAnError() async throws {
        let count = 10_000
        let workspace = try await cli.workspaceCopy(readers: (0..<count).map { "reader\($0)@example.org" })
        let store = try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
        var ids: [Int64] = []
        try store.forEachSubscriber(status: .active) { if let id = $0.id { ids.append(id) } }
        #expect(ids.count == count)
        let signer = try #require(UnsubscribeSigner(secret: Array(ServeTests.key.utf8), listID: "eaworldview.com"))
        let tokens = workspace.appendingPathComponent("tokens.txt")
        try ids.map { signer.token(for: String($0)) }.joined(separator: "\n").write(
            to: tokens, atomically: true, encoding: .utf8)

        let server = try cli.serve(workspace)
        let result = try await Subprocess.run(
            Subprocess.python,
            [
                Repository.root.appendingPathComponent("Tests/Support/http_load.py").path, "--base",
                "http://127.0.0.1:\(server.port)", "--tokens", tokens.path, "--connections", "16",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try LoadReport(json: result.stdout)
        print("one-click load: \(report.requests) POSTs in \(report.seconds) s, \(report.rate) requests/s")
        #expect(report.requests == count)
        #expect(report.statuses == ["200": count], "\(report.statuses)")
        #expect(report.errors == 0, "\(report.firstErrors)")
        #expect(report.retries == 0)
        #expect(server.stop() == 0)
        let counts = try store.counts()
        #expect(counts[.unsubscribed] == count)
        #expect(counts[.active, default: 0] == 0)
        #expect(server.log.components(separatedBy: "unsubscribed subscriber ").count - 1 == count)
    }
}
