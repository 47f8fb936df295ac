import Foundation

/// A real SMTP server (Python's aiosmtpd, run by Tests/Support/smtp_server.py) on a free loopback port,
/// which stores every message it accepts as a file for the test to inspect.
public final class SMTPTestServer: @unchecked Sendable {
    public let port: Int
    public let mailbox: URL
    /// With `envelopesOnly`, the file of one line per accepted message: its Message-ID and recipients.
    public let envelopes: URL?
    private let process: Process

    /// Starts the server. `reject` lists recipients answered with 550 at RCPT; `deferred` with 451.
    /// `envelopesOnly` (volume tests): no message is stored, only one line per message in `envelopes`,
    /// read by `recipientCounts()`; `received()` is then empty.
    public init(
        reject: [String] = [], deferred: [String] = [], dropData: [String] = [],
        tls: (cert: String, key: String)? = nil,
        auth: String? = nil,
        envelopesOnly: Bool = false
    ) throws {
        let mailbox = try Repository.temporaryFolder("smtp-mailbox")
        let script = Repository.root.appendingPathComponent("Tests/Support/smtp_server.py").path
        var arguments = [script, "--mailbox", mailbox.path]
        let envelopes = envelopesOnly ? mailbox.appendingPathComponent("envelopes.txt") : nil
        if let envelopes { arguments += ["--envelopes-only", envelopes.path] }
        for address in reject { arguments += ["--reject", address] }
        for address in deferred { arguments += ["--defer", address] }
        for address in dropData { arguments += ["--drop-data", address] }
        if let tls { arguments += ["--tls-cert", tls.cert, "--tls-key", tls.key] }
        if let auth { arguments += ["--auth", auth] }
        let (process, port) = try PythonServer.start(arguments, what: "the test SMTP server (is aiosmtpd installed?)")
        self.port = port
        self.mailbox = mailbox
        self.envelopes = envelopes
        self.process = process
    }

    deinit {
        stop()
    }

    public func stop() {
        PythonServer.stop(process)
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// How many messages each envelope recipient got, from the envelopes file with `envelopesOnly`,
    /// otherwise from the stored messages.
    public func recipientCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        guard let envelopes else {
            for message in try received() {
                for recipient in message.recipients { counts[recipient, default: 0] += 1 }
            }
            return counts
        }
        for line in try envelopeLines(envelopes) {
            for recipient in line.split(separator: " ").dropFirst() { counts[String(recipient), default: 0] += 1 }
        }
        return counts
    }

    /// How many messages the server has accepted so far (with `envelopesOnly`, its finished lines: cheap
    /// enough to ask several times a second of a file of 100,000).
    public func acceptedCount() throws -> Int {
        guard let envelopes else { return try received().count }
        guard FileManager.default.fileExists(atPath: envelopes.path) else { return 0 }
        let data = try Data(contentsOf: envelopes)
        return data.withUnsafeBytes { bytes in
            guard var cursor = bytes.baseAddress else { return 0 }
            let end = cursor + bytes.count
            var lines = 0
            while cursor < end, let newline = memchr(cursor, 0x0A, end - cursor) {
                lines += 1
                cursor = UnsafeRawPointer(newline) + 1
            }
            return lines
        }
    }

    private func envelopeLines(_ file: URL) throws -> [Substring] {
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        let text = try String(contentsOf: file, encoding: .utf8)
        // A line is written whole, in one write(2), before the 250; the last may still be unfinished
        // while messages arrive, and is not counted until its newline is there.
        guard let end = text.lastIndex(of: "\n") else { return [] }
        return text[..<end].split(separator: "\n")
    }

    /// The accepted messages, in arrival order: each `.eml` with the envelope recipients from its `.json`.
    public func received() throws -> [(recipients: [String], file: URL)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: mailbox.path).filter { $0.hasSuffix(".eml") }
            .sorted()
        return try names.map { name in
            let file = mailbox.appendingPathComponent(name)
            let envelope = file.deletingPathExtension().appendingPathExtension("json")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: envelope)) as? [String: Any]
            return ((json?["rcpt_tos"] as? [String]) ?? [], file)
        }
    }
}

public struct SetupFailure: Error, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Parses messages with Python's `email` package (policy.default), as a strict receiver would.
public struct ParsedMessage: Decodable, Sendable {
    public var defects: [String]
    public var subject: String
    public var from: String
    public var to: String
    /// The display name of the first To address, decoded.
    public var toName: String
    public var contentType: String
    public var partTypes: [String]
    public var text: String
    public var html: String
    public var longestLine: Int
    public var bareLineFeeds: Int
    public var nonASCIIBytes: Int
    public var headerNames: [String]

    enum CodingKeys: String, CodingKey {
        case defects, subject, from, to, text, html
        case toName = "to_name"
        case contentType = "content_type"
        case partTypes = "part_types"
        case longestLine = "longest_line"
        case bareLineFeeds = "bare_line_feeds"
        case nonASCIIBytes = "non_ascii_bytes"
        case headerNames = "header_names"
    }

    public static func parse(_ files: [URL]) async throws -> [ParsedMessage] {
        let script = Repository.root.appendingPathComponent("Tests/Support/inspect_messages.py").path
        let result = try await Subprocess.run(Subprocess.python, [script] + files.map(\.path))
        guard result.status == 0 else {
            throw SetupFailure(message: "inspect_messages.py failed: \(result.stderr)")
        }
        return try JSONDecoder().decode([ParsedMessage].self, from: Data(result.stdout.utf8))
    }
}

/// Runs Tests/Support/verify_dkim.py (dkimpy) with the given DNS records (`name=TXT value`) instead of
/// real DNS; one list of results per file, one result per signature.
public enum DKIMVerification {
    public static func verify(_ files: [URL], records: [String]) async throws -> [[Bool]] {
        let script = Repository.root.appendingPathComponent("Tests/Support/verify_dkim.py").path
        let result = try await Subprocess.run(
            Subprocess.python, [script] + records.flatMap { ["--record", $0] } + files.map(\.path))
        guard result.status == 0 else {
            throw SetupFailure(message: "verify_dkim.py failed (is dkimpy installed?): \(result.stderr)")
        }
        return try JSONDecoder().decode([[Bool]].self, from: Data(result.stdout.utf8))
    }
}

/// Starts the Python servers of Tests/Support: each prints "READY <port>" once it listens.
public enum PythonServer {
    public static func start(_ arguments: [String], what: String) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Subprocess.python)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer += chunk
        }
        let line = String(decoding: buffer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) else {
            process.terminate()
            throw SetupFailure(message: "\(what) did not start (got '\(line)')")
        }
        return (process, port)
    }

    /// Stops a server: SIGTERM, then SIGKILL if it does not go within two seconds.
    public static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Tests/Support/feed_server.py: the feed fixtures over real HTTP on loopback.
public final class FeedTestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public init() throws {
        let script = Repository.root.appendingPathComponent("Tests/Support/feed_server.py").path
        let fixtures = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures").path
        (process, port) = try PythonServer.start([script, "--fixtures", fixtures], what: "the feed test server")
    }

    deinit {
        PythonServer.stop(process)
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)/\(path)" }

    /// How many requests asked for `path`, and how many were answered 304 in all.
    public func hits() async throws -> (perPath: [String: Int], notModified: Int) {
        let result = try await Subprocess.run(
            Subprocess.python,
            [
                "-c",
                "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
                url("hits"),
            ])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return ((json?["hits"] as? [String: Int]) ?? [:], (json?["not_modified"] as? Int) ?? 0)
    }
}
