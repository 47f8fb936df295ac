import DigestCore
import DigestCurl
import DigestHTML
import Foundation

/// `digest check`: lints an edition before it is sent.
public enum Check {
    /// What the links answered.
    public struct LinkSummary: Sendable {
        public var checked: Int
        public var answering: Int
        public var seconds: Double
        /// No link's host name resolved: the machine is probably offline.
        public var noHostResolves: Bool
    }

    public struct Report: Sendable {
        /// Errors first, each group in the edition's order.
        public var findings: [Finding]
        public var links: LinkSummary?
        public var errors: Int { findings.filter { $0.severity == .error }.count }
        public var warnings: Int { findings.count - errors }
    }

    /// The HTML part's facts (images, links) as the text browser reads them.
    public static func facts(_ loaded: LoadedEdition) -> HTMLFacts {
        HTMLTextBrowser.facts(loaded.rendered.html)
    }

    /// The titles of the items the editor cut (in `removed:`, or gathered and since deleted), as the
    /// feeds gave them when gather last read them (its cache).
    public static func cutTitles(_ loaded: LoadedEdition) -> [String] {
        let edition = loaded.edition
        let present = Set(edition.items.compactMap { $0.source?.guid })
        let cut = Set(edition.removedItemIDs + edition.gatheredItemIDs.filter { !present.contains($0) })
        guard !cut.isEmpty else { return [] }
        let reader = FeedReader(cacheFolder: loaded.workspace.root.appendingPathComponent(".digest-cache/feeds"))
        return loaded.publication.feeds.flatMap { source in
            (reader.cachedFeed(source)?.items ?? []).filter { cut.contains($0.id) }.map(\.title)
        }
    }

    /// Checks `loaded`; with `linkTimeout`, every link is asked whether it answers, all at once.
    public static func run(_ loaded: LoadedEdition, linkTimeout: Int?) -> Report {
        let facts = facts(loaded)
        var checks: [LinkCheck]?
        var summary: LinkSummary?
        if let linkTimeout {
            let urls = EditionLinter.checkableLinks(rendered: loaded.rendered, html: facts)
            let started = Date()
            let results = CurlLinkChecker(timeout: linkTimeout).check(urls)
            let unresolved = results.filter { $0.outcome == .broken(LinkCheck.unresolvedHost) }.count
            summary = LinkSummary(
                checked: results.count, answering: results.filter { $0.outcome == .answers }.count,
                seconds: Date().timeIntervalSince(started),
                noHostResolves: unresolved > 0 && unresolved == results.count)
            checks = results
        }
        let unsorted = EditionLinter.check(
            edition: loaded.edition, rendered: loaded.rendered, unsubscribeURL: loaded.publication.unsubscribeURL,
            html: facts, links: checks, cutTitles: cutTitles(loaded))
        let findings = unsorted.enumerated().sorted {
            ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset)
        }.map(\.element)
        return Report(findings: findings, links: summary)
    }
}
