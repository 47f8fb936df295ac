import DigestCore
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
        let cluster = try await PostgresCluster.create(label: "pg")
        _ = try await cluster.launch([])
        PostgresTestServer.stopAtExit(
            bin: cluster.bin, data: cluster.data, asRoot: cluster.asRoot, folder: cluster.folder.path)
        return PostgresTestServer(port: cluster.port, folder: cluster.folder, bin: cluster.bin)
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
