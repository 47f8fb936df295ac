import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// Tests/Support/screenshots.py: headless Chromium at 600 px, 375 px and in dark mode, and a look at
/// each picture (not blank; the dark one dark).
@Suite("Screenshots of the HTML part", .serialized)
struct ScreenshotTests {
    static let script = Repository.root.appendingPathComponent("Tests/Support/screenshots.py").path

    func requireChromium() throws {
        for folder in ["/usr/bin", "/usr/local/bin"]
        where FileManager.default.isExecutableFile(atPath: "\(folder)/chromium") {
            return
        }
        throw SetupFailure(message: "chromium is not installed: run .ci/install-deps test (apt-get install chromium)")
    }

    @Test func theRenderedSampleShowsInEveryWidthAndInDarkMode() async throws {
        try requireChromium()
        let folder = try Repository.temporaryFolder("shots")
        let (_, renderer, edition) = try Repository.sample()
        let html = folder.appendingPathComponent("digest.html")
        try Data(try renderer.render(edition).html.utf8).write(to: html)
        let result = try await Subprocess.run(Subprocess.python, [Self.script, html.path, folder.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasSuffix(": ok") }, "\(result.stdout)")
        #expect(lines.contains { $0.contains("sample-600-dark.png: 600x") && $0.contains(" dark: ok") })
    }

    /// Pictures of nothing but the page's background fail the check, so the tests here can fail.
    @Test func blankPicturesAreCaught() async throws {
        let folder = try Repository.temporaryFolder("shots-blank")
        // Solid #f2f3f5 PNGs of the three sizes, written with Python's zlib.
        let writer = """
            import struct, sys, zlib
            def png(path, width, height):
                row = b"\\x00" + bytes([0xF2, 0xF3, 0xF5]) * width
                def chunk(kind, body):
                    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
                header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
                data = b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")
                open(path, "wb").write(data)
            folder = sys.argv[1]
            for name, width in (("blank-600", 600), ("blank-375", 375), ("blank-600-dark", 600)):
                png(f"{folder}/{name}.png", width, 300)
            """
        let made = try await Subprocess.run(Subprocess.python, ["-c", writer, folder.path])
        #expect(made.status == 0, "\(made.stderr)")
        let result = try await Subprocess.run(
            Subprocess.python, [Self.script, "--check-only", folder.path, "--name", "blank"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("blank-600.png: 600x300: looks blank"), "\(result.stdout)")
        // A dark-mode picture that kept the light background means the dark rules did not apply.
        #expect(result.stdout.contains("blank-600-dark.png: 600x300 dark: background is #f2f3f5"), "\(result.stdout)")
    }

    /// The pictures the README shows are there, as wide as they say, and not blank.
    @Test(arguments: ["sample", "arabic"]) func theREADMEsScreenshotsPassTheSameCheck(name: String) async throws {
        let folder = Repository.root.appendingPathComponent("Tests/Screenshots")
        let result = try await Subprocess.run(
            Subprocess.python, [Self.script, "--check-only", folder.path, "--name", name])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
