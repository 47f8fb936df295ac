import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// Several `digest` processes on one PostgreSQL database: senders killed and restarted on one run, two web
/// nodes taking one-click unsubscribes, a run moved from SQLite to PostgreSQL half-way.
@Suite("Processes sharing one PostgreSQL store", .serialized)
struct SharedPostgresTests {
    let cli = DigestBinary()
    static let key = ["DIGEST_UNSUBSCRIBE_KEY": DigestBinary.serveKey]

    /// A copy of the sample workspace whose `store:` is a new PostgreSQL database, with `readers` imported.
    func workspace(readers: Int, label: String) async throws -> (URL, any ListStore, String) {
        let server = try await PostgresTestServer.shared()
        let database = try await server.database(label)
        let workspace = try cli.workspaceCopy()
        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8)
        try (text + "store: \(server.url(database))\n").write(to: config, atomically: true, encoding: .utf8)
        try importReaders(readers, into: workspace)
        let imported = try await cli.digest(
            ["subscribers", "import", "readers.csv", "--status", "active"], in: workspace)
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        return (workspace, try await StoreLocation.postgres(database).open(), server.url(database))
    }

    func importReaders(_ count: Int, into workspace: URL) throws {
        var text = "email,name\n"
        for index in 0..<count { text += "r\(index)@example.org,Reader\n" }
        try text.write(to: workspace.appendingPathComponent("readers.csv"), atomically: true, encoding: .utf8)
    }

    func counts(_ server: SMTPTestServer) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for message in try server.received() {
            for recipient in message.recipients { counts[recipient, default: 0] += 1 }
        }
        return counts
    }

    func sender(_ workspace: URL, _ server: SMTPTestServer, connections: Int = 2) throws -> Process {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "DIGEST_WORKSPACE")
        environment.removeValue(forKey: "DIGEST_DATABASE")
        environment.merge(Self.key) { $1 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DigestBinary.path)
        process.arguments = ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", String(connections)]
        process.currentDirectoryURL = workspace
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Two senders on one run of 5,000 readers, both killed with SIGKILL at random moments three times and
    /// started again, then left to finish: at the SMTP server every reader exactly once, except those the
    /// ledger says are in doubt (at most one per connection of each process killed), who got at most one.
    @Test func twoSendersKilledAndRestartedOnOneRunMailEveryReaderOnce() async throws {
        let readers = 5_000
        let (workspace, store, _) = try await workspace(readers: readers, label: "senders")
        let server = try SMTPTestServer()
        defer { server.stop() }
        var random = SeededGenerator(seed: 19)
        for _ in 0..<3 {
            let first = try sender(workspace, server)
            try await Task.sleep(for: .seconds(Double.random(in: 0.2...0.8, using: &random)))
            let second = try sender(workspace, server)
            try await Task.sleep(for: .seconds(Double.random(in: 0.8...2.0, using: &random)))
            kill(first.processIdentifier, SIGKILL)
            try await Task.sleep(for: .seconds(Double.random(in: 0.1...0.6, using: &random)))
            kill(second.processIdentifier, SIGKILL)
            for process in [first, second] { try await offThePool { process.waitUntilExit() } }
        }
        let finishers = [try sender(workspace, server), try sender(workspace, server)]
        for process in finishers { try await offThePool { process.waitUntilExit() } }
        let doubt = Set(try store.deliveries("2017-11-18", state: .doubt, limit: 10_000).map(\.email.description))
        #expect(doubt.count <= 3 * 2 * 2, "at most one message per connection of each killed process is in doubt")
        let received = try counts(server)
        var twice = 0
        var missing = 0
        for index in 0..<readers {
            let reader = "r\(index)@example.org"
            let copies = received[reader] ?? 0
            if doubt.contains(reader) {
                #expect(copies <= 1, "\(reader) was in doubt and got \(copies) copies")
            } else if copies > 1 {
                twice += 1
            } else if copies == 0 {
                missing += 1
            }
        }
        #expect(twice == 0, "readers mailed twice")
        #expect(missing == 0, "readers never mailed")
        #expect(
            try store.deliveryCounts("2017-11-18")
                == [.sent: readers - doubt.count, .doubt: doubt.count].filter { $0.value > 0 })
        print("two senders, 3 kills each: \(readers) readers, \(doubt.count) in doubt, \(received.count) received")
    }

    /// Two `digest serve` processes on one database, 10,000 one-click POSTs spread over both: every one
    /// answered 200 and every reader unsubscribed once.
    @Test func twoWebNodesTakeTenThousandOneClickUnsubscribesWithoutAnError() async throws {
        let count = 10_000
        let (workspace, store, _) = try await workspace(readers: count, label: "nodes")
        var ids: [Int64] = []
        try store.forEachSubscriber(status: .active) { if let id = $0.id { ids.append(id) } }
        #expect(ids.count == count)
        let signer = try #require(
            UnsubscribeSigner(secret: Array(DigestBinary.serveKey.utf8), listID: "eaworldview.com"))
        let nodes = [try cli.serve(workspace), try cli.serve(workspace)]
        var files: [URL] = []
        for (index, node) in nodes.enumerated() {
            let file = workspace.appendingPathComponent("tokens-\(index).txt")
            let half = ids.enumerated().filter { $0.offset % 2 == index }.map { signer.token(for: String($0.element)) }
            try half.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
            _ = node
        }
        let script = Repository.root.appendingPathComponent("Tests/Support/http_load.py").path
        async let first = Subprocess.run(
            Subprocess.python,
            [script, "--base", "http://127.0.0.1:\(nodes[0].port)", "--tokens", files[0].path, "--connections", "8"])
        async let second = Subprocess.run(
            Subprocess.python,
            [script, "--base", "http://127.0.0.1:\(nodes[1].port)", "--tokens", files[1].path, "--connections", "8"])
        let results = try await [first, second]
        var requests = 0
        for result in results {
            #expect(result.status == 0, "\(result.stderr)")
            let report = try LoadReport(json: result.stdout)
            #expect(report.statuses.keys.sorted() == ["200"], "\(report.statuses)")
            #expect(report.errors == 0)
            requests += report.requests
            print(
                "one-click load on one of two nodes: \(report.requests) POSTs in \(report.seconds) s, \(report.rate)/s")
        }
        for node in nodes { #expect(node.stop() == 0) }
        #expect(requests == count)
        #expect(try store.counts() == [.unsubscribed: count])
    }
}

