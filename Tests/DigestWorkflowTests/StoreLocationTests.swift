import DigestCore
import DigestStore
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

@Suite("Where the store is")
struct StoreLocationTests {
    /// A workspace whose publication.yaml is the sample's with `extra` appended.
    func workspace(_ extra: String = "") throws -> Workspace {
        let folder = try Repository.temporaryFolder("location")
        let text = try String(contentsOf: Repository.sampleWorkspace.configFile, encoding: .utf8)
        try (text + extra).write(
            to: folder.appendingPathComponent("publication.yaml"), atomically: true, encoding: .utf8)
        return Workspace(root: folder)
    }

    func environment(_ variables: [String: String] = [:]) -> DigestEnvironment {
        DigestEnvironment(variables: variables, currentDirectory: URL(fileURLWithPath: "/tmp"))
    }

    @Test func withoutStoreTheListIsDigestSqliteBesidePublicationYaml() throws {
        let workspace = try workspace()
        #expect(
            try environment().storeLocation(workspace)
                == .sqlite(workspace.root.appendingPathComponent("digest.sqlite").path))
        #expect(
            try environment(["DIGEST_DATABASE": "/srv/list.sqlite"]).storeLocation(workspace)
                == .sqlite("/srv/list.sqlite"))
    }

    @Test func aPathIsTheSQLiteFileRelativeToTheWorkspace() throws {
        let workspace = try workspace("store: data/list.sqlite\n")
        #expect(try workspace.loadPublication().store == "data/list.sqlite")
        #expect(
            try environment().storeLocation(workspace)
                == .sqlite(workspace.root.appendingPathComponent("data/list.sqlite").standardizedFileURL.path))
    }

    @Test func aPostgresURLTakesItsPasswordFromTheEnvironmentOrAFile() throws {
        let workspace = try workspace("store: postgres://digest@db.example.com:6543/news?sslmode=verify-full\n")
        guard case .postgres(let bare) = try environment().storeLocation(workspace) else {
            Issue.record("a postgres:// store is not PostgreSQL")
            return
        }
        #expect(bare.host == "db.example.com" && bare.port == 6543 && bare.database == "news" && bare.user == "digest")
        #expect(bare.sslMode == "verify-full" && bare.password == nil)
        #expect(bare.description == "postgres://digest@db.example.com:6543/news?sslmode=verify-full")
        let file = workspace.root.appendingPathComponent("pw")
        try "s3cret\n".write(to: file, atomically: true, encoding: .utf8)
        guard
            case .postgres(let withFile) = try environment(["DIGEST_STORE_PASSWORD_FILE": file.path]).storeLocation(
                workspace)
        else { return }
        #expect(withFile.password == "s3cret")
        // The variable wins over store:, and postgresql:// is the same.
        guard
            case .postgres(let fromVariable) = try environment([
                "DIGEST_STORE_URL": "postgresql://ed@other/list", "DIGEST_STORE_PASSWORD": "pw",
            ]).storeLocation(workspace)
        else { return }
        #expect(fromVariable.host == "other" && fromVariable.port == 5432 && fromVariable.password == "pw")
        #expect(!fromVariable.description.contains("pw"))
    }

    @Test func aPasswordInTheURLIsRefusedAndNeverRepeated() throws {
        let problems = #expect(throws: Problems.self) {
            _ = try Publication.decode(
                try String(contentsOf: Repository.sampleWorkspace.configFile, encoding: .utf8)
                    + "store: postgres://digest:hunter2@db/news\n", file: "publication.yaml")
        }
        let text = problems.map { "\($0)" } ?? ""
        #expect(text.contains("publication.yaml:") && text.contains("DIGEST_STORE_PASSWORD"))
        #expect(!text.contains("hunter2"))
        let error = #expect(throws: WorkflowError.self) {
            try environment(["DIGEST_STORE_URL": "postgres://digest:hunter2@db/news"]).storeLocation(try workspace())
        }
        #expect(error?.message.contains("DIGEST_STORE_PASSWORD") == true)
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func anUnknownSchemeOrOptionIsRefusedWithWhatToWrite() throws {
        #expect(throws: Problems.self) {
            _ = try Publication.decode(
                try String(contentsOf: Repository.sampleWorkspace.configFile, encoding: .utf8)
                    + "store: mysql://db/news\n", file: "publication.yaml")
        }
        let error = #expect(throws: WorkflowError.self) {
            try environment(["DIGEST_STORE_URL": "postgres://digest@db/news?sslmode=sometimes"]).storeLocation(
                try workspace())
        }
        #expect(error?.message.contains("verify-full") == true)
    }

    @Test func storeCheckSaysWhichStoreAndWhetherItsSchemaIsCurrent() async throws {
        let workspace = try workspace()
        let environment = environment()
        let missing = try StoreVerbs.check(workspace: workspace.root.path, environment: environment)
        #expect(missing.kind == "SQLite" && !missing.reachable)
        _ = try environment.openStore(workspace)
        let sqlite = try StoreVerbs.check(workspace: workspace.root.path, environment: environment)
        #expect(sqlite.isCurrent && sqlite.version == Store.schemaVersion)
        let server = try await PostgresTestServer.shared()
        let database = try await server.database("check")
        let postgres = DigestEnvironment(
            variables: ["DIGEST_STORE_URL": server.url(database)], currentDirectory: URL(fileURLWithPath: "/tmp"))
        let empty = try await offThePool { try StoreVerbs.check(workspace: workspace.root.path, environment: postgres) }
        // Reachable, nothing migrated yet: behind.
        #expect(empty.kind == "PostgreSQL" && empty.reachable && empty.version == 0 && !empty.isCurrent)
        let copy = try await offThePool {
            try StoreVerbs.copy(workspace: workspace.root.path, to: server.url(database), environment: environment)
        }
        #expect(copy.counts["subscriber"] == 0)
        let current = try await offThePool {
            try StoreVerbs.check(workspace: workspace.root.path, environment: postgres)
        }
        #expect(current.isCurrent)
        let unreachable = DigestEnvironment(
            variables: ["DIGEST_STORE_URL": "postgres://digest@127.0.0.1:1/none"],
            currentDirectory: URL(fileURLWithPath: "/tmp"))
        let down = try await offThePool {
            try StoreVerbs.check(workspace: workspace.root.path, environment: unreachable)
        }
        #expect(!down.reachable && down.problem?.contains("127.0.0.1") == true)
    }

    @Test func storeCopyRefusesATargetWithRows() async throws {
        let workspace = try workspace()
        let environment = environment()
        let store = try environment.openStore(workspace)
        _ = try store.add(EmailAddress("ana@example.org")!, name: "Ana", source: "add", now: Date())
        let target = workspace.root.appendingPathComponent("copy.sqlite").path
        let copy = try StoreVerbs.copy(workspace: workspace.root.path, to: target, environment: environment)
        #expect(copy.counts["subscriber"] == 1)
        let error = #expect(throws: WorkflowError.self) {
            try StoreVerbs.copy(workspace: workspace.root.path, to: target, environment: environment)
        }
        #expect(error?.message.contains("not empty") == true)
    }
}
