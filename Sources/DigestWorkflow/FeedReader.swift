import DigestCore
import DigestCurl
import DigestFeeds
import Foundation

/// Fetches and parses feeds, several at a time, with the workspace's conditional-GET cache.
public struct FeedReader: Sendable {
    public let cacheFolder: URL
    public var timeout = 30

    public init(cacheFolder: URL, timeout: Int = 30) {
        self.cacheFolder = cacheFolder
        self.timeout = timeout
    }

    /// One feed's result: its items, or why it could not be read.
    public struct Outcome {
        public var source: FeedSource
        public var result: Result<ParsedFeed, FetchError>
        public var seconds: Double
        public var notModified = false
    }

    struct CacheEntry: Codable {
        var etag: String?
        var lastModified: String?
        var charset: String?
    }

    func cachePaths(_ url: String) -> (meta: URL, body: URL) {
        let name = EditionMerger.fingerprint(title: url, summary: "feed")
        return (cacheFolder.appendingPathComponent("\(name).json"), cacheFolder.appendingPathComponent("\(name).body"))
    }

    /// The feed as gather last read it, from the cache (nil when the server gave no validator to cache by).
    public func cachedFeed(_ source: FeedSource) -> ParsedFeed? {
        let paths = cachePaths(source.url)
        guard let body = try? Data(contentsOf: paths.body) else { return nil }
        let charset = (try? Data(contentsOf: paths.meta)).flatMap {
            try? JSONDecoder().decode(CacheEntry.self, from: $0)
        }?.charset
        return try? FeedParser.parse(body, url: source.url, encoding: charset)
    }

    /// Reads one feed: fetched, or the cached copy when the server says 304.
    public func read(_ source: FeedSource, fetcher: CurlFetcher) -> Outcome {
        let started = Date()
        let paths = cachePaths(source.url)
        let cached = (try? Data(contentsOf: paths.meta)).flatMap {
            try? JSONDecoder().decode(CacheEntry.self, from: $0)
        }
        let hasBody = FileManager.default.fileExists(atPath: paths.body.path)
        switch fetcher.fetch(
            source.url, etag: hasBody ? cached?.etag : nil, lastModified: hasBody ? cached?.lastModified : nil)
        {
        case .failure(let error):
            return Outcome(source: source, result: .failure(error), seconds: Date().timeIntervalSince(started))
        case .success(let document):
            var body = document.body
            var charset = document.charset
            if document.notModified, let old = try? Data(contentsOf: paths.body) {
                body = old
                charset = cached?.charset
            } else if document.etag != nil || document.lastModified != nil {
                try? FileManager.default.createDirectory(at: cacheFolder, withIntermediateDirectories: true)
                try? body.write(to: paths.body, options: .atomic)
                let entry = CacheEntry(etag: document.etag, lastModified: document.lastModified, charset: charset)
                try? JSONEncoder().encode(entry).write(to: paths.meta, options: .atomic)
            }
            let result: Result<ParsedFeed, FetchError>
            do {
                result = .success(try FeedParser.parse(body, url: source.url, encoding: charset))
            } catch {
                result = .failure(FetchError(url: source.url, reason: "\(error)"))
            }
            return Outcome(
                source: source, result: result, seconds: Date().timeIntervalSince(started),
                notModified: document.notModified)
        }
    }

    /// Reads every feed, up to `concurrency` at once, each worker with its own connection.
    public func readAll(_ sources: [FeedSource], concurrency: Int = 4, each: @escaping @Sendable (Outcome) -> Void)
        -> [Outcome]
    {
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var outcomes: [Outcome?]
            init(count: Int) { outcomes = Array(repeating: nil, count: count) }
        }
        let shared = Shared(count: sources.count)
        let group = DispatchGroup()
        let reader = self
        for _ in 0..<min(concurrency, max(1, sources.count)) {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let fetcher = try? CurlFetcher(configuration: .init(totalTimeout: reader.timeout)) else { return }
                while true {
                    let index: Int? = shared.lock.withLock {
                        guard shared.next < sources.count else { return nil }
                        shared.next += 1
                        return shared.next - 1
                    }
                    guard let index else { return }
                    let outcome = reader.read(sources[index], fetcher: fetcher)
                    shared.lock.withLock { shared.outcomes[index] = outcome }
                    each(outcome)
                }
            }.start()
        }
        group.wait()
        return shared.outcomes.enumerated().map { index, outcome in
            outcome
                ?? Outcome(
                    source: sources[index],
                    result: .failure(FetchError(url: sources[index].url, reason: "not fetched")), seconds: 0)
        }
    }
}

extension FeedReader.Outcome: @unchecked Sendable {}
