import DigestCore
import DigestCurl
import DigestMail
import DigestStore
import Foundation

/// Sending personalised messages of the sample edition to Postfix's smtp-sink on loopback, next to
/// Postfix's own load generator smtp-source (same sessions, count and size) and Python's smtplib.
enum SendCase {
    static func run(count: Int, connections: [Int]) throws {
        try Bench.run(
            "/bin/sh",
            [
                "-c",
                "command -v smtp-sink >/dev/null || { apt-get install -y -qq postfix >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix; }; } >/dev/null",
            ])
        let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let workspace = Workspace(root: root)
        let publication = try workspace.loadPublication()
        let renderer = EditionRenderer(
            publication: publication, templates: try workspace.loadTemplates(for: publication))
        let edition = try workspace.loadEdition(EditionDate("2017-11-18") ?? EditionDate(containing: Date(), in: .gmt))
        guard
            let unsubscribe = UnsubscribeSigner(
                secret: Array("benchmark-unsubscribe-key".utf8), listID: publication.listID)
        else {
            return
        }
        let builder = DigestMessageBuilder(
            publication: publication, rendered: try renderer.renderForReaders(edition),
            identity: RandomMessageIdentity(),
            unsubscribe: unsubscribe)
        guard let sampleAddress = EmailAddress("reader0@example.org") else { return }
        let size = try builder.message(to: Reader(id: "0", mailbox: Mailbox(address: sampleAddress)), date: Date()).data
            .count

        print("")
        print("send \(count) personalised messages of \(size) bytes to smtp-sink on loopback")
        print("connections  digest msg/s   smtp-source msg/s   ratio   digest peak RSS")
        var smtplibRate = 0.0
        var digestOne = 0.0
        for sessions in connections {
            let port = Int.random(in: 20_000...40_000)
            let sink = try Bench.start("/usr/sbin/smtp-sink", ["-u", "nobody", "127.0.0.1:\(port)", "1000"])
            defer { sink.terminate() }
            Thread.sleep(forTimeInterval: 0.3)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "digest-bench-send-\(getpid())-\(sessions)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let store = try SQLiteStore(path: folder.appendingPathComponent("digest.sqlite").path)
            var csv = "email\n"
            for index in 0..<count { csv += "reader\(index)@example.org\n" }
            _ = try store.importRows(try SubscriberCSV.parse(Data(csv.utf8)).rows, source: "bench", now: Date())
            _ = try store.startRun("bench", resendInDoubt: false, now: Date())
            let configuration = CurlSMTPTransport.Configuration(
                url: "smtp://127.0.0.1:\(port)", helo: "eaworldview.com")
            let sender = BulkSender(
                store: store, run: "bench", options: SendOptions(connections: sessions),
                makeMessage: { delivery in
                    guard let address = EmailAddress(delivery.email) else {
                        throw Bench.BenchError(message: "bad address")
                    }
                    return try builder.message(
                        to: Reader(id: String(delivery.subscriberId), mailbox: Mailbox(address: address)), date: Date())
                },
                makeTransport: { try CurlSMTPTransport(configuration: configuration) })
            let started = Date()
            sender.send(remaining: count)
            let ours = Double(sender.currentProgress.sent) / Date().timeIntervalSince(started)
            if sessions == 1 { digestOne = ours }
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)

            let sourceStarted = Date()
            try Bench.run(
                "/usr/sbin/smtp-source",
                [
                    "-s", "\(sessions)", "-m", "\(count)", "-l", "\(size)", "-f", "digest@eaworldview.com", "-t",
                    "reader@example.org",
                    "127.0.0.1:\(port)",
                ])
            let source = Double(count) / Date().timeIntervalSince(sourceStarted)
            print(
                String(
                    format: "%11d  %12.0f   %17.0f   %5.2f×  %6.1f MB", sessions, ours, source, ours / source,
                    Double(usage.ru_maxrss) / 1024))
            if sessions == 1 {
                let script = """
                    import smtplib, sys, time
                    port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
                    body = ("Subject: bench\\r\\n\\r\\n" + "x" * 76 + "\\r\\n") * max(1, size // 90)
                    s = smtplib.SMTP("127.0.0.1", port); t = time.perf_counter()
                    for i in range(count):
                        s.sendmail("digest@eaworldview.com", ["reader%d@example.org" % i], body)
                    print(count / (time.perf_counter() - t))
                    """
                let output = try Bench.run("/usr/bin/env", ["python3", "-c", script, "\(port)", "\(count)", "\(size)"])
                smtplibRate = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            }
        }
        print(
            String(
                format: "Python smtplib, 1 connection: %.0f msg/s; digest on 1 connection: %.2f× smtplib", smtplibRate,
                digestOne / max(smtplibRate, 1)))
        print("targets: at least 0.8× smtp-source at every concurrency, at least 3× smtplib")
    }
}
