import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// Sign-up with double opt-in through the real `digest serve`, a real browser and a real SMTP server.
@Suite("digest serve: sign-up with double opt-in", .serialized)
struct ServeSignupTests {
    let cli = DigestBinary()
    static let listID = "eaworldview.com"

    /// A workspace copy with a welcome message, the SMTP test server, and `digest serve --signups` on both.
    func start(_ arguments: [String] = [], readers: String? = nil) async throws
        -> (URL, SMTPTestServer, ServeProcess)
    {
        let workspace = try cli.workspaceCopy()
        try "Subject: Welcome to {{publication}}\n\nHello {{name}}, the next edition is yours.\n".write(
            to: workspace.appendingPathComponent("Templates/welcome.txt"), atomically: true, encoding: .utf8)
        if let readers {
            try readers.write(to: workspace.appendingPathComponent("readers.csv"), atomically: true, encoding: .utf8)
            let imported = try await cli.digest(["subscribers", "import", "readers.csv"], in: workspace)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        let smtp = try SMTPTestServer()
        let server = try cli.serve(workspace, ["--signups", "--smtp", smtp.url] + arguments)
        return (workspace, smtp, server)
    }

    /// The messages the SMTP server has for each recipient, waiting until there are `count` in all.
    func messages(_ smtp: SMTPTestServer, count: Int, timeout: TimeInterval = 60) async throws -> [String: [String]] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var byRecipient: [String: [String]] = [:]
            var total = 0
            for message in (try? smtp.received()) ?? [] {
                guard let text = try? String(contentsOf: message.file, encoding: .utf8) else { continue }
                for recipient in message.recipients {
                    byRecipient[recipient, default: []].append(text)
                    total += 1
                }
            }
            if total >= count || Date() > deadline { return byRecipient }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The confirmation token in a message's quoted-printable text.
    func confirmationToken(_ message: String) throws -> String {
        let text = message.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
        let start = try #require(text.range(of: "/confirm?t="))
        return String(text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
    }

    func store(_ workspace: URL) throws -> SQLiteStore {
        try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
    }

    func browse(_ steps: [[String: String]]) async throws -> [(url: String, text: String)] {
        let chromium = "/usr/bin/chromium"
        guard FileManager.default.isExecutableFile(atPath: chromium) else {
            throw SetupFailure(message: "chromium is missing: run .ci/install-deps test (apt-get install chromium)")
        }
        let profile = try Repository.temporaryFolder("chromium-profile")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: steps), as: UTF8.self)
        let result = try await Subprocess.run(
            Subprocess.python,
            [Repository.root.appendingPathComponent("Tests/Support/browser.py").path, chromium, profile.path, json])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let pages = object?["pages"] as? [[String: String]] ?? []
        return pages.map { ($0["url"] ?? "", $0["text"] ?? "") }
    }

