import DigestCore
import DigestMail
import DigestServe
import DigestStore
import DigestWorkflow
import Foundation

/// Case: `digest serve`'s two public writes on loopback, side by side in one run: counted story redirects
/// (`/l/…`) and RFC 8058 one-click unsubscribes, each from 16 keep-alive connections of Tests/Support's
/// load script. Both commit in batches before they answer.
enum ServeCase {
    static func run(_ options: Bench.Options, _ table: Table) throws {
        let count = max(1_000, min(options.readers, 10_000))
        let folder = try scratchFolder("serve")
        defer { try? FileManager.default.removeItem(at: folder) }
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for name in ["publication.yaml", "Templates", "Editions"] {
            try FileManager.default.copyItem(
                at: here.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let config = folder.appendingPathComponent("publication.yaml")
        try (try String(contentsOf: config, encoding: .utf8) + "tracking:\n  clicks: stories\n").write(
            to: config, atomically: true, encoding: .utf8)
        let key = "benchmark-unsubscribe-key-0123456789"
        let environment = DigestEnvironment(
            variables: ["DIGEST_UNSUBSCRIBE_KEY": key], currentDirectory: folder)
        let workspace = Workspace(root: folder)
        let store = try environment.openStore(workspace)
        let rows = try (0..<count).map { index in
            guard let address = EmailAddress("reader\(index)@example.org") else {
                throw Bench.BenchError(message: "bad address")
            }
            return SubscriberCSV.Row(line: index + 2, address: address)
        }
        _ = try store.importRows(rows, source: "bench", now: Date())
        // The edition's run, frozen with its counted links, as `digest send` starts it (nothing is sent).
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment)
        _ = try SubscriberRun.prepare(
            loaded, settings: SendSettings(smtp: "smtp://127.0.0.1:25"), environment: environment)
        guard let frozen = try store.frozenRuns(date: "2017-11-18").first, let links = frozen.storyLinks,
            let unsubscribe = UnsubscribeSigner(secret: Array(key.utf8), listID: loaded.publication.listID)
        else { throw Bench.BenchError(message: "the run froze no story links") }
        let clicks = ClickSigner(unsubscribe)
        let paths = (0..<count).map { index -> String in
            let story = index % links.count + 1
            return "/l/2017-11-18/\(story)/\(clicks.signature(date: "2017-11-18", story: story, url: links[story - 1]))"
        }
        // A fresh store numbers its readers from 1.
        let ids = (1...count).map { String($0) }
        let site = DigestSite(
            workspace: workspace, signer: unsubscribe, store: store, preview: false, now: Date.init, log: { _ in })
        let server = try HTTPServer(host: "127.0.0.1", port: 0, responder: site, log: { _ in })
        let serving = Task { try await server.run() }
        defer {
            server.shutdown()
            serving.cancel()
        }
        try "\(paths.joined(separator: "\n"))\n".write(
            to: folder.appendingPathComponent("paths.txt"), atomically: true, encoding: .utf8)
        try "\(ids.map(unsubscribe.token(for:)).joined(separator: "\n"))\n".write(
            to: folder.appendingPathComponent("tokens.txt"), atomically: true, encoding: .utf8)
        let script = here.appendingPathComponent("Tests/Support/http_load.py").path
        let base = "http://127.0.0.1:\(server.port)"
        print("serve: \(count) story redirects and \(count) one-click unsubscribes, 16 connections, loopback")
        let redirects = try load(script, base, ["--paths", folder.appendingPathComponent("paths.txt").path])
        let unsubscribes = try load(script, base, ["--tokens", folder.appendingPathComponent("tokens.txt").path])
        let counted = try store.clicks(date: "2017-11-18").values.reduce(0) { $0 + $1.human }
        print("  redirects: \(format(redirects)) requests/s, \(counted) clicks counted")
        print("  one-click unsubscribes: \(format(unsubscribes)) requests/s")
        table.add(
            "serve: /l/ story redirects", figure: "req/s", ours: format(redirects),
            baseline: "one-click \(format(unsubscribes))", ratio: "\(format(redirects / unsubscribes))×",
            target: "(side by side)", met: nil)
    }

    /// Runs the load script and returns its requests per second.
    static func load(_ script: String, _ base: String, _ arguments: [String]) throws -> Double {
        let output = try runProgram(
            "/usr/bin/env", ["python3", script, "--base", base, "--connections", "16"] + arguments)
        guard let data = output.split(separator: "\n").last.map({ Data($0.utf8) }),
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let rate = object["rate"] as? Double
        else { throw Bench.BenchError(message: "the load script printed no rate: \(output)") }
        return rate
    }
}
