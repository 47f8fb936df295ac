import DigestCore
import DigestStore
import Foundation
import Testing

/// The built `digest` binary, run as an editor would, and the workspaces the command-line tests run it in.
/// Every suite that needs the real process boundary (exit codes, signals, terminals) goes through here.
public struct DigestBinary: Sendable {
    public static let path = Repository.root.appendingPathComponent(".build/debug/digest").path
    /// The unsubscribe key `digest serve` runs with in the tests.
    public static let serveKey = "serve-test-key-0123456789abcdef"

    public init() {}

    /// Runs `digest arguments` in `directory` with the test's environment (no colour or workspace settings
    /// leaking in from the caller's) plus `extra`.
    public func digest(
        _ arguments: [String], in directory: URL = Repository.root, environment extra: [String: String] = [:]
    ) async throws -> ProcessResult {
        guard FileManager.default.isExecutableFile(atPath: Self.path) else {
            throw SetupFailure(
                message: "\(Self.path) is missing: build it first (make test runs swift build before swift test)")
        }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "NO_COLOR")
        environment.removeValue(forKey: "DIGEST_WORKSPACE")
        environment.merge(extra) { $1 }
        return try await Subprocess.run(Self.path, arguments, environment: environment, directory: directory)
    }

    /// A copy of the sample workspace to break things in: its committed files only (no approval a
    /// `digest check` of the repository's own sample left behind).
    public func workspaceCopy() throws -> URL {
        let folder = try Repository.temporaryFolder("workspace")
        for name in ["publication.yaml", "Templates", "Editions"] {
            try FileManager.default.copyItem(
                at: Repository.root.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let editions = folder.appendingPathComponent("Editions")
        for date in try FileManager.default.contentsOfDirectory(atPath: editions.path) {
            try? FileManager.default.removeItem(at: editions.appendingPathComponent(date).appendingPathComponent(".checked"))
        }
        return folder
    }

    /// A copy of the sample workspace with `readers` imported into its own store.
    public func workspaceCopy(readers: [String]) async throws -> URL {
        let workspace = try workspaceCopy()
        let csv = workspace.appendingPathComponent("readers.csv")
        try ("email,name\n" + readers.map { "\($0),Reader" }.joined(separator: "\n") + "\n").write(
            to: csv, atomically: true, encoding: .utf8)
        let result = try await digest(["subscribers", "import", "readers.csv", "--status", "active"], in: workspace)
        #expect(result.status == 0, "\(result.stderr)")
        return workspace
    }

    /// `digest serve` started in `workspace` with `arguments` and the unsubscribe key.
    public func serve(
        _ workspace: URL, _ arguments: [String] = [], key: String? = DigestBinary.serveKey,
        environment extra: [String: String] = [:]
    ) throws -> ServeProcess {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "DIGEST_WORKSPACE")
        environment.removeValue(forKey: "DIGEST_DATABASE")
        environment.removeValue(forKey: "DIGEST_UNSUBSCRIBE_KEY_FILE")
        environment["DIGEST_UNSUBSCRIBE_KEY"] = key
        environment.merge(extra) { $1 }
        return try ServeProcess(binary: Self.path, arguments: arguments, environment: environment, directory: workspace)
    }

    /// A reader's status in the workspace's store, or nil when not on the list.
    public func status(of address: String, in workspace: URL) throws -> String? {
        let store = try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
        guard let email = EmailAddress(address) else { return nil }
        return try store.subscriber(email)?.status.rawValue
    }

    /// The one-click token in the List-Unsubscribe header of the message `digest send --dry-run` wrote for
    /// `reader`.
    public func tokenFromASentMessage(to reader: String, workspace: URL) async throws -> String {
        let maildir = try Repository.temporaryFolder("serve-maildir")
        let sent = try await digest(
            ["send", "2017-11-18", "--dry-run", maildir.path], in: workspace,
            environment: ["DIGEST_UNSUBSCRIBE_KEY": Self.serveKey])
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        let folder = maildir.appendingPathComponent("new")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let head = String(text[..<(text.range(of: "\r\n\r\n")?.lowerBound ?? text.endIndex)])
                .replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ")
            let lines = head.components(separatedBy: "\r\n")
            guard lines.contains(where: { $0.hasPrefix("To:") && $0.contains(reader) }) else { continue }
            #expect(lines.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
            let header = try #require(lines.first { $0.hasPrefix("List-Unsubscribe:") })
            let start = try #require(header.range(of: "/newsletter/unsubscribe?t="))
            return String(header[start.upperBound...].prefix { $0 != ">" })
        }
        throw SetupFailure(message: "no message to \(reader) in \(folder.path)")
    }
}
