import DigestTestSupport
import Foundation
import Testing

/// Runs the built `digest` binary as an editor would.
@Suite("The digest command", .serialized)
struct CommandLineTests {
    static let coreGolden = Repository.root.appendingPathComponent("Tests/DigestCoreTests/Golden")
    let cli = DigestBinary()

    @Test func previewIntoAPipeIsThePlainTextPart() async throws {
        let result = try await cli.digest(["preview", "2017-11-18"])
        #expect(result.status == 0, "\(result.stderr)")
        let golden = try String(contentsOf: Self.coreGolden.appendingPathComponent("sample.txt"), encoding: .utf8)
        #expect(result.stdout == golden)
    }

    @Test func previewWithColorMatchesTheStyledGoldenFile() async throws {
        let result = try await cli.digest(["preview", "2017-11-18", "--color", "always", "--width", "60"])
        #expect(result.status == 0)
        let golden = try String(
            contentsOf: Self.coreGolden.appendingPathComponent("sample-preview-60.ansi"), encoding: .utf8)
        #expect(result.stdout == golden)
    }

    @Test func previewOnATerminalIsStyledUnlessNoColorIsSet() async throws {
        // util-linux's `script` gives the command a pseudo-terminal, as an editor's terminal would.
        let command = "\(DigestBinary.path) preview 2017-11-18 --no-pager"
        let styled = try await Subprocess.run(
            "/usr/bin/script", ["-qec", command, "/dev/null"],
            environment: ["TERM": "xterm-256color", "COLUMNS": "80", "LINES": "500", "PATH": "/usr/bin:/bin"],
            directory: Repository.root)
        #expect(styled.status == 0)
        #expect(styled.stdout.contains("\u{1B}[1mEA WorldView\u{1B}[22m"))
        #expect(styled.stdout.contains("\u{1B}]8;;https://eaworldview.com/"))
        let plain = try await Subprocess.run(
            "/usr/bin/script", ["-qec", command, "/dev/null"],
            environment: [
                "TERM": "xterm-256color", "NO_COLOR": "1", "COLUMNS": "80", "LINES": "500", "PATH": "/usr/bin:/bin",
            ], directory: Repository.root)
        #expect(plain.status == 0)
        #expect(!plain.stdout.contains("\u{1B}"))
        #expect(plain.stdout.contains("EA WorldView"))
    }

