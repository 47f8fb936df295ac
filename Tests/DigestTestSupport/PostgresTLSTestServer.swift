import DigestCore
import Foundation

/// A throwaway PostgreSQL cluster that speaks only TLS, for the tests of `sslmode=` and `sslrootcert=`: `ssl = on`
/// with a certificate for `localhost` (and no other name) signed by a test CA made with openssl, and a
/// `pg_hba.conf` that takes TCP connections only over TLS (`hostssl … scram-sha-256`, `hostnossl … reject`). The
/// user `digest` has a password (`password`); the cluster's own Unix socket is trusted, for creating databases.
/// Its own cluster, not the shared one: start it in a test and `stop()` it at the end.
///
/// ```swift
/// let server = try await PostgresTLSTestServer.start()
/// let url = server.url(try await server.database("copy"))   // postgres://digest@localhost:PORT/…?sslmode=verify-full&sslrootcert=CA
/// // DIGEST_STORE_PASSWORD=server.password
/// await server.stop()
/// ```
public final class PostgresTLSTestServer: @unchecked Sendable {
    public let port: Int
    /// The CA that signed the server's certificate (PEM).
    public let caFile: String
    /// A CA that signed nothing this server presents: trusting only it must fail verification.
    public let otherCAFile: String
    /// The password of the user `digest` (SCRAM-SHA-256).
    public let password: String
    private let cluster: PostgresCluster
    private let process: Process
    private let lock = NSLock()
    private var stopped = false
    private var databases = 0

    private init(cluster: PostgresCluster, process: Process, caFile: String, otherCAFile: String, password: String) {
        self.cluster = cluster
        self.process = process
        self.port = cluster.port
        self.caFile = caFile
        self.otherCAFile = otherCAFile
        self.password = password
    }

    deinit {
        // A test that forgot `stop()`: end the server without waiting.
        if !stopped && process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Makes the CAs and the certificate, initializes the cluster and starts it; throws when PostgreSQL or openssl
    /// is missing or the server does not answer within thirty seconds.
    public static func start() async throws -> PostgresTLSTestServer {
        var files: (ca: String, other: String, certificate: String, key: String) = ("", "", "", "")
        let password = "tls-test-\(UUID().uuidString.prefix(8))"
        let cluster = try await PostgresCluster.create(label: "pgtls") { folder in
            let tls = folder.appendingPathComponent("tls")
            try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
            let ca = try await TestCertificateAuthority.make(in: tls)
            let other = try await TestCertificateAuthority.make(in: tls, name: "other-ca", subject: "another test CA")
            let leaf = try await ca.issue(in: tls, name: "server", subjectAltName: "DNS:localhost")
            files = (ca.certificate, other.certificate, leaf.certificate, leaf.key)
            // initdb's --pwfile stores the password as SCRAM-SHA-256 (PostgreSQL 14's default and later).
            // The Unix socket (this cluster's folder only) is trusted; TCP takes TLS and a password, or nothing.
            let hba = """
                local     all all                trust
                hostssl   all all 127.0.0.1/32   scram-sha-256
                hostssl   all all ::1/128        scram-sha-256
                hostnossl all all 0.0.0.0/0      reject
                hostnossl all all ::/0           reject

                """
            try hba.write(to: folder.appendingPathComponent("pg_hba.conf"), atomically: true, encoding: .utf8)
            try password.write(to: folder.appendingPathComponent("password"), atomically: true, encoding: .utf8)
            return ["--pwfile", folder.appendingPathComponent("password").path]
        }
        let process = try await cluster.launch([
            "-c", "ssl=on", "-c", "ssl_cert_file=\(files.certificate)", "-c", "ssl_key_file=\(files.key)",
            "-c", "hba_file=\(cluster.folder.appendingPathComponent("pg_hba.conf").path)",
            "-c", "listen_addresses=localhost", "-c", "log_connections=on",
        ])
        return PostgresTLSTestServer(
            cluster: cluster, process: process, caFile: files.ca, otherCAFile: files.other, password: password)
    }

    /// A new empty database (created over the trusted Unix socket); returns its name.
    public func database(_ label: String = "t") async throws -> String {
        let number = lock.withLock {
            databases += 1
            return databases
        }
        let name = "\(label.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(30))_\(number)"
        let created = try await cluster.client("createdb", [name])
        guard created.status == 0 else { throw TestServerError("createdb \(name): \(created.stderr)") }
        return name
    }

    /// `postgres://digest@HOST:PORT/DATABASE?OPTIONS`; by default verify-full against the CA that signed the
    /// server's certificate, to the name it carries.
    public func url(_ database: String, host: String = "localhost", options: String? = nil) -> String {
        "postgres://digest@\(host):\(port)/\(database)?\(options ?? "sslmode=verify-full&sslrootcert=\(caFile)")"
    }

    /// The server's log so far: with `log_connections`, one line per connection authorized, saying whether it
    /// was over TLS (`SSL enabled (protocol=…)`).
    public func log() -> String {
        (try? String(contentsOfFile: cluster.log, encoding: .utf8)) ?? ""
    }

    /// Stops the server (`pg_ctl stop -m fast`), waits for its process and removes the cluster's folder.
    public func stop() async {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        _ = try? await cluster.command("pg_ctl", ["-D", cluster.data, "-m", "fast", "-w", "stop"])
        let process = self.process
        _ = try? await offThePool { process.waitUntilExit() }
        try? FileManager.default.removeItem(at: cluster.folder)
    }
}

/// One throwaway cluster: its folder, `initdb`, and `postgres` run as a child of this process. As root, the
/// cluster belongs to the user postgres (PostgreSQL refuses to run as root).
struct PostgresCluster: Sendable {
    let bin: String
    let folder: URL
    let data: String
    let log: String
    let asRoot: Bool
    let port: Int

