import DigestCore
import Foundation

/// An edition as it was sent or published: rendered once and kept, so that every message of a run, its
/// resumes and the archive's page are the same bytes whatever the files say later.
public struct FrozenEdition: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The rendering of a run to subscribers: public in the archive.
        case run
        /// The rendering of a dry run into a Maildir: never public.
        case dryRun = "dry-run"
        /// An edition published to the archive without a run.
        case published
    }

    /// The edition's date, `YYYY-MM-DD`.
    public var date: String
    /// The parts with each reader's placeholders, what messages are built from; nil for a published edition.
    public var forReaders: RenderedEdition?
    /// The parts for no reader in particular: the archive's page and "view in browser".
    public var archive: RenderedEdition
    /// SHA-256 of the edition file when it was frozen.
    public var editionFingerprint: String
    /// SHA-256 of the publication config and the templates when it was frozen.
    public var templatesFingerprint: String
    /// The stories' own addresses in the edition's order, when clicks are counted: where `/l/DATE/N/…`
    /// redirects (never anywhere a link says).
    public var storyLinks: [String]?
    /// The stories' titles in the same order, for the edition's report.
    public var storyTitles: [String]?

    public init(
        date: String, forReaders: RenderedEdition?, archive: RenderedEdition, editionFingerprint: String,
        templatesFingerprint: String, storyLinks: [String]? = nil, storyTitles: [String]? = nil
    ) {
        self.date = date
        self.forReaders = forReaders
        self.archive = archive
        self.editionFingerprint = editionFingerprint
        self.templatesFingerprint = templatesFingerprint
        self.storyLinks = storyLinks
        self.storyTitles = storyTitles
    }
}
