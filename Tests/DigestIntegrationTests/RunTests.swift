import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// A send is one frozen edition; a run can be inspected, confirmed, scheduled; a broken relay stops it.
@Suite("Runs to subscribers", .serialized)
struct RunTests {
    let cli = DigestBinary()
    static let key = ["DIGEST_UNSUBSCRIBE_KEY": "run-test-key-0123456789abcdef"]

    static func readers(_ count: Int) -> [String] { (0..<count).map { "reader\($0)@example.org" } }

    func store(_ workspace: URL) throws -> SQLiteStore {
        try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
    }

    func subjects(_ server: SMTPTestServer) async throws -> [String] {
        try await ParsedMessage.parse(try server.received().map(\.file)).map(\.subject)
    }

    @Test func aResumedRunSendsTheFrozenEditionAfterTheSubjectAndATemplateChanged() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(6))
        let server = try SMTPTestServer()
        defer { server.stop() }
        let send = ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "1"]
        let first = try await cli.digest(send + ["--limit", "2"], in: workspace, environment: Self.key)
        #expect(first.status == 75, "\(first.stdout)\(first.stderr)")
        // The editor changes the subject and a template before the run is resumed.
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        try (try String(contentsOf: file, encoding: .utf8)).replacingOccurrences(
            of: "Syria Daily: Regime & Russia Try Again", with: "Changed Midway"
        ).write(to: file, atomically: true, encoding: .utf8)
        let template = workspace.appendingPathComponent("Templates/digest.txt.mustache")
        try ((try String(contentsOf: template, encoding: .utf8)) + "\nTEMPLATE CHANGED MIDWAY\n").write(
            to: template, atomically: true, encoding: .utf8)
        let rest = try await cli.digest(send, in: workspace, environment: Self.key)
        #expect(rest.status == 0, "\(rest.stdout)\(rest.stderr)")
        #expect(rest.stdout.contains("note: the edition and the templates or publication.yaml changed since run 2017-11-18"))
        #expect(rest.stdout.contains("use --new-run"))
        let subjects = try await subjects(server)
        #expect(subjects.count == 6)
        #expect(Set(subjects) == ["Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town"])
        for message in try server.received() {
            #expect(!(try String(contentsOf: message.file, encoding: .utf8)).contains("TEMPLATE CHANGED MIDWAY"))
        }
        // --new-run sends the edition as it is now, to nobody who had it.
        let again = try await cli.digest(send + ["--new-run"], in: workspace, environment: Self.key)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("Run 2017-11-18#2: recorded 0 recipients"))
        #expect(try server.received().count == 6)
    }

    @Test func aClosedPortStopsTheRunAtOnceAndSpendsNoAttempt() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(300))
        let closed = try await freePort()
        let started = Date()
        let result = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", "smtp://127.0.0.1:\(closed)"], in: workspace,
            environment: Self.key)
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("the relay cannot be reached: nothing answers at 127.0.0.1:\(closed)"))
        #expect(result.stderr.contains("libcurl error 7"))
        #expect(!result.stdout.contains("Failed to connect"))
        // Generous for a loaded machine; burning through 300 readers with retries takes far longer.
        #expect(seconds < 30, "took \(seconds) s")
        try await expectNoAttemptSpent(workspace, readers: 300)
        try await deliversToEveryoneOnce(workspace, readers: 300)
    }

    @Test func aRelayThatRefusesEveryConnectionStopsTheRunAndSpendsNoAttempt() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(40))
        let script = Repository.root.appendingPathComponent("Tests/Support/refusing_server.py").path
        let (refusing, port) = try PythonServer.start([script], what: "the refusing relay")
        defer { PythonServer.stop(refusing) }
        let result = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", "smtp://127.0.0.1:\(port)"], in: workspace, environment: Self.key)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("refused the connection at its greeting: 554 5.3.2"))
        try await expectNoAttemptSpent(workspace, readers: 40)
        try await deliversToEveryoneOnce(workspace, readers: 40)
    }

    func expectNoAttemptSpent(_ workspace: URL, readers: Int) async throws {
        let pending = try store(workspace).deliveries("2017-11-18", state: .pending, limit: .max)
        #expect(pending.count == readers)
        #expect(pending.allSatisfy { $0.attempts == 0 && $0.runAttempts == 0 })
    }

    func deliversToEveryoneOnce(_ workspace: URL, readers: Int) async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let result = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", server.url], in: workspace, environment: Self.key)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let recipients = try server.received().flatMap(\.recipients)
        #expect(recipients.count == readers)
        #expect(Set(recipients).count == readers)
    }

    func freePort() async throws -> Int {
        let script = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
        let result = try await Subprocess.run(Subprocess.python, ["-c", script])
        return try #require(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func runsListsEveryStateAndAReaderWhoLeftIsNotAFailure() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(5) + ["gone@example.org", "busy@example.org"])
        let server = try SMTPTestServer(reject: ["gone@example.org"], deferred: ["busy@example.org"])
        defer { server.stop() }
        let send = [
            "send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", "1", "--retry-delay", "0.05",
            "--max-attempts", "1",
        ]
        _ = try await cli.digest(send + ["--limit", "1"], in: workspace, environment: Self.key)
        // reader4 leaves before the run reaches them.
        let left = try await cli.digest(["subscribers", "unsubscribe", "reader4@example.org"], in: workspace)
        #expect(left.status == 0, "\(left.stderr)")
        let rest = try await cli.digest(send, in: workspace, environment: Self.key)
        #expect(rest.stdout.contains("1 left the list during the run, not sent"), "\(rest.stdout)")
        #expect(!rest.stdout.contains("reader4@example.org"))
        #expect(!rest.stdout.contains("In doubt"))
        let runs = try await cli.digest(["runs", "2017-11-18", "--json"], in: workspace)
        #expect(runs.status == 0, "\(runs.stderr)")
        struct Run: Decodable {
            var name: String
            var counts: [String: Int]
            var failed: [Reader]
            var deferred: [Reader]
            var left: [Reader]
            struct Reader: Decodable {
                var email: String
                var reply: String?
            }
        }
        let decoded = try JSONDecoder().decode([Run].self, from: Data(runs.stdout.utf8))
        let run = try #require(decoded.first)
        #expect(run.name == "2017-11-18")
        #expect(run.counts == ["sent": 4, "failed": 1, "deferred": 1, "left": 1])
        #expect(run.failed.map(\.email) == ["gone@example.org"])
        #expect(run.failed.first?.reply?.hasPrefix("550 5.1.1") == true)
        #expect(run.deferred.map(\.email) == ["busy@example.org"])
        #expect(run.left.map(\.email) == ["reader4@example.org"])
        let text = try await cli.digest(["runs"], in: workspace)
        #expect(text.stdout.contains("2017-11-18  \"Syria Daily"))
        #expect(text.stdout.contains("4 sent, 1 deferred, 1 failed, 1 left"))
    }

    @Test func withoutATerminalAFullSendAsksForYes() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(2))
        let result = try await cli.digest(
            ["send", "2017-11-18", "--smtp", "smtp://127.0.0.1:1"], in: workspace, environment: Self.key)
        #expect(result.status == 64)
        #expect(result.stderr.contains("there is no terminal to ask on. For scripts and timers: digest send 2017-11-18"))
        #expect(result.stderr.contains("--yes"))
        #expect(try store(workspace).runs().isEmpty)
    }

    @Test func onATerminalAFullSendShowsWhatWillHappenAndAsks() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(3))
        let server = try SMTPTestServer()
        defer { server.stop() }
        let pty = Repository.root.appendingPathComponent("Tests/Support/pty_run.py").path
        var environment = ProcessInfo.processInfo.environment
        environment.merge(Self.key) { $1 }
        environment["TERM"] = "xterm-256color"
        let declined = try await Subprocess.run(
            Subprocess.python,
            [pty, "--expect", "Send now? [y/N]", "--send", "n", "--", DigestBinary.path, "send", "2017-11-18",
             "--smtp", server.url],
            environment: environment, directory: workspace)
        #expect(declined.stdout.contains("Send 2017-11-18: \"Syria Daily: Regime & Russia Try Again"), "\(declined.stdout)")
        #expect(declined.stdout.contains("to 3 readers"))
        #expect(declined.stdout.contains("via \(server.url)"))
        #expect(declined.stdout.contains("without DKIM") || declined.stdout.contains("with DKIM for"))
        #expect(declined.stdout.contains("Not sent; nothing was changed."))
        #expect(declined.stdout.contains("EXIT 0"))
        #expect(try server.received().isEmpty)
        // One reader now, the rest on the terminal: the progress counts the run, not the session.
        let first = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--limit", "1", "--smtp", server.url], in: workspace, environment: Self.key)
        #expect(first.status == 75, "\(first.stdout)\(first.stderr)")
        let accepted = try await Subprocess.run(
            Subprocess.python,
            [pty, "--expect", "Send now? [y/N]", "--send", "y", "--", DigestBinary.path, "send", "2017-11-18",
             "--smtp", server.url],
            environment: environment, directory: workspace)
        #expect(accepted.stdout.contains("Resume the run of 2017-11-18"), "\(accepted.stdout)")
        #expect(accepted.stdout.contains("to 2 readers not yet sent"))
        #expect(accepted.stdout.contains("3 of 3 handled: 2 sent now"))
        #expect(accepted.stdout.contains("EXIT 0"))
        #expect(try server.received().count == 3)
    }

    @Test func sendAtATimeWaitsForItInThePublicationsZone() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(2))
        let server = try SMTPTestServer()
        defer { server.stop() }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Europe/London"))
        let target = Date().addingTimeInterval(6)
        let parts = calendar.dateComponents([.hour, .minute, .second], from: target)
        let at = String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        let started = Date()
        let result = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--at", at, "--smtp", server.url], in: workspace, environment: Self.key)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Waiting until \(at) (Europe/London)"))
        #expect(Date().timeIntervalSince(started) >= 4)
        #expect(try server.received().count == 2)
    }

    @Test func ifCheckedSendsOnlyWhatPassedCheckUnchanged() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(2))
        let server = try SMTPTestServer()
        defer { server.stop() }
        let send = ["send", "2017-11-18", "--yes", "--if-checked", "--smtp", server.url]
        let unchecked = try await cli.digest(send, in: workspace, environment: Self.key)
        #expect(unchecked.status == 65)
        #expect(unchecked.stderr.contains("has not passed digest check: not sent (--if-checked)"))
        #expect(try await cli.digest(["check", "2017-11-18", "--offline"], in: workspace).status == 0)
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        let original = try String(contentsOf: file, encoding: .utf8)
        try (original + "\n").write(to: file, atomically: true, encoding: .utf8)
        let edited = try await cli.digest(send, in: workspace, environment: Self.key)
        #expect(edited.status == 65)
        #expect(edited.stderr.contains("changed after digest check passed"))
        try original.write(to: file, atomically: true, encoding: .utf8)
        let checked = try await cli.digest(send, in: workspace, environment: Self.key)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(try server.received().count == 2)
    }

    @Test func sendRefusesAnEditionWithErrorsUnlessToldTo() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(2))
        let server = try SMTPTestServer()
        defer { server.stop() }
        // A template with an image without alt text: an error of the checks, not of any file's syntax.
        let template = workspace.appendingPathComponent("Templates/digest.html.mustache")
        try (try String(contentsOf: template, encoding: .utf8)).replacingOccurrences(
            of: "</body>", with: "<img src=\"https://eaworldview.com/pixel.png\" width=\"1\" height=\"1\"></body>"
        ).write(to: template, atomically: true, encoding: .utf8)
        let send = ["send", "2017-11-18", "--yes", "--smtp", server.url]
        let refused = try await cli.digest(send, in: workspace, environment: Self.key)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("  error: template: the HTML part has an image without alt text"))
        #expect(refused.stderr.contains("or send the edition as it is with --no-check"))
        #expect(try server.received().isEmpty)
        let forced = try await cli.digest(send + ["--no-check"], in: workspace, environment: Self.key)
        #expect(forced.status == 0, "\(forced.stdout)\(forced.stderr)")
        #expect(try server.received().count == 2)
    }

    @Test func sendRefusesAnEmptyEditionAndSaysWhy() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(2))
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        // A quiet day: the note stays, every section is gone.
        let head = try #require(text.components(separatedBy: "sections:").first)
        try (head + "sections: []\n").write(to: file, atomically: true, encoding: .utf8)
        let check = try await cli.digest(["check", "2017-11-18", "--offline"], in: workspace)
        #expect(check.status == 65, "\(check.stdout)\(check.stderr)")
        let result = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", "smtp://127.0.0.1:1"], in: workspace, environment: Self.key)
        #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("nothing to send: the edition has no items"))
        #expect(try store(workspace).runs().isEmpty)
    }

    @Test func withABounceDomainEachMessageGoesOutWithItsSignedReturnPath() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers(3))
        let config = workspace.appendingPathComponent("publication.yaml")
        try (try String(contentsOf: config, encoding: .utf8) + "bounce:\n  domain: bounce.eaworldview.com\n").write(
            to: config, atomically: true, encoding: .utf8)
        let server = try SMTPTestServer()
        defer { server.stop() }
        let sent = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", server.url], in: workspace, environment: Self.key)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let signer = try #require(BounceSigner(secret: Array(Self.key.values.first!.utf8), listID: "eaworldview.com"))
        let verp = BounceAddress(domain: "bounce.eaworldview.com", signer: signer)
        let store = try store(workspace)
        for message in try server.received() {
            let envelope = try JSONSerialization.jsonObject(
                with: Data(contentsOf: message.file.deletingPathExtension().appendingPathExtension("json")))
            let from = try #require((envelope as? [String: Any])?["mail_from"] as? String)
            #expect(from.hasPrefix("bounces+") && from.hasSuffix("@bounce.eaworldview.com"), "\(from)")
            let token = try #require(verp.parse(from))
            #expect(token.run == "2017-11-18")
            let reader = try #require(message.recipients.first.flatMap { EmailAddress($0) })
            #expect(try store.subscriber(reader)?.id == token.subscriberID)
            // From is unchanged: only the envelope names the reader.
            #expect(try String(contentsOf: message.file, encoding: .utf8).contains("From: EA WorldView Digest <digest@eaworldview.com>"))
        }
        #expect(try server.received().count == 3)
    }
}