    /// A folder with an initialized cluster for the user `digest` (trust, unless `prepare`'s initdb arguments and
    /// files say otherwise). `prepare` writes files into the folder before it is given to postgres and returns
    /// initdb arguments.
    static func create(
        label: String, prepare: (URL) async throws -> [String] = { _ in [] }
    ) async throws -> PostgresCluster {
        let bin = try PostgresTestServer.binFolder()
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "digest-\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let extra = try await prepare(folder)
        let asRoot = getuid() == 0
        if asRoot {
            let chown = try await Subprocess.run("/bin/chown", ["-R", "postgres:postgres", folder.path])
            guard chown.status == 0 else { throw TestServerError("chown of \(folder.path): \(chown.stderr)") }
        }
        let cluster = PostgresCluster(
            bin: bin, folder: folder, data: folder.appendingPathComponent("data").path,
            log: folder.appendingPathComponent("server.log").path, asRoot: asRoot,
            port: try PostgresTestServer.freePort())
        let initdb = try await cluster.command(
            "initdb", ["-D", cluster.data, "-A", "trust", "-U", "digest", "-E", "UTF8", "--no-sync"] + extra)
        guard initdb.status == 0 else { throw TestServerError("initdb failed: \(initdb.stderr)") }
        return cluster
    }

    /// Runs one of PostgreSQL's programs (as postgres when root).
    func command(_ program: String, _ arguments: [String]) async throws -> ProcessResult {
        asRoot
            ? try await Subprocess.run("/usr/sbin/runuser", ["-u", "postgres", "--", "\(bin)/\(program)"] + arguments)
            : try await Subprocess.run("\(bin)/\(program)", arguments)
    }

    /// Runs a client program (psql, createdb) as `digest` over the cluster's Unix socket.
    func client(_ program: String, _ arguments: [String]) async throws -> ProcessResult {
        try await Subprocess.run(
            "\(bin)/\(program)", ["-h", folder.path, "-p", String(port), "-U", "digest"] + arguments)
    }

    /// Starts `postgres` on the cluster's port, its socket in the folder, with `options` after the common ones
    /// (later `-c` settings win), and waits until it answers on loopback.
    func launch(_ options: [String]) async throws -> Process {
        // The server runs as a child of this process (not daemonized by pg_ctl, which would keep open whatever
        // descriptors it inherited, and with them other tests' pipes); its output goes to the log.
        let server = Process()
        let postgres =
            [
                "\(bin)/postgres", "-D", data, "-p", String(port), "-k", folder.path, "-c",
                "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200",
            ] + options
        let argv = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + postgres : postgres
        server.executableURL = URL(fileURLWithPath: argv[0])
        server.arguments = Array(argv.dropFirst())
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        server.standardOutput = logHandle
        server.standardError = logHandle
        server.standardInput = FileHandle.nullDevice
        try server.run()
        for _ in 0..<300 {
            let probe = try await Subprocess.run(
                "\(bin)/pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-U", "digest", "-d", "postgres"])
            if probe.status == 0 { return server }
            guard server.isRunning else { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        if server.isRunning { kill(server.processIdentifier, SIGTERM) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw TestServerError("the PostgreSQL test server did not start:\n\(text)")
    }
}
