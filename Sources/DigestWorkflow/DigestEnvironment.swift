import DigestCore
import DigestMail
import DigestStore
import Foundation

/// Everything the verbs take from the world: the clock, message identifiers, environment variables and
/// the folder the editor is in. `digest` builds the live one once; tests build their own.
public struct DigestEnvironment: Sendable {
    public var now: @Sendable () -> Date
    public var identity: any MessageIdentity
    public var variables: [String: String]
    public var currentDirectory: URL

    public init(
        now: @escaping @Sendable () -> Date = Date.init, identity: any MessageIdentity = RandomMessageIdentity(),
        variables: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) {
        self.now = now
        self.identity = identity
        self.variables = variables
        self.currentDirectory = currentDirectory
    }

    /// The workspace: `explicit` (the `--workspace` option), else `DIGEST_WORKSPACE`, else the nearest
    /// folder upwards from the current one that has a `publication.yaml`.
    public func workspace(_ explicit: String?) throws -> Workspace {
        if let path = explicit ?? variables["DIGEST_WORKSPACE"] {
            return Workspace(root: self.path(path))
        }
        var folder = currentDirectory.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("publication.yaml").path) {
                return Workspace(root: folder)
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        throw Problem(
            file: "publication.yaml",
            message: "no publication.yaml here or in any folder above \(currentDirectory.path)",
            fix: "run digest inside a workspace, or pass --workspace DIR")
    }

    /// A path the editor typed, relative to the current folder unless absolute.
    public func path(_ typed: String) -> URL {
        URL(fileURLWithPath: typed, relativeTo: currentDirectory).standardizedFileURL
    }

    /// The date an edition command works on: the one given, else today in the publication's zone.
    public func editionDate(_ given: String?, publication: Publication) throws -> EditionDate {
        guard let given, given != "today" else { return publication.today(at: now()) }
        guard let date = EditionDate(given) else {
            // A wrong command line, not a wrong file: the usage status (64).
            throw WorkflowError(
                "'\(given)' is not a date\n  fix: write it as YYYY-MM-DD (today is \(publication.today(at: now()))), "
                    + "or leave it out for today",
                kind: .usage)
        }
        return date
    }

    /// Where the workspace's list is: `DIGEST_STORE_URL`, else the file `DIGEST_DATABASE` names, else `store:` in
    /// publication.yaml, else `digest.sqlite` beside publication.yaml. A PostgreSQL password comes from
    /// `DIGEST_STORE_PASSWORD` or the file `DIGEST_STORE_PASSWORD_FILE` names, never from the URL.
    public func storeLocation(_ workspace: Workspace) throws -> StoreLocation {
        let value: String
        let origin: String
        if let url = variables["DIGEST_STORE_URL"], !url.isEmpty {
            (value, origin) = (url, "DIGEST_STORE_URL")
        } else if let path = variables["DIGEST_DATABASE"], !path.isEmpty {
            return .sqlite(path)
        } else if let text = try? String(contentsOf: workspace.configFile, encoding: .utf8),
            let store = Publication.storeSetting(text)
        {
            (value, origin) = (store, "store: in publication.yaml")
        } else {
            return .sqlite(workspace.root.appendingPathComponent("digest.sqlite").path)
        }
        return try storeLocation(value, origin: origin, workspace: workspace)
    }

    /// A store named by `value` (a path, relative to `base` or the workspace, or a PostgreSQL URL), its password
    /// from `passwordVariable` (or the file `passwordVariable_FILE` names).
    public func storeLocation(
        _ value: String, origin: String, workspace: Workspace, base: URL? = nil,
        passwordVariable: String = "DIGEST_STORE_PASSWORD"
    ) throws -> StoreLocation {
        guard PostgresSettings.isURL(value) else {
            if value.contains("://") {
                throw WorkflowError(
                    "\(origin) must be a path to the SQLite file or a postgres:// URL, not '\(value)'\n"
                        + "  fix: write postgres://USER@HOST:5432/DATABASE, or leave it out for digest.sqlite")
            }
            if value.hasPrefix("/") { return .sqlite(value) }
            return .sqlite((base ?? workspace.root).appendingPathComponent(value).standardizedFileURL.path)
        }
        var settings: PostgresSettings
        do {
            settings = try PostgresSettings(url: value)
        } catch {
            throw WorkflowError("\(origin): \(error)")
        }
        if let password = try Secrets(variables: variables, workspace: workspace).secret(
            passwordVariable, what: "store password")
        {
            settings.password = String(decoding: password, as: UTF8.self)
        }
        return .postgres(settings)
    }

    /// The workspace's store, opened (and migrated when needed): see `storeLocation`.
    public func openStore(_ workspace: Workspace) throws -> any ListStore {
        let location = try storeLocation(workspace)
        do {
            return try Store.open(location)
        } catch {
            throw WorkflowError.cannotOpen("the subscriber database", location, error)
        }
    }
}
