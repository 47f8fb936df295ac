import DigestCore
import DigestStore
import Foundation

/// `digest store check` and `digest store copy`: which store a workspace uses, and moving it.
public enum StoreVerbs {
    /// What `store check` found.
    public struct Check: Sendable, Equatable {
        /// `SQLite` or `PostgreSQL`.
        public var kind: String
        /// The file's path or the URL (never with a password).
        public var location: String
        /// False when the store could not be opened (the problem says why), or the file does not exist yet.
        public var reachable: Bool
        public var problem: String?
        /// The schema version the store is at, and the one this digest knows.
        public var version: Int
        public var current: Int
        public var subscribers: Int

        /// True when the store is reachable and its schema is what this digest writes.
        public var isCurrent: Bool { reachable && version == current }
    }

    /// Says which store the workspace uses, whether it can be reached and whether its schema is current,
    /// changing nothing (no migration).
    public static func check(workspace explicit: String?, environment: DigestEnvironment) throws -> Check {
        let workspace = try environment.workspace(explicit)
        let location = try environment.storeLocation(workspace)
        var check = Check(
            kind: location.kind, location: location.description, reachable: false, problem: nil, version: 0,
            current: Store.schemaVersion, subscribers: 0)
        if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
            check.problem = "the file does not exist yet: the first command that needs the list creates it"
            return check
        }
        do {
            let store = try Store.open(location, migrate: false)
            check.version = try store.schemaVersion()
            check.reachable = true
            if check.version > 0 { check.subscribers = try store.counts().values.reduce(0, +) }
        } catch {
            check.problem = "\(error)"
        }
        return check
    }

    /// What `store copy` did.
    public struct Copy: Sendable, Equatable {
        public var from: String
        public var to: String
        /// Rows per table, as checked on the target.
        public var counts: [String: Int]
    }

    /// Copies everything in the workspace's store to `target` (a path, relative to the current folder, or a
    /// PostgreSQL URL whose password is `DIGEST_STORE_TARGET_PASSWORD` or else `DIGEST_STORE_PASSWORD`), in
    /// one transaction on the target, with the rows per table checked. Refuses a target that holds any row.
    public static func copy(workspace explicit: String?, to target: String, environment: DigestEnvironment) throws
        -> Copy
    {
        let workspace = try environment.workspace(explicit)
        let from = try environment.storeLocation(workspace)
        let hasTargetPassword = ["DIGEST_STORE_TARGET_PASSWORD", "DIGEST_STORE_TARGET_PASSWORD_FILE"].contains {
            !(environment.variables[$0] ?? "").isEmpty
        }
        let to = try environment.storeLocation(
            target, origin: "--to", workspace: workspace, base: environment.currentDirectory,
            passwordVariable: hasTargetPassword ? "DIGEST_STORE_TARGET_PASSWORD" : "DIGEST_STORE_PASSWORD")
        if to.description == from.description {
            throw WorkflowError(
                "--to names the store the workspace uses already (\(from.description))\n"
                    + "  fix: name another file or database", kind: .usage)
        }
        let source: any ListStore
        let destination: any ListStore
        do {
            source = try Store.open(from)
        } catch {
            throw WorkflowError.cannotOpen("the subscriber database", from, error)
        }
        do {
            destination = try Store.open(to)
        } catch {
            throw WorkflowError.cannotOpen("the target store", to, error)
        }
        let existing = try destination.tableCounts().filter { $0.value > 0 }
        if let table = existing.keys.sorted().first {
            throw WorkflowError(
                "the target store \(to.description) is not empty (its table \(table) has \(existing[table] ?? 0) rows)\n"
                    + "  fix: copy into a new, empty database or file", kind: .badInput)
        }
        do {
            let tables = try source.exportTables()
            try destination.importTables(tables)
            let counts = try destination.tableCounts()
            for table in tables where counts[table.name] != table.rows.count {
                throw WorkflowError(
                    "the copy of \(table.name) has \(counts[table.name] ?? 0) rows on the target, not \(table.rows.count)"
                )
            }
            return Copy(from: from.description, to: to.description, counts: counts)
        } catch let error as WorkflowError {
            throw error
        } catch {
            throw WorkflowError("the copy to \(to.description) failed, and nothing was copied: \(error)")
        }
    }
}

extension WorkflowError {
    /// `cannot open WHAT LOCATION: ERROR`, naming the location once: a PostgreSQL connection error names the store
    /// URL already (so that a connection opened later, mid-run, says which store too).
    static func cannotOpen(_ what: String, _ location: StoreLocation, _ error: any Error) -> WorkflowError {
        let text = "\(error)"
        if text.contains(location.description) { return WorkflowError("cannot open \(what): \(text)") }
        return WorkflowError("cannot open \(what) \(location.description): \(text)")
    }
}
