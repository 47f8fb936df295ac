import DigestCore
import DigestStore
import Foundation

/// `digest runs`: every run with its state, without sending anything.
public enum Runs {
    /// One run's readers that need the editor's eye.
    public struct Details: Sendable {
        public var run: Store.RunSummary
        public var inDoubt: [Delivery]
        public var deferred: [Delivery]
        public var failed: [Delivery]
        public var left: [Delivery]
    }

    public static func list(workspace explicit: String?, date: String?, environment: DigestEnvironment) throws
        -> [Store.RunSummary]
    {
        let workspace = try environment.workspace(explicit)
        if let date, EditionDate(date) == nil {
            throw WorkflowError("'\(date)' is not a date: write it as YYYY-MM-DD, e.g. 2017-11-18", kind: .badInput)
        }
        return try environment.openStore(workspace).runs(date: date)
    }

    /// The runs of one edition with their full lists.
    public static func details(workspace explicit: String?, date: String, environment: DigestEnvironment) throws
        -> [Details]
    {
        let workspace = try environment.workspace(explicit)
        let store = try environment.openStore(workspace)
        return try list(workspace: explicit, date: date, environment: environment).map { run in
            Details(
                run: run, inDoubt: try store.deliveries(run.name, state: .doubt, limit: .max),
                deferred: try store.deliveries(run.name, state: .deferred, limit: .max),
                failed: try store.deliveries(run.name, state: .failed, limit: .max),
                left: try store.deliveries(run.name, state: .left, limit: .max))
        }
    }
}

/// `digest publish`: an edition into the public archive without sending it (an archive-only edition).
public enum Publish {
    public static func run(_ loaded: LoadedEdition, environment: DigestEnvironment) throws {
        let store = try environment.openStore(loaded.workspace)
        try store.publish(
            FrozenEdition(
                date: loaded.edition.date.description, forReaders: nil, archive: loaded.rendered,
                editionFingerprint: Fingerprint.edition(loaded), templatesFingerprint: Fingerprint.templates(loaded)),
            now: environment.now())
    }
}
