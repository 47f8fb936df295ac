import DigestTestSupport
import Foundation
import Testing

/// The `digest` binary against a PostgreSQL server that speaks only TLS (a cluster of its own per test, its
/// certificate for `localhost` signed by a test CA): `sslmode=verify-full` with the right CA works and is TLS;
/// the wrong CA, the wrong name and plaintext are refused with a message that says so; the password comes from
/// `DIGEST_STORE_PASSWORD` or its file, never from the URL.
@Suite("The PostgreSQL store over TLS", .serialized)
struct PostgresTLSTests {
    let cli = DigestBinary()

    /// Runs `body` with a TLS-only server of its own, stopped at the end whatever happens.
    func withServer(_ body: (PostgresTLSTestServer) async throws -> Void) async throws {
        let server = try await PostgresTLSTestServer.start()
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// A copy of the sample workspace with three readers in its SQLite store.
    func sqliteWorkspace() async throws -> URL {
        try await cli.workspaceCopy(readers: ["ada@example.org", "ben@example.org", "cy@example.org"])
    }

    /// Points `store:` in the workspace's publication.yaml at `url`.
    func setStore(_ url: String, in workspace: URL) throws {
        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8)
        try (text + "store: \(url)\n").write(to: config, atomically: true, encoding: .utf8)
    }

    /// The server's log lines for connections digest made (`application_name=digest`) to `database`.
    func digestConnections(_ server: PostgresTLSTestServer, database: String) -> [Substring] {
        server.log().split(separator: "\n").filter {
            $0.contains("connection authorized: user=digest database=\(database) ")
                && $0.contains("application_name=digest")
        }
    }

