import DigestBounces
import Foundation

/// Case 6: reading the bounce fixture corpus (DSNs, MTA failure notices, complaints, automatic replies), next
/// to GNU Mailman's detector flufl.bounce on the same messages: messages/s, and on how many of the bounces
/// each finds every failing recipient.
enum BounceCase {
    struct Entry: Decodable {
        struct Report: Decodable { var recipient: String }
        var file: String
        var kind: String
        var reports: [Report]
    }

    static var corpusFolder: URL {
        let relative = "Tests/DigestBouncesTests/Fixtures"
        let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(relative)
        if FileManager.default.fileExists(atPath: fromSource.path) { return fromSource }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative)
    }

    static func run(_ options: Bench.Options, _ table: Table) throws {
        let folder = corpusFolder
        let entries = try JSONDecoder().decode(
            [Entry].self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let messages = try entries.map { Array(try Data(contentsOf: folder.appendingPathComponent($0.file))) }
        try ensurePython(["flufl.bounce": "flufl.bounce"])

        // Who finds the failing recipients, once.
        let detection = try runProgram(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import email, json, logging, os, sys
                logging.disable(logging.CRITICAL)
                from flufl.bounce import all_failures
                folder = sys.argv[1]; found = {}
                for entry in json.load(open(os.path.join(folder, 'expected.json'))):
                    data = open(os.path.join(folder, entry['file']), 'rb').read()
                    try:
                        temporary, permanent = all_failures(email.message_from_bytes(data))
                        found[entry['file']] = sorted(a.decode('utf-8', 'replace') for a in temporary | permanent)
                    except Exception:
                        found[entry['file']] = []
                print(json.dumps(found))
                """,
                folder.path,
            ])
        let theirs = try JSONDecoder().decode([String: [String]].self, from: Data(detection.utf8))
        var bounces = 0
        var oursFound = 0
        var theirsFound = 0
        var theirsOnly: [String] = []
        var oursSpurious = 0
        var theirsSpurious = 0
        for (entry, bytes) in zip(entries, messages) {
            let inspected = BounceReader.inspect(bytes)
            let ours = Set(inspected.reports.map { $0.recipient.lowercased() })
            let their = Set((theirs[entry.file] ?? []).map { $0.lowercased() })
            if entry.kind == "bounce" {
                bounces += 1
                let wanted = Set(entry.reports.map { $0.recipient.lowercased() })
                let weFound = inspected.kind == .bounce && wanted.isSubset(of: ours)
                let theyFound = wanted.isSubset(of: their)
                if weFound { oursFound += 1 }
                if theyFound { theirsFound += 1 }
                if theyFound && !weFound { theirsOnly.append(entry.file) }
            } else {
                // A failing recipient read from an automatic reply or a reader's mail is a false alarm.
                if inspected.kind == .bounce { oursSpurious += 1 }
                if (entry.kind == "auto-reply" || entry.kind == "not-a-report") && !their.isEmpty {
                    theirsSpurious += 1
                }
            }
        }
        print(
            "bounces: \(messages.count) messages, \(bounces) bounces; failing recipients found in \(oursFound) by digest, \(theirsFound) by flufl.bounce"
        )
        print("  messages that are not bounces read as bounces: digest \(oursSpurious), flufl.bounce \(theirsSpurious)")
        if !theirsOnly.isEmpty { print("  found by flufl.bounce only: \(theirsOnly.joined(separator: ", "))") }

        let pythonRepeats = 2
        let python = try PythonWorker(
            script: """
                import email, json, logging, os, sys, time
                logging.disable(logging.CRITICAL)
                from flufl.bounce import all_failures
                folder = sys.argv[1]; repeats = int(sys.argv[2])
                files = [e['file'] for e in json.load(open(os.path.join(folder, 'expected.json')))]
                datas = [open(os.path.join(folder, f), 'rb').read() for f in files]
                for line in sys.stdin:
                    t = time.perf_counter(); n = 0
                    for _ in range(repeats):
                        for data in datas:
                            try:
                                all_failures(email.message_from_bytes(data))
                            except Exception:
                                pass
                            n += 1
                    print(n / (time.perf_counter() - t), flush=True)
                """, arguments: [folder.path, String(pythonRepeats)])
        defer { python.close() }
        var oursRates: [Double] = []
        var theirRates: [Double] = []
        var ratios: [Double] = []
        let repeats = 100
        for round in 1...options.runs {
            let started = seconds()
            var count = 0
            for _ in 0..<repeats {
                for bytes in messages {
                    count += BounceReader.inspect(bytes).reports.count >= 0 ? 1 : 0
                }
            }
            let rate = Double(count) / (seconds() - started)
            let baseline = try python.round()
            oursRates.append(rate)
            theirRates.append(baseline)
            ratios.append(rate / baseline)
            print("  round \(round): digest \(format(rate)) messages/s, flufl.bounce \(format(baseline)) messages/s")
        }
        let ratio = median(ratios)
        table.add(
            "bounces: read \(messages.count) reports", figure: "messages/s", ours: format(median(oursRates)),
            baseline: "flufl.bounce \(format(median(theirRates)))",
            ratio: "\(format(ratio))× (\(format(ratios.min() ?? 0))–\(format(ratios.max() ?? 0)))", target: "≥ 10×",
            met: ratio >= 10)
        let share = { (found: Int) in String(format: "%.0f%%", 100 * Double(found) / Double(max(bounces, 1))) }
        table.add(
            "bounces: failing recipient found", figure: "share of \(bounces) bounces", ours: share(oursFound),
            baseline: "flufl.bounce \(share(theirsFound))", ratio: "\(oursFound) vs \(theirsFound)",
            target: "all flufl finds, and more", met: theirsOnly.isEmpty && oursFound > theirsFound)
    }
}