    @Test func aReaderSignsUpInChromiumConfirmsWithTheButtonAndGetsTheWelcome() async throws {
        let (workspace, smtp, server) = try await start()
        defer {
            server.stop()
            smtp.stop()
        }
        let base = "http://127.0.0.1:\(server.port)"
        let signedUp = try await browse([
            ["goto": "\(base)/subscribe"], ["fill": "#email", "value": "nadia@example.org"],
            ["fill": "#name", "value": "Nadia Saleh"], ["click": "button"], ["text": "1"],
        ])
        #expect(signedUp.first?.text.contains("Check your inbox") == true, "\(signedUp)")
        let first = try await messages(smtp, count: 1)
        let confirmation = try #require(first["nadia@example.org"]?.first)
        #expect(confirmation.contains("Subject: Confirm your subscription to EA WorldView"))
        #expect(confirmation.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(try store(workspace).pendingSignups().map(\.address.description) == ["nadia@example.org"])
        #expect(try cli.status(of: "nadia@example.org", in: workspace) == nil)
        let listed = try await cli.digest(["subscribers", "list"], in: workspace)
        #expect(listed.stdout.contains("nadia@example.org  pending since"))
        #expect(listed.stdout.contains("1 pending"))

        let token = try confirmationToken(confirmation)
        let confirmed = try await browse([
            ["goto": "\(base)/confirm?t=\(token)"], ["text": "1"], ["click": "button"], ["text": "1"],
        ])
        #expect(confirmed.count == 2)
        #expect(confirmed.first?.text.contains("Confirm") == true)
        #expect(confirmed.last?.text.contains("You are subscribed") == true, "\(confirmed)")
        let reader = try #require(try store(workspace).subscriber(EmailAddress("nadia@example.org")!))
        #expect(reader.status == .active)
        #expect(reader.source == "form")
        #expect(reader.name == "Nadia Saleh")
        #expect(reader.confirmedAt != nil)
        #expect(try store(workspace).pendingSignups().isEmpty)
        let both = try await messages(smtp, count: 2)
        let welcome = try #require(both["nadia@example.org"]?.last)
        #expect(both["nadia@example.org"]?.count == 2)
        #expect(welcome.contains("Subject: Welcome to EA WorldView"))
        #expect(welcome.contains("Hello Nadia Saleh"))
        // The next edition reaches her with nothing done by the editor, and she leaves with one click.
        let send = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", smtp.url], in: workspace,
            environment: ["DIGEST_UNSUBSCRIBE_KEY": DigestBinary.serveKey])
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")
        let three = try await messages(smtp, count: 3)
        #expect(three["nadia@example.org"]?.count == 3)
        let edition = try #require(three["nadia@example.org"]?.last)
        let head = String(edition[..<(edition.range(of: "\r\n\r\n")?.lowerBound ?? edition.endIndex)])
            .replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ")
        let header = try #require(head.components(separatedBy: "\r\n").first { $0.hasPrefix("List-Unsubscribe:") })
        let start = try #require(header.range(of: "/newsletter/unsubscribe?t="))
        let unsubscribeToken = String(header[start.upperBound...].prefix { $0 != ">" })
        let left = try await HTTPTestClient.request(
            port: server.port, "POST", "/unsubscribe?t=\(unsubscribeToken)", body: "List-Unsubscribe=One-Click")
        #expect(left.status == 200)
        #expect(try cli.status(of: "nadia@example.org", in: workspace) == "unsubscribed")

