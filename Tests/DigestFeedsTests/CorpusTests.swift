import DigestCore
import DigestFeeds
import DigestTestSupport
import Foundation
import Testing

/// The feed corpus (`Corpus/`): feeds in the shapes real publishers serve, each with the items digest must
/// read from it in `Corpus/manifest.json`. The items are recorded with `DIGEST_RECORD_GOLDEN=1` (then
/// reviewed, as any golden file) and checked against Python's feedparser by `corpusAgreesWithFeedparser`.
enum Corpus {
    static let folder = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Corpus")
    static let manifestFile = folder.appendingPathComponent("manifest.json")

    struct Manifest: Codable {
        var about: String
        var feeds: [Feed]
    }

    struct Feed: Codable, Sendable, CustomTestStringConvertible {
        var file: String
        /// Where the feed is taken to have been fetched.
        var url: String
        /// The publisher's shape it follows.
        var shape: String
        var format: String
        var recoveries: [String]
        var items: [Item]
        /// Fields where digest deliberately reads differently from feedparser, with the reason.
        var feedparserDiffers: [String: String]?

        var testDescription: String { file }
    }

    struct Item: Codable, Equatable, Sendable {
        var title: String
        var link: String
        var linkFrom: String
        var published: String?
        var enclosure: String?
    }

    static func load() -> Manifest {
        guard let data = try? Data(contentsOf: manifestFile),
            let manifest = try? JSONDecoder().decode(Manifest.self, from: data)
        else { return Manifest(about: "", feeds: []) }
        return manifest
    }

    static let manifest = load()

    static func read(_ feed: Feed) throws -> ParsedFeed {
        try FeedParser.parse(Data(contentsOf: folder.appendingPathComponent(feed.file)), url: feed.url)
    }

    static func items(of parsed: ParsedFeed) -> [Item] {
        parsed.items.map { item in
            Item(
                title: item.title, link: item.link, linkFrom: item.linkSource.rawValue,
                published: item.published.map(Timestamp.format), enclosure: item.enclosure?.url)
        }
    }

    static var recording: Bool { ProcessInfo.processInfo.environment["DIGEST_RECORD_GOLDEN"] != nil }
}

@Suite("Feed corpus")
struct CorpusTests {
    @Test func theCorpusHasFortyFeedsOrMoreAndEveryFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Corpus.folder.path)
            .filter { $0.hasSuffix(".xml") }
        #expect(files.count >= 40)
        #expect(Set(files) == Set(Corpus.manifest.feeds.map(\.file)))
    }

    @Test(arguments: Corpus.manifest.feeds)
    func everyCorpusFeedReadsAsItsManifestSays(feed: Corpus.Feed) throws {
        let parsed = try Corpus.read(feed)
        #expect(parsed.format.rawValue == feed.format)
        #expect(parsed.recoveries == feed.recoveries)
        let items = Corpus.items(of: parsed)
        #expect(items.count == feed.items.count)
        for (index, (got, expected)) in zip(items, feed.items).enumerated() {
            #expect(got == expected, "item \(index + 1) of \(feed.file)")
        }
    }

    /// Rewrites the manifest's recorded fields (format, recoveries, items) from what digest reads now;
    /// only with DIGEST_RECORD_GOLDEN=1. Review `git diff` afterwards.
    @Test(.enabled(if: Corpus.recording)) func recordTheManifest() throws {
        var manifest = Corpus.load()
        for index in manifest.feeds.indices {
            let parsed = try Corpus.read(manifest.feeds[index])
            manifest.feeds[index].format = parsed.format.rawValue
            manifest.feeds[index].recoveries = parsed.recoveries
            manifest.feeds[index].items = Corpus.items(of: parsed)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(manifest) + Data("\n".utf8)).write(to: Corpus.manifestFile)
    }

    /// Python's feedparser reads every corpus feed too; titles, links, dates and enclosures must agree item
    /// by item with what digest reads, except where the manifest says why digest differs on purpose.
    @Test func corpusAgreesWithFeedparser() async throws {
        struct Dump: Encodable {
            var items: [String: [Corpus.Item]] = [:]
            var errors: [String: String] = [:]
        }
        var dump = Dump()
        for feed in Corpus.manifest.feeds {
            do {
                dump.items[feed.file] = Corpus.items(of: try Corpus.read(feed))
            } catch {
                dump.errors[feed.file] = "\(error)"
            }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("digest-corpus-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let dumpFile = folder.appendingPathComponent("digest.json")
        try JSONEncoder().encode(dump).write(to: dumpFile)
        let result = try await Subprocess.run(
            Subprocess.python,
            [
                Repository.root.appendingPathComponent("Tests/Support/feedparser_agreement.py").path,
                Corpus.manifestFile.path, dumpFile.path,
            ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("0 crashes, 0 refusals"), "\(result.stdout)")
    }

    @Test func everyItemOfTheCorpusGetsAWebLinkButThoseWithNoneAnywhere() throws {
        for feed in Corpus.manifest.feeds {
            for item in try Corpus.read(feed).items where item.linkSource == .none {
                #expect(feed.file == "no-links-anywhere.xml", "\(feed.file): \(item.title)")
            }
        }
    }
}