    @Test func verifyFullWithTheServersCAMovesTheListAndEveryConnectionIsTLS() async throws {
        try await withServer { server in
            let workspace = try await sqliteWorkspace()
            let database = try await server.database("moved")
            let url = server.url(database)
            let copied = try await cli.digest(
                ["store", "copy", "--to", url], in: workspace,
                environment: ["DIGEST_STORE_PASSWORD": server.password])
            #expect(copied.status == 0, "\(copied.stdout)\(copied.stderr)")
            #expect(copied.stdout.contains("subscriber: 3 rows"), "\(copied.stdout)")

            try setStore(url, in: workspace)
            let passwordFile = workspace.appendingPathComponent("store-password")
            try server.password.write(to: passwordFile, atomically: true, encoding: .utf8)
            let check = try await cli.digest(
                ["store", "check"], in: workspace, environment: ["DIGEST_STORE_PASSWORD_FILE": passwordFile.path])
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("PostgreSQL") && check.stdout.contains("current"), "\(check.stdout)")
            #expect(!check.stdout.contains(server.password) && !check.stderr.contains(server.password))
            let listed = try await cli.digest(
                ["subscribers", "list"], in: workspace, environment: ["DIGEST_STORE_PASSWORD": server.password])
            #expect(listed.status == 0 && listed.stdout.contains("ben@example.org"), "\(listed.stdout)\(listed.stderr)")

            // What the server saw: digest's connections, each one over TLS.
            let connections = digestConnections(server, database: database)
            #expect(connections.count >= 3, "\(server.log())")
            #expect(connections.allSatisfy { $0.contains("SSL enabled (protocol=TLS") }, "\(connections)")
        }
    }

    @Test func verifyFullWithACAThatDidNotSignTheServersCertificateIsRefused() async throws {
        try await withServer { server in
            let workspace = try await sqliteWorkspace()
            let database = try await server.database("otherca")
            let url = server.url(database, options: "sslmode=verify-full&sslrootcert=\(server.otherCAFile)")
            try setStore(url, in: workspace)
            let check = try await cli.digest(
                ["store", "check"], in: workspace, environment: ["DIGEST_STORE_PASSWORD": server.password])
            #expect(check.status != 0)
            #expect(check.stderr.contains("postgres://digest@localhost:\(server.port)/\(database)"), "\(check.stderr)")
            #expect(check.stderr.contains("certificate verify failed"), "\(check.stderr)")
            #expect(
                check.stderr.contains("fix: the server's certificate could not be verified: set sslrootcert="),
                "the message says what to change: \(check.stderr)")
            #expect(!check.stderr.contains(server.password))
            print("wrong CA: \(check.stderr)")
            #expect(digestConnections(server, database: database).isEmpty)
        }
    }

    @Test func verifyFullToANameTheCertificateDoesNotCarryIsRefused() async throws {
        try await withServer { server in
            let workspace = try await sqliteWorkspace()
            let database = try await server.database("wrongname")
            // The certificate names localhost only; 127.0.0.1 is the same server under a name it does not carry.
            let copied = try await cli.digest(
                ["store", "copy", "--to", server.url(database, host: "127.0.0.1")], in: workspace,
                environment: ["DIGEST_STORE_PASSWORD": server.password])
            #expect(copied.status != 0)
            // The URL (without the password) once: the message stays short enough to read.
            #expect(
                copied.stderr.components(separatedBy: "postgres://digest@127.0.0.1:\(server.port)/\(database)").count
                    == 2, "\(copied.stderr)")
            #expect(copied.stderr.contains("does not match host name \"127.0.0.1\""), "\(copied.stderr)")
            #expect(copied.stderr.contains("fix: write the host as the server's certificate names it"))
            print("wrong name: \(copied.stderr)")
            #expect(digestConnections(server, database: database).isEmpty)
        }
    }

    @Test func plaintextIsRefusedByAServerThatRequiresTLSAndRequireWorks() async throws {
        try await withServer { server in
            let workspace = try await sqliteWorkspace()
            let database = try await server.database("plain")
            let plain = try await cli.digest(
                ["store", "copy", "--to", server.url(database, options: "sslmode=disable")], in: workspace,
                environment: ["DIGEST_STORE_PASSWORD": server.password])
            #expect(plain.status != 0)
            #expect(plain.stderr.contains("no encryption"), "\(plain.stderr)")
            #expect(plain.stderr.contains("fix: the server takes only encrypted connections"), "\(plain.stderr)")
            print("plaintext: \(plain.stderr)")

            // sslmode=require: encrypted without checking the certificate; the server takes it.
            let required = try await cli.digest(
                ["store", "copy", "--to", server.url(database, options: "sslmode=require")], in: workspace,
                environment: ["DIGEST_STORE_PASSWORD": server.password])
            #expect(required.status == 0, "\(required.stdout)\(required.stderr)")
            let connections = digestConnections(server, database: database)
            #expect(!connections.isEmpty && connections.allSatisfy { $0.contains("SSL enabled") }, "\(connections)")
        }
    }

    @Test func thePasswordComesFromTheEnvironmentNeverFromTheURL() async throws {
        try await withServer { server in
            let workspace = try await sqliteWorkspace()
            let database = try await server.database("password")
            let url = server.url(database)

            let none = try await cli.digest(["store", "copy", "--to", url], in: workspace)
            #expect(none.status != 0)
            #expect(none.stderr.contains("password"), "\(none.stderr)")

            let wrong = try await cli.digest(
                ["store", "copy", "--to", url], in: workspace,
                environment: ["DIGEST_STORE_PASSWORD": "not-\(server.password)"])
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
            #expect(!wrong.stderr.contains("not-\(server.password)"))

            let inURL = url.replacingOccurrences(of: "digest@", with: "digest:\(server.password)@")
            let refused = try await cli.digest(["store", "copy", "--to", inURL], in: workspace)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("DIGEST_STORE_PASSWORD"), "\(refused.stderr)")
            #expect(!refused.stderr.contains(server.password))
            #expect(digestConnections(server, database: database).isEmpty)
        }
    }
}
