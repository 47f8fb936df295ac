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

    /// The workspace's store: `digest.sqlite` beside publication.yaml, or the file `DIGEST_DATABASE` names.
    public func openStore(_ workspace: Workspace) throws -> SQLiteStore {
        let path = variables["DIGEST_DATABASE"] ?? workspace.root.appendingPathComponent("digest.sqlite").path
        do {
            return try SQLiteStore(path: path)
        } catch {
            throw WorkflowError("cannot open the subscriber database \(path): \(error)")
        }
    }
}
