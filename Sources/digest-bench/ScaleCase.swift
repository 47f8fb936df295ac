import DigestCore
import DigestMail
import DigestStore
import Foundation

/// Case 4: a dry-run send to a very large list. Each size runs in a child process (this program with
/// `--scale-child=STORE`), so that its peak resident memory is the kernel's figure for that send alone.
enum ScaleCase {
    /// A transport that builds nothing further and keeps nothing: the message is dropped after it was built.
    final class DiscardTransport: MailTransport {
        func deliver(_ message: OutgoingMessage) -> DeliveryOutcome {
            DeliveryOutcome(
                recipient: message.recipient, status: .accepted, replyCode: 250, reply: "250 discarded", bodySent: true)
        }
    }

    static func run(_ options: Bench.Options, _ table: Table) throws {
        let small = 10_000
        let large = max(options.scale, small)
        print(
            "scale: dry-run send (SQLite list and ledger on disk, messages built and discarded), \(small) and \(large) subscribers"
        )
        var results: [Int: (seconds: Double, rss: Double)] = [:]
        for size in [small, large] {
            let folder = try scratchFolder("scale-\(size)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("digest.sqlite").path
            let setupStarted = seconds()
            try prepare(path: path, subscribers: size)
            let setup = seconds() - setupStarted
            let (elapsed, rss) = try spawnChild(storePath: path)
            results[size] = (elapsed, rss)
            print(
                "  \(size) subscribers: sent in \(format(elapsed)) s (\(format(Double(size) / elapsed)) msg/s), peak RSS \(format(rss)) MB; list and run set up in \(format(setup)) s"
            )
        }
        guard let one = results[small], let many = results[large] else { return }
        let memoryRatio = many.rss / one.rss
        table.add(
            "scale: peak RSS, \(large) subscribers", figure: "MB", ours: format(many.rss),
            baseline: "\(small) subscribers \(format(one.rss))", ratio: "\(format(memoryRatio))×",
            target: "≤ 1.2× and < 150 MB", met: memoryRatio <= 1.2 && many.rss < 150)
        let perMessage = (many.seconds / Double(large)) / (one.seconds / Double(small))
        table.add(
            "scale: time per message", figure: "µs/msg", ours: format(many.seconds / Double(large) * 1e6),
            baseline: "\(small) subscribers \(format(one.seconds / Double(small) * 1e6))",
            ratio: "\(format(perMessage))×",
            target: "linear (≈ 1×)", met: perMessage <= 1.3)
    }

    /// A store with `subscribers` readers and a run recorded for them, as `digest send` would start it.
    static func prepare(path: String, subscribers: Int) throws {
        let store = try SQLiteStore(path: path)
        var first = 0
        while first < subscribers {
            let last = min(subscribers, first + 100_000)
            var csv = "email,name\n"
            for index in first..<last { csv += "reader\(index)@example.org,Reader \(index)\n" }
            _ = try store.importRows(try SubscriberCSV.parse(Data(csv.utf8)).rows, source: "bench", now: Date())
            first = last
        }
        _ = try store.startRun("scale", resendInDoubt: false, now: Date())
    }

    /// Runs the send in a child process and returns its wall time and the kernel's peak RSS for it (MB).
    static func spawnChild(storePath: String) throws -> (Double, Double) {
        let executable =
            CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let arguments = [executable, "--scale-child=\(storePath)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let started = seconds()
        let spawned = posix_spawn(&pid, executable, nil, nil, &argv, environ)
        guard spawned == 0 else { throw Bench.BenchError(message: "cannot start \(executable): \(spawned)") }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw Bench.BenchError(message: "wait4 failed") }
        let elapsed = seconds() - started
        guard status == 0 else { throw Bench.BenchError(message: "the scale child failed (status \(status))") }
        return (elapsed, Double(usage.ru_maxrss) / 1024)
    }

    /// The child: sends the run in `storePath` as `digest send --dry-run` would, to a discarding transport.
    static func child(storePath: String) throws {
        let sample = try MessageCases.Sample(readers: 0)
        let store = try SQLiteStore(path: storePath)
        let builder = DigestMessageBuilder(
            publication: sample.publication, rendered: try sample.renderer.renderForReaders(sample.edition),
            identity: RandomMessageIdentity(), unsubscribe: sample.unsubscribe)
        let start = try store.startRun("scale", resendInDoubt: false, now: Date())
        let sender = BulkSender(
            store: store, run: "scale", options: SendOptions(connections: 4),
            makeMessage: { delivery in
                guard let address = EmailAddress(delivery.email) else {
                    throw Bench.BenchError(message: "bad address \(delivery.email)")
                }
                return try builder.message(
                    to: Reader(
                        id: String(delivery.subscriberId), mailbox: Mailbox(name: delivery.name, address: address)),
                    date: Date())
            },
            makeTransport: { DiscardTransport() })
        sender.send(remaining: start.recipients)
        if let failure = sender.failure { throw Bench.BenchError(message: failure) }
        guard sender.currentProgress.sent == start.recipients else {
            throw Bench.BenchError(message: "sent \(sender.currentProgress.sent) of \(start.recipients)")
        }
    }
}
