import DigestCore
import DigestMail
import DigestSending
import DigestStore
import DigestWorkflow
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
        let rows = try (0..<subscribers).map { index in
            guard let address = EmailAddress("reader\(index)@example.org") else {
                throw Bench.BenchError(message: "bad address for reader \(index)")
            }
            return SubscriberCSV.Row(line: index + 2, address: address, name: "Reader \(index)")
        }
        _ = try store.importRows(rows, source: "bench", now: Date())
        _ = try store.startRun("scale", resendInDoubt: false, now: Date())
    }

    /// Runs the send in a child process and returns the send's time and the kernel's peak RSS for it (MB):
    /// the child's VmHWM, which it reads from /proc/self/status as it ends. (`wait4`'s ru_maxrss would
    /// not do: Linux carries the high-water mark of the address space before `exec` into it, and that
    /// one is this process's, which built the list.)
    static func spawnChild(storePath: String) throws -> (Double, Double) {
        let executable =
            CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let arguments = [executable, "--scale-child=\(storePath)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let report = URL(fileURLWithPath: storePath + ".peak")
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, nil, nil, &argv, environ)
        guard spawned == 0 else { throw Bench.BenchError(message: "cannot start \(executable): \(spawned)") }
        var status: Int32 = 0
        guard waitpid(pid, &status, 0) == pid else { throw Bench.BenchError(message: "waitpid failed") }
        guard status == 0 else { throw Bench.BenchError(message: "the scale child failed (status \(status))") }
        // The child's own figures: its peak and the send's time without the process's start.
        let figures = try String(contentsOf: report, encoding: .utf8).split(separator: " ").compactMap {
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard figures.count == 2 else { throw Bench.BenchError(message: "the scale child reported nothing") }
        return (figures[1], figures[0] / 1024)
    }

    /// VmHWM of this process, in kB, from the kernel.
    static func peakResidentKilobytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let value = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        else { throw Bench.BenchError(message: "no VmHWM in /proc/self/status") }
        return value
    }

    /// The child: sends the run in `storePath` as `digest send --dry-run` would, to a discarding transport.
    static func child(storePath: String) throws {
        let sample = try MessageCases.Sample(readers: 0)
        let store = try SQLiteStore(path: storePath)
        let start = try store.startRun("scale", resendInDoubt: false, now: Date())
        let run = try SubscriberRun(
            store: store, key: "scale", start: start, builder: try sample.builder(),
            options: SendOptions(connections: 4), via: "nowhere", makeTransport: { DiscardTransport() })
        let started = seconds()
        let outcome = run.send()
        let elapsed = seconds() - started
        if let failure = outcome.failure { throw Bench.BenchError(message: failure) }
        guard outcome.progress.sent == start.recipients else {
            throw Bench.BenchError(message: "sent \(outcome.progress.sent) of \(start.recipients)")
        }
        try "\(try peakResidentKilobytes()) \(elapsed)".write(
            toFile: storePath + ".peak", atomically: true, encoding: .utf8)
    }
}