        // The token is a capability: the log never shows it.
        #expect(server.log.contains("\"GET /confirm?[redacted] HTTP/1.1\" 200"), "\(server.log)")
        #expect(!server.log.contains(String(token.split(separator: ".")[1])))
    }

    @Test func theEmbeddedFormSignsUpFromAnotherPageAndGoesToTheThankYouPage() async throws {
        // The thank-you page may be on this server's host (or the publication's own).
        let (_, smtp, server) = try await start(["--public-url", "http://127.0.0.1"])
        defer {
            server.stop()
            smtp.stop()
        }
        let base = "http://127.0.0.1:\(server.port)"
        // The snippet as `digest subscribe-form` prints it, on a page of the publication's own site.
        let snippet = try await cli.digest(
            ["subscribe-form", "--public-url", base, "--thanks", "\(base)/"], in: Repository.root)
        #expect(snippet.status == 0)
        #expect(snippet.stdout.contains("action=\"\(base)/subscribe\""))
        #expect(snippet.stdout.contains("name=\"website\""))
        let page = try Repository.temporaryFolder("site").appendingPathComponent("index.html")
        try "<!DOCTYPE html><html><body>\(snippet.stdout)</body></html>".write(
            to: page, atomically: true, encoding: .utf8)
        let response = try await HTTPTestClient.request(
            port: server.port, "POST", "/subscribe",
            body: "email=omar%40example.org&name=&website=&thanks=https%3A%2F%2Feaworldview.com%2Fthanks")
        #expect(response.status == 303)
        #expect(response.headers["location"] == "https://eaworldview.com/thanks")
        // Another host is not followed: the form is no open redirect.
        let elsewhere = try await HTTPTestClient.request(
            port: server.port, "POST", "/subscribe",
            body: "email=rana%40example.org&thanks=https%3A%2F%2Fevil.example%2F")
        #expect(elsewhere.status == 200)
        #expect(elsewhere.headers["location"] == nil)
        // Chromium submits the embedded form from another page and lands on the thank-you page.
        let pages = try await browse([
            ["goto": page.absoluteString], ["fill": "input[name=email]", "value": "lina@example.org"],
            ["click": "button"], ["text": "1"],
        ])
        #expect(pages.first?.url == "\(base)/", "\(pages)")
        #expect(pages.first?.text.contains("EA WorldView") == true)
        let mail = try await messages(smtp, count: 3)
        #expect(mail["omar@example.org"]?.count == 1)
        #expect(mail["rana@example.org"]?.count == 1)
        #expect(mail["lina@example.org"]?.count == 1)
    }

    @Test func forgedEditedExpiredAndReusedTokensFailAndAGETNeverConfirms() async throws {
        let (workspace, smtp, server) = try await start()
        defer {
            server.stop()
            smtp.stop()
        }
        let posted = try await HTTPTestClient.request(
            port: server.port, "POST", "/subscribe", body: "email=sami%40example.org&name=Sami&website=")
        #expect(posted.status == 200)
        let token = try confirmationToken(try #require(try await messages(smtp, count: 1)["sami@example.org"]?.first))

        // A mail scanner following the link, twice: a page with a button, nobody confirmed.
        for _ in 0..<2 {
            let page = try await HTTPTestClient.request(port: server.port, "GET", "/confirm?t=\(token)")
            #expect(page.status == 200)
            #expect(page.body.contains("<button type=\"submit\">Confirm</button>"))
        }
        #expect(try cli.status(of: "sami@example.org", in: workspace) == nil)

        let signer = try #require(SignupSigner(secret: Array(DigestBinary.serveKey.utf8), listID: Self.listID))
        let claim = try #require(signer.verify(token))
        let otherKey = try #require(SignupSigner(secret: Array("another-key-0123456789".utf8), listID: Self.listID))
        let parts = token.split(separator: ".").map(String.init)
        let edited = Base64URL.encode(Array("sam@example.org\n\(claim.nonce)\n\(Int(Date().timeIntervalSince1970))".utf8))
            + "." + parts[1]
        let unsubscribeToken = try #require(
            UnsubscribeSigner(secret: Array(DigestBinary.serveKey.utf8), listID: Self.listID)
        ).token(for: "1")
        let bad = [
            otherKey.token(address: claim.address, nonce: claim.nonce, issued: Date()), edited, unsubscribeToken,
            "garbage", "",
        ]
        for bad in bad {
            let get = try await HTTPTestClient.request(port: server.port, "GET", "/confirm?t=\(bad)")
            #expect(get.status == 400, "GET \(bad)")
            let post = try await HTTPTestClient.request(port: server.port, "POST", "/confirm", body: "t=\(bad)")
            #expect(post.status == 400, "POST \(bad)")
        }
        // Signed with the right key and nonce, but issued eight days ago: expired.
        let old = signer.token(address: claim.address, nonce: claim.nonce, issued: Date().addingTimeInterval(-8 * 86_400))
        let expired = try await HTTPTestClient.request(port: server.port, "POST", "/confirm", body: "t=\(old)")
        #expect(expired.status == 400)
        #expect(expired.body.contains("expired"))
        #expect(try cli.status(of: "sami@example.org", in: workspace) == nil)

        let confirmed = try await HTTPTestClient.request(port: server.port, "POST", "/confirm", body: "t=\(token)")
        #expect(confirmed.status == 200)
        #expect(try cli.status(of: "sami@example.org", in: workspace) == "active")
        let reused = try await HTTPTestClient.request(port: server.port, "POST", "/confirm", body: "t=\(token)")
        #expect(reused.status == 400)
        #expect(reused.body.contains("used already"))
    }

    @Test func theAnswerNeverSaysWhoIsOnTheListAndTheLimitsHoldTheMailBack() async throws {
        let readers = """
            email,status
            active@example.org,active
            gone@example.org,unsubscribed
            dead@example.org,bounced
            angry@example.org,complained

            """
        let (workspace, smtp, server) = try await start(
            ["--signups-per-client", "8", "--signup-interval", "3600"], readers: readers)
        defer {
            server.stop()
            smtp.stop()
        }
        func signUp(_ email: String, website: String = "") async throws -> RawResponse {
            try await HTTPTestClient.request(
                port: server.port, "POST", "/subscribe",
                body: "email=\(email.replacingOccurrences(of: "@", with: "%40"))&name=&website=\(website)")
        }
        // The honeypot: same answer, nothing recorded, nothing sent (and not counted against the client).
        let bot = try await signUp("bot@example.org", website: "http%3A%2F%2Fspam.example")
        var bodies: [String] = [bot.body]
        for email in [
            "new@example.org", "new@example.org", "active@example.org", "gone@example.org", "dead@example.org",
            "angry@example.org", "other@example.org", "third@example.org",
        ] {
            let response = try await signUp(email)
            #expect(response.status == 200, "\(email)")
            bodies.append(response.body)
        }
        // Every answer is the same page, on the list or not.
        #expect(Set(bodies).count == 1)
        // The ninth from this client in the hour is refused.
        let over = try await signUp("fourth@example.org")
        #expect(over.status == 429)

        let mail = try await messages(smtp, count: 4, timeout: 30)
        // Anything more would have come by now: the mail thread sends as soon as it is queued.
        try await Task.sleep(for: .seconds(2))
        let settled = try await messages(smtp, count: 4, timeout: 0)
        // One confirmation for the address asked twice; none for the active, bounced, complained, bot or refused.
        #expect(
            Set(settled.keys) == ["new@example.org", "gone@example.org", "other@example.org", "third@example.org"],
            "\(mail.keys.sorted())")
        #expect(settled.values.allSatisfy { $0.count == 1 })
        #expect(try cli.status(of: "dead@example.org", in: workspace) == "bounced")
        #expect(try cli.status(of: "angry@example.org", in: workspace) == "complained")

        // The reader who had unsubscribed comes back through the double opt-in.
        let token = try confirmationToken(try #require(settled["gone@example.org"]?.first))
        let confirmed = try await HTTPTestClient.request(port: server.port, "POST", "/confirm", body: "t=\(token)")
        #expect(confirmed.status == 200)
        #expect(try cli.status(of: "gone@example.org", in: workspace) == "active")
    }

    @Test func confirmationsPerHourAreCappedInAllAndALaterRequestStillGetsOne() async throws {
        let (workspace, smtp, server) = try await start(["--signup-mail-per-hour", "3", "--signup-interval", "0"])
        defer {
            server.stop()
            smtp.stop()
        }
        for index in 0..<5 {
            let response = try await HTTPTestClient.request(
                port: server.port, "POST", "/subscribe", body: "email=cap\(index)%40example.org&website=")
            #expect(response.status == 200)
        }
        _ = try await messages(smtp, count: 3, timeout: 30)
        try await Task.sleep(for: .seconds(2))
        let mail = try await messages(smtp, count: 3, timeout: 0)
        #expect(mail.values.reduce(0) { $0 + $1.count } == 3)
        // Every sign-up is recorded; the two beyond the cap may ask again (in the next hour).
        #expect(try store(workspace).pendingSignups().count == 5)
        #expect(try store(workspace).pendingSignups().filter { $0.sends == 0 }.count == 2)
        #expect(server.errorLog.contains("3 confirmations sent this hour"))
    }

    @Test func aThousandSignUpsFromFiftyClientsLoseNobodyAndSendNoDuplicate() async throws {
        let (workspace, smtp, server) = try await start(["--signups-per-client", "5000", "--max-connections", "200"])
        defer {
            server.stop()
            smtp.stop()
        }
        let port = server.port
        let started = Date()
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for client in 0..<50 {
                group.addTask {
                    var statuses: [Int] = []
                    for index in 0..<20 {
                        let email = "load\(client)x\(index)%40example.org"
                        // Every tenth address is asked for twice: still one confirmation.
                        for _ in 0..<(index % 10 == 0 ? 2 : 1) {
                            let body = "email=\(email)&name=&website="
                            let response = try await HTTPTestClient.exchange(
                                port: port,
                                "POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                    + "Content-Type: application/x-www-form-urlencoded\r\n"
                                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)",
                                timeout: 60)
                            statuses.append(response.status)
                        }
                    }
                    return statuses
                }
            }
            var all: [Int] = []
            for try await statuses in group { all += statuses }
            return all
        }
        let answered = Date().timeIntervalSince(started)
        #expect(statuses.count == 1_100)
        #expect(statuses.allSatisfy { $0 == 200 }, "\(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        #expect(try store(workspace).pendingSignups().count == 1_000)
        let mail = try await messages(smtp, count: 1_000, timeout: 240)
        let delivered = Date().timeIntervalSince(started)
        #expect(mail.count == 1_000)
        #expect(mail.values.allSatisfy { $0.count == 1 })
        print("1,000 sign-ups (1,100 requests) from 50 clients: answered in \(answered) s, mailed in \(delivered) s")
    }
}