    @Test func renderWritesTextHTMLAndAFullMessage() async throws {
        let out = try Repository.temporaryFolder("render")
        let result = try await cli.digest(["render", "2017-11-18", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("digest.eml"))
        let text = try String(contentsOf: out.appendingPathComponent("digest.txt"), encoding: .utf8)
        #expect(text == (try String(contentsOf: Self.coreGolden.appendingPathComponent("sample.txt"), encoding: .utf8)))
        let html = try String(contentsOf: out.appendingPathComponent("digest.html"), encoding: .utf8)
        #expect(
            html == (try String(contentsOf: Self.coreGolden.appendingPathComponent("sample.html"), encoding: .utf8)))
        let parsed = try await ParsedMessage.parse([out.appendingPathComponent("digest.eml")])
        #expect(parsed[0].defects.isEmpty)
        #expect(parsed[0].subject == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
        #expect(parsed[0].text == text)
        #expect(parsed[0].html == html)
        // Rendering again gives the same bytes: the archive copy is stable.
        let again = try Repository.temporaryFolder("render")
        _ = try await cli.digest(["render", "2017-11-18", "--out", again.path])
        #expect(
            try Data(contentsOf: out.appendingPathComponent("digest.eml"))
                == Data(contentsOf: again.appendingPathComponent("digest.eml")))
    }

    @Test func sendDeliversToEveryAddressAndReportsEachReply() async throws {
        let server = try SMTPTestServer(reject: ["gone@example.org"])
        defer { server.stop() }
        let result = try await cli.digest([
            "send", "2017-11-18", "--to", "ana@example.org, gone@example.org,chen@example.com", "--smtp", server.url,
        ])
        #expect(result.status == 75, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("sent      ana@example.org  250 2.0.0 Ok: queued as TEST"))
        #expect(
            result.stdout.contains(
                "refused   gone@example.org  550 5.1.1 <gone@example.org>: Recipient address rejected"))
        #expect(result.stdout.contains("2 sent, 1 refused"))
        let received = try server.received()
        #expect(received.map(\.recipients) == [["ana@example.org"], ["chen@example.com"]])
        let parsed = try await ParsedMessage.parse(received.map(\.file))
        #expect(parsed.allSatisfy { $0.defects.isEmpty })
        #expect(parsed.map(\.to) == ["ana@example.org", "chen@example.com"])
    }

    @Test func sendToAllGoodAddressesExitsZero() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let result = try await cli.digest(["send", "2017-11-18", "--to", "editor@example.org", "--smtp", server.url])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try server.received().count == 1)
    }

    @Test func passwordOnTheCommandLineIsNotAnOption() async throws {
        let result = try await cli.digest(["send", "2017-11-18", "--to", "a@example.org", "--password", "secret"])
        #expect(result.status == 64)
        #expect(!result.stdout.contains("secret"))
    }

    @Test func badAddressIsAUsageErrorBeforeAnythingIsSent() async throws {
        let result = try await cli.digest([
            "send", "2017-11-18", "--to", "a@example.org,not-an-address", "--smtp", "smtp://127.0.0.1:1",
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("'not-an-address' is not an email address: it has no '@'"))
    }

    @Test func brokenEditionFileNamesFileLineAndColumn() async throws {
        let workspace = try cli.workspaceCopy()
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "kind: video", with: "kind: vidoe")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try await cli.digest(["preview", "2017-11-18"], in: workspace)
        #expect(result.status == 65)
        #expect(
            result.stderr.contains(
                "Editions/2017-11-18/edition.yaml:72:15: error: 'kind' in item 1 of section 'Watch' must be article, podcast or video, not 'vidoe' (did you mean 'video'?)"
            ), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func missingEditionPointsToTheLatestOne() async throws {
        let result = try await cli.digest(["preview", "2017-11-19"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("there is no edition for 2017-11-19. The latest edition is 2017-11-18."))
    }

    @Test func workspaceIsFoundFromASubfolder() async throws {
        let result = try await cli.digest(
            ["preview", "2017-11-18"], in: Repository.root.appendingPathComponent("Editions/2017-11-18"))
        #expect(result.status == 0, "\(result.stderr)")
    }
}

@Suite("Signed sending from the command line", .serialized)
struct SignedSendingTests {
    let cli = DigestBinary()

    @Test func keygenThenSendGivesMessagesDKIMVerifiesWithThePrintedRecord() async throws {
        let workspace = try cli.workspaceCopy()
        var records: [String] = []
        for (selector, algorithm) in [("rsa2026", "rsa"), ("ed2026", "ed25519")] {
            let result = try await cli.digest(
                ["dkim", "keygen", "--selector", selector, "--algorithm", algorithm], in: workspace)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("wrote the private key to keys/\(selector).pem (mode 600)"))
            let attributes = try FileManager.default.attributesOfItem(
                atPath: workspace.appendingPathComponent("keys/\(selector).pem").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // The printed zone-file record, its strings joined, is what DNS would serve.
            let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("._domainkey.") })
            let value = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element).joined()
            records.append("\(selector)._domainkey.eaworldview.com=\(value)")
        }
        let again = try await cli.digest(["dkim", "keygen", "--selector", "rsa2026"], in: workspace)
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists already"))
        let config = workspace.appendingPathComponent("publication.yaml")
        try
            (String(contentsOf: config, encoding: .utf8)
            + "dkim:\n  signatures:\n    - selector: rsa2026\n      key_file: keys/rsa2026.pem\n    - selector: ed2026\n      key_file: keys/ed2026.pem\n")
            .write(to: config, atomically: true, encoding: .utf8)

        let server = try SMTPTestServer()
        defer { server.stop() }
        let result = try await cli.digest(
            ["send", "2017-11-18", "--to", "ana@example.org,bo@example.net", "--smtp", server.url], in: workspace,
            environment: ["DIGEST_UNSUBSCRIBE_KEY": "a-long-random-unsubscribe-signing-key"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            !result.stdout.contains("a-long-random") && !result.stderr.contains("a-long-random"),
            "secrets never printed")
        let received = try server.received()
        #expect(received.count == 2)
        let verified = try await DKIMVerification.verify(received.map(\.file), records: records)
        #expect(verified == [[true, true], [true, true]])
        let text = try String(contentsOf: received[0].file, encoding: .utf8)
        #expect(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
    }

    /// Makes an RSA and an Ed25519 key in `workspace`, names them under dkim: in its publication.yaml, and
    /// returns the DNS records (`selector._domainkey.domain=value`) keygen printed.
    func signingKeys(in workspace: URL) async throws -> [String] {
        var records: [String] = []
        for (selector, algorithm) in [("rsa2026", "rsa"), ("ed2026", "ed25519")] {
            let result = try await cli.digest(
                ["dkim", "keygen", "--selector", selector, "--algorithm", algorithm], in: workspace)
            #expect(result.status == 0, "\(result.stderr)")
            let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("._domainkey.") })
            let value = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element).joined()
            records.append("\(selector)._domainkey.eaworldview.com=\(value)")
        }
        let config = workspace.appendingPathComponent("publication.yaml")
        try
            (String(contentsOf: config, encoding: .utf8)
            + "dkim:\n  signatures:\n    - selector: rsa2026\n      key_file: keys/rsa2026.pem\n    - selector: ed2026\n      key_file: keys/ed2026.pem\n")
            .write(to: config, atomically: true, encoding: .utf8)
        return records
    }

    /// digest.eml is the message as a reader receives it: signed when the publication signs its mail.
    @Test func renderSignsTheMessageWhenDKIMIsConfigured() async throws {
        let workspace = try cli.workspaceCopy()
        let records = try await signingKeys(in: workspace)
        let out = workspace.appendingPathComponent("out")
        let result = try await cli.digest(["render", "2017-11-18", "--out", out.path], in: workspace)
        #expect(result.status == 0, "\(result.stderr)")
        let message = out.appendingPathComponent("digest.eml")
        #expect(try await DKIMVerification.verify([message], records: records) == [[true, true]])
        // Still the same bytes on a second render.
        let first = try Data(contentsOf: message)
        _ = try await cli.digest(["render", "2017-11-18", "--out", out.path], in: workspace)
        #expect(try Data(contentsOf: message) == first)
    }

    @Test func sendWithoutAnUnsubscribeKeySaysSoAndUsesThePublicPage() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let result = try await cli.digest(["send", "2017-11-18", "--to", "ana@example.org", "--smtp", server.url])
        #expect(result.status == 0)
        #expect(result.stderr.contains("DIGEST_UNSUBSCRIBE_KEY"))
        let text = try String(contentsOf: try server.received()[0].file, encoding: .utf8)
        #expect(!text.contains("List-Unsubscribe-Post"))
        #expect(text.contains("List-Unsubscribe: <https://eaworldview.com/newsletter/unsubscribe>,"))
    }
}
