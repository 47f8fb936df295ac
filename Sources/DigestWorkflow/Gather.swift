import DigestCore
import DigestFeeds
import Foundation

/// `digest gather`: reads the publication's feeds and merges the day's items into the edition file.
public enum Gather {
    /// What a gather did, for the editor.
    public struct Report: Sendable {
        public var date: EditionDate
        /// The edition file as the editor would type its path.
        public var file: String
        public var outcomes: [FeedReader.Outcome]
        public var merge: MergeReport
        /// The editor's previous file, kept when it could not be edited in place (see `Workspace.save`).
        public var backup: String? = nil
        public var failedFeeds: Int { outcomes.filter { if case .failure = $0.result { true } else { false } }.count }
        /// Items of the window left out of the edition, each with its feed and the reason.
        public var droppedItems: [DroppedItem] { merge.dropped }
        /// Whether the edition misses something: a feed that failed or an item that was dropped.
        public var isIncomplete: Bool { failedFeeds > 0 || !merge.dropped.isEmpty }
    }

    /// Gathers the edition of `date` (today when nil) in the workspace. `onFeed` hears of each feed as it is
    /// read (from worker threads), so the editor sees progress before the merge.
    public static func run(
        workspace explicit: String?, date given: String?, environment: DigestEnvironment,
        onStart: (EditionDate, Int) -> Void = { _, _ in },
        onFeed: @escaping @Sendable (FeedReader.Outcome) -> Void = { _ in }
    ) throws -> Report {
        let workspace = try environment.workspace(explicit)
        let publication = try workspace.loadPublication()
        let date = try environment.editionDate(given, publication: publication)
        guard !publication.feeds.isEmpty else {
            throw Problem(
                file: "publication.yaml", message: "no feeds to gather",
                fix: "list them under 'feeds:' with a url and a section")
        }
        let file = workspace.editionFile(date)
        // A broken edition file stops the gather: it holds the editor's work and must not be overwritten.
        let existing = FileManager.default.fileExists(atPath: file.path) ? try workspace.loadEdition(date) : nil
        let previous = workspace.editionDates().last { $0 < date }
        let window = EditionMerger.window(
            for: date, settings: publication.gather, previous: previous, timeZone: publication.timeZone)
        onStart(date, publication.feeds.count)
        let reader = FeedReader(
            cacheFolder: workspace.root.appendingPathComponent(".digest-cache/feeds"),
            timeout: publication.gather.timeout)
        let outcomes = reader.readAll(publication.feeds, each: onFeed)
        let gathered = outcomes.compactMap { outcome -> GatheredFeed? in
            guard case .success(let feed) = outcome.result else { return nil }
            return GatheredFeed(source: outcome.source, items: feed.items, title: feed.title)
        }
        if gathered.isEmpty && existing == nil {
            throw WorkflowError("no feed could be read, so no edition was written")
        }
        let (edition, merge) = EditionMerger.merge(
            existing: existing, feeds: gathered, date: date, window: window,
            summaryLength: publication.gather.summaryLength)
        let backup = try workspace.save(edition)
        return Report(
            date: date, file: workspace.displayPath(file), outcomes: outcomes, merge: merge, backup: backup)
    }
}
