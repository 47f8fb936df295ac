import DigestCore
import DigestMail
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything the commands take from the world: clock, identifiers, environment variables, the terminal.
/// Built once in `Digest.main`; tests build their own.
public struct LiveEnvironment: Sendable {
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

    /// The workspace: `--workspace`, else `DIGEST_WORKSPACE`, else the nearest folder upwards from here
    /// that has a `publication.yaml`.
    func workspace(_ explicit: String?) throws -> Workspace {
        if let path = explicit ?? variables["DIGEST_WORKSPACE"] {
            return Workspace(root: URL(fileURLWithPath: path, relativeTo: currentDirectory).standardizedFileURL)
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

    /// The date an edition command works on: the one given, else today in the publication's zone.
    func editionDate(_ given: String?, publication: Publication) throws -> EditionDate {
        guard let given else { return EditionDate(containing: now(), in: publication.timeZone) }
        if given == "today" { return EditionDate(containing: now(), in: publication.timeZone) }
        guard let date = EditionDate(given) else {
            throw Problem(
                file: "(command line)", message: "'\(given)' is not a date",
                fix: "write the date as YYYY-MM-DD, e.g. 2017-11-18")
        }
        return date
    }
}

/// The terminal standard output is connected to, if any.
struct Terminal {
    static var isTTY: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Columns and rows of the terminal, from the kernel, then `COLUMNS`/`LINES`, else 80×24.
    static func size(variables: [String: String]) -> (columns: Int, rows: Int) {
        var window = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0 {
            return (Int(window.ws_col), Int(window.ws_row))
        }
        return (Int(variables["COLUMNS"] ?? "") ?? 80, Int(variables["LINES"] ?? "") ?? 24)
    }

    /// Shows `text` through `$PAGER` (`less -R` when unset); false when no pager could start.
    static func page(_ text: String, variables: [String: String]) -> Bool {
        let pager = variables["PAGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "less -R"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", pager]
        var environment = variables
        if environment["LESS"] == nil { environment["LESS"] = "FRX" }
        process.environment = environment
        let pipe = Pipe()
        process.standardInput = pipe
        do {
            try process.run()
        } catch {
            return false
        }
        pipe.fileHandleForWriting.write(Data(text.utf8))
        try? pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// Where commands write: results to standard output, diagnostics to standard error.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
