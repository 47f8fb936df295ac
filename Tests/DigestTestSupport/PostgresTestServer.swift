import DigestStore
import Foundation
import Testing

/// A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary folder, `postgres` on a free port of
/// loopback, trust authentication for the user `digest`. One cluster per test process, started on first use
/// and stopped when the process exits; one database per test (`database(_:)`).
public actor PostgresTestServer {
    public let port: Int
    let folder: URL
    let bin: String
    private var databases = 0

    /// The cluster of this test process.
    public static func shared() async throws -> PostgresTestServer {
        try await starter.value
    }

    private static let starter = Task { try await PostgresTestServer.start() }

    init(port: Int, folder: URL, bin: String) {
        self.port = port
        self.folder = folder
        self.bin = bin
    }

    /// Where Debian's PostgreSQL programs are (the newest version installed).
    static func binFolder() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw TestServerError("PostgreSQL is not installed: run .ci/install-deps test (Debian package postgresql)")
        }
        return "\(root)/\(version)/bin"
    }

    static func start() async throws -> PostgresTestServer {
        let bin = try binFolder()
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "digest-pg-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("data").path
        let log = folder.appendingPathComponent("server.log").path
        // PostgreSQL refuses to run as root: as root, the cluster belongs to the user postgres.
        let asRoot = getuid() == 0
        if asRoot {
            let chown = try await Subprocess.run("/bin/chown", ["postgres:postgres", folder.path])
            guard chown.status == 0 else { throw TestServerError("chown of \(folder.path): \(chown.stderr)") }
        }
        func command(_ program: String, _ arguments: [String]) async throws -> ProcessResult {
            asRoot
                ? try await Subprocess.run(
                    "/usr/sbin/runuser", ["-u", "postgres", "--", "\(bin)/\(program)"] + arguments)
                : try await Subprocess.run("\(bin)/\(program)", arguments)
        }
        let initdb = try await command(
            "initdb", ["-D", data, "-A", "trust", "-U", "digest", "-E", "UTF8", "--no-sync"])
        guard initdb.status == 0 else { throw TestServerError("initdb failed: \(initdb.stderr)") }
        let port = try freePort()
        // The server runs as a child of this process (not daemonized by pg_ctl, which would keep open whatever
        // descriptors it inherited, and with them other tests' pipes); its output goes to the log.
        let server = Process()
        let postgres = [
            "\(bin)/postgres", "-D", data, "-p", String(port), "-k", folder.path, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "max_connections=200",
        ]
        let argv = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + postgres : postgres
        server.executableURL = URL(fileURLWithPath: argv[0])
        server.arguments = Array(argv.dropFirst())
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        server.standardOutput = logHandle
        server.standardError = logHandle
        server.standardInput = FileHandle.nullDevice
        try server.run()
        var ready = false
        for _ in 0..<300 {
            let probe = try await Subprocess.run(
                "\(bin)/pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-U", "digest", "-d", "postgres"])
            if probe.status == 0 {
                ready = true
                break
            }
            guard server.isRunning else { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        guard ready else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestServerError("the PostgreSQL test server did not start:\n\(text)")
        }
        PostgresTestServer.stopAtExit(bin: bin, data: data, asRoot: asRoot, folder: folder.path)
        return PostgresTestServer(port: port, folder: folder, bin: bin)
    }

    nonisolated(unsafe) private static var stopCommand: [String] = []
    nonisolated(unsafe) private static var clusterFolder = ""

    /// Stops the cluster and removes its folder when the test process ends.
    private static func stopAtExit(bin: String, data: String, asRoot: Bool, folder: String) {
        let stop = ["\(bin)/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]
        stopCommand = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + stop : stop
        clusterFolder = folder
        atexit {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: PostgresTestServer.stopCommand[0])
            process.arguments = Array(PostgresTestServer.stopCommand.dropFirst())
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: PostgresTestServer.clusterFolder)
        }
    }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0 else { throw TestServerError("no free port on loopback") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A new empty database of its own, for one test.
    public func database(_ label: String = "t") async throws -> PostgresSettings {
        databases += 1
        let cleaned = label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30)
        let name = "\(cleaned)_\(databases)_\(UInt32.random(in: 0...UInt32.max))"
        let created = try await Subprocess.run(
            "\(bin)/createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "digest", name])
        guard created.status == 0 else { throw TestServerError("createdb \(name): \(created.stderr)") }
        return PostgresSettings(user: "digest", host: "127.0.0.1", port: port, database: name)
    }

    /// The URL of a database (no password: the cluster trusts loopback).
    public nonisolated func url(_ settings: PostgresSettings) -> String {
        "postgres://digest@127.0.0.1:\(port)/\(settings.database)"
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The two stores every store test runs against.
public enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    /// A new empty store of this kind.
    public func make(_ label: String = "store") async throws -> any ListStore {
        try await location(label).open()
    }

    /// Where a new empty store of this kind is.
    public func location(_ label: String = "store") async throws -> StoreLocation {
        switch self {
        case .sqlite:
            return .sqlite(try Repository.temporaryFolder(label).appendingPathComponent("digest.sqlite").path)
        case .postgres:
            return .postgres(try await PostgresTestServer.shared().database(label))
        }
    }
}

extension StoreLocation {
    /// Opens the store here (off the cooperative pool: opening migrates).
    public func open() async throws -> any ListStore {
        let location = self
        return try await offThePool { try Store.open(location) }
    }
}