extension SharedPostgresTests {
    /// A run in progress on a SQLite store of 100,000 readers (part sent, then a sender killed with SIGKILL
    /// while its messages are in flight) copied with `digest store copy` to PostgreSQL and finished from
    /// there: nobody mailed twice, nobody left out. aiosmtpd keeps only one line per message
    /// (`envelopesOnly`), so the server keeps up with 100,000 messages on two cores.
    @Test func aRunInProgressCopiedToPostgresFinishesThereWithNobodyMailedTwice() async throws {
        let readers = 100_000
        let part = 10_000
        let connections = 4
        var seconds: [String: Double] = [:]
        func timed<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
            let started = Date()
            defer { seconds[name] = Date().timeIntervalSince(started) }
            return try await body()
        }
        let workspace = try cli.workspaceCopy()
        defer { try? FileManager.default.removeItem(at: workspace) }
        try importReaders(readers, into: workspace)
        let imported = try await timed("import") {
            try await cli.digest(["subscribers", "import", "readers.csv", "--status", "active"], in: workspace)
        }
        #expect(imported.status == 0, "\(imported.stderr)")
        let server = try SMTPTestServer(envelopesOnly: true)
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: server.mailbox)
        }
        let partSent = try await timed("part") {
            try await cli.digest(
                [
                    "send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", String(connections),
                    "--limit", String(part),
                ],
                in: workspace,
                environment: Self.key)
        }
        // Not everyone yet: the status of a run with readers left to send.
        #expect(
            partSent.status == 75 && partSent.stdout.contains("\(part) sent"), "\(partSent.stdout)\(partSent.stderr)")
        // The next sender is killed once the server has taken 5,000 of its messages: it has some in flight.
        let killed = try sender(workspace, server, connections: connections)
        let deadline = Date().addingTimeInterval(300)
        while killed.isRunning, Date() < deadline, try server.acceptedCount() < part + 5_000 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(killed.isRunning, "the sender ended before it was killed")
        kill(killed.processIdentifier, SIGKILL)
        try await offThePool { killed.waitUntilExit() }
        let beforeCopy = try server.acceptedCount()

        let postgres = try await PostgresTestServer.shared()
        let database = try await postgres.database("moved")
        let copied = try await timed("copy") {
            try await cli.digest(["store", "copy", "--to", postgres.url(database)], in: workspace)
        }
        #expect(copied.status == 0, "\(copied.stdout)\(copied.stderr)")
        #expect(copied.stdout.contains("subscriber: \(readers) rows"), "\(copied.stdout)")
        #expect(copied.stdout.contains("delivery: \(readers) rows"), "\(copied.stdout)")
        // A second copy into the same database is refused: it has rows.
        let again = try await cli.digest(["store", "copy", "--to", postgres.url(database)], in: workspace)
        #expect(again.status != 0 && again.stderr.contains("not empty"), "\(again.stdout)\(again.stderr)")

        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8)
        try (text + "store: \(postgres.url(database))\n").write(to: config, atomically: true, encoding: .utf8)
        let check = try await cli.digest(["store", "check"], in: workspace)
        #expect(check.status == 0 && check.stdout.contains("PostgreSQL") && check.stdout.contains("current"))
        let finished = try await timed("finish") {
            try await cli.digest(
                ["send", "2017-11-18", "--yes", "--smtp", server.url, "--connections", String(connections)],
                in: workspace, environment: Self.key)
        }
        let store = try await StoreLocation.postgres(database).open()
        let doubt = Set(try store.deliveries("2017-11-18", state: .doubt, limit: 10_000).map(\.email.description))
        #expect(doubt.count <= connections, "at most one message per connection of the killed sender is in doubt")
        #expect(finished.status == (doubt.isEmpty ? 0 : 75), "\(finished.stdout)\(finished.stderr)")
        let received = try server.recipientCounts()
        var twice = 0
        var missing = 0
        for index in 0..<readers {
            let reader = "r\(index)@example.org"
            let copies = received[reader] ?? 0
            if copies > 1 {
                twice += 1
            } else if copies == 0, !doubt.contains(reader) {
                missing += 1
            }
        }
        #expect(twice == 0, "readers mailed twice")
        #expect(missing == 0, "readers never mailed")
        #expect(received.count <= readers, "messages to addresses that are not readers")
        #expect(try store.deliveryCounts("2017-11-18")[.sent] == readers - doubt.count)
        let figures = ["import", "part", "copy", "finish"].map { String(format: "%.1f", seconds[$0] ?? 0) }
        let line =
            "\(readers) readers copied with a run in progress: import \(figures[0]) s, part-send of \(part) "
            + "\(figures[1]) s, \(beforeCopy) sent before the copy, copy \(figures[2]) s, finish of "
            + "\(try server.acceptedCount() - beforeCopy) from PostgreSQL \(figures[3]) s, \(doubt.count) in doubt\n"
        // Written at once, not through print's buffer: a run's figures once went missing from a redirected log.
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
