import DigestCore
import DigestCurl
import DigestMail
import DigestSending
import DigestStore
import DigestWorkflow
import Foundation

/// Case `pgsend`: the send case's run to smtp-sink with the ledger on PostgreSQL (1 and 4 connections) next to
/// the SQLite ledger in the same run, and two senders of 4 connections on one PostgreSQL run next to one of 8.
/// Starts a throwaway PostgreSQL cluster of its own (Debian's `postgresql`), with `fsync` on as a server would.
enum PostgresSendCase {
    static func run(_ options: Bench.Options, _ table: Table) throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        let sample = try MessageCases.Sample(readers: 1)
        let builder = try sample.builder()
        let count = options.messages
        let rounds = min(options.runs, 3)
        print("pgsend: \(count) messages to smtp-sink, ledger on SQLite and on PostgreSQL, \(rounds) rounds")
        for sessions in [1, 4] {
            var sqlite: [Double] = []
            var postgres: [Double] = []
            for round in 1...rounds {
                let (sink, port) = try startSink()
                defer { sink.terminate() }
                let folder = try scratchFolder("pgsend-\(sessions)")
                defer { try? FileManager.default.removeItem(at: folder) }
                let lite = try SQLiteStore(path: folder.appendingPathComponent("digest.sqlite").path)
                sqlite.append(try send([lite], count: count, sessions: sessions, port: port, builder: builder))
                let pg = try PostgresStore(try cluster.database(), migrate: true)
                postgres.append(try send([pg], count: count, sessions: sessions, port: port, builder: builder))
                print(
                    "  \(sessions) connection(s), round \(round): SQLite ledger \(format(sqlite.last ?? 0)) msg/s, "
                        + "PostgreSQL ledger \(format(postgres.last ?? 0)) msg/s")
            }
            let ratio = median(postgres) / median(sqlite)
            table.add(
                "pgsend: \(count) msgs, \(sessions) conn., PostgreSQL ledger", figure: "msg/s",
                ours: format(median(postgres)), baseline: "SQLite ledger \(format(median(sqlite)))",
                ratio: "\(format(ratio))×", target: "≥ 0.8×", met: ratio >= 0.8)
        }
        var one: [Double] = []
        var two: [Double] = []
        for round in 1...rounds {
            let (sink, port) = try startSink()
            defer { sink.terminate() }
            one.append(
                try send(
                    [try PostgresStore(try cluster.database())], count: count, sessions: 8, port: port, builder: builder
                ))
            let settings = try cluster.database()
            let senders = [try PostgresStore(settings), try PostgresStore(settings)]
            two.append(try send(senders, count: count, sessions: 4, port: port, builder: builder))
            print(
                "  round \(round): one sender of 8 connections \(format(one.last ?? 0)) msg/s, two senders of 4 "
                    + "\(format(two.last ?? 0)) msg/s")
        }
        let ratio = median(two) / median(one)
        table.add(
            "pgsend: 2 senders × 4 conn. on one run", figure: "msg/s", ours: format(median(two)),
            baseline: "1 sender × 8 \(format(median(one)))", ratio: "\(format(ratio))×", target: "(same run)",
            met: nil)
    }

    /// One run sent by one sender per store given (all on the same database when several), each with
    /// `sessions` connections: messages/s over the whole run.
    static func send(
        _ stores: [any ListStore], count: Int, sessions: Int, port: Int, builder: DigestMessageBuilder
    ) throws -> Double {
        let first = stores[0]
        var csv = "email\n"
        for index in 0..<count { csv += "reader\(index)@example.org\n" }
        _ = try first.importRows(
            try SubscriberCSV.parse(Data(csv.utf8), status: .active).rows, source: "bench", now: Date())
        let configuration = CurlSMTPTransport.Configuration(url: "smtp://127.0.0.1:\(port)", helo: "eaworldview.com")
        let runs = try stores.map { store in
            try SubscriberRun(
                store: store, key: "bench", start: try store.startRun("bench", resendInDoubt: false, now: Date()),
                builder: builder, options: SendOptions(connections: sessions), via: configuration.url,
                makeTransport: { try CurlSMTPTransport(configuration: configuration) })
        }
        let started = seconds()
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: runs.count) { index in
            if let failure = runs[index].send().failure { failures.add(failure) }
        }
        let elapsed = seconds() - started
        if let failure = failures.first { throw Bench.BenchError(message: failure) }
        let sent = try first.deliveryCounts("bench")[.sent] ?? 0
        guard sent == count else { throw Bench.BenchError(message: "only \(sent) of \(count) messages were accepted") }
        return Double(count) / elapsed
    }

    final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ failure: String) { lock.withLock { list.append(failure) } }
        var first: String? { lock.withLock { list.first } }
    }

    /// A throwaway PostgreSQL cluster: initdb into a scratch folder (as the user postgres when root), the
    /// server on a free loopback port, one new database per call of `database()`.
    final class Cluster {
        let folder: URL
        let bin: String
        let port = Int.random(in: 41_000...49_000)
        let asRoot = getuid() == 0
        var server: Process?
        var count = 0

        init() throws {
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
            guard let version = versions.compactMap(Int.init).max() else {
                throw Bench.BenchError(message: "PostgreSQL is not installed (Debian package postgresql)")
            }
            bin = "/usr/lib/postgresql/\(version)/bin"
            folder = try scratchFolder("postgres")
            if asRoot { try runProgram("/bin/chown", ["postgres:postgres", folder.path]) }
            let data = folder.appendingPathComponent("data").path
            try runProgram(
                asRoot ? "/usr/sbin/runuser" : "\(bin)/initdb",
                (asRoot ? ["-u", "postgres", "--", "\(bin)/initdb"] : []) + [
                    "-D", data, "-A", "trust", "-U", "digest", "-E", "UTF8",
                ])
            let arguments = [
                "-D", data, "-p", String(port), "-k", folder.path, "-c", "listen_addresses=127.0.0.1", "-c",
                "max_connections=100",
            ]
            server = try start(
                asRoot ? "/usr/sbin/runuser" : "\(bin)/postgres",
                (asRoot ? ["-u", "postgres", "--", "\(bin)/postgres"] : []) + arguments)
            // Generous on a busy machine: a cold start with crash recovery can take several seconds.
            for _ in 0..<300 {
                guard server?.isRunning ?? false else { break }
                let probe = Process()
                probe.executableURL = URL(fileURLWithPath: "\(bin)/pg_isready")
                probe.arguments = ["-h", "127.0.0.1", "-p", String(port), "-q"]
                try probe.run()
                probe.waitUntilExit()
                if probe.terminationStatus == 0 { return }
                Thread.sleep(forTimeInterval: 0.1)
            }
            stop()
            throw Bench.BenchError(
                message: "the PostgreSQL server did not start on port \(port) within 30 s (is the port taken?)")
        }

        func database() throws -> PostgresSettings {
            count += 1
            let name = "bench\(count)"
            try runProgram("\(bin)/createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "digest", name])
            return PostgresSettings(user: "digest", host: "127.0.0.1", port: port, database: name)
        }

        func stop() {
            let data = folder.appendingPathComponent("data").path
            let stop = ["\(bin)/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]
            _ = try? runProgram(
                asRoot ? "/usr/sbin/runuser" : stop[0],
                asRoot ? ["-u", "postgres", "--"] + stop : Array(stop.dropFirst()))
            server?.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
        }
    }
}
