import DigestStore
import Foundation

/// Funnels one-click unsubscribes into the store: requests that arrive while a transaction is being
/// committed wait for the next one, which takes all of them. Every request is answered only after its
/// transaction is committed (`synchronous = FULL`), so a 200 means the reader is off the list for good,
/// and one fsync serves a whole burst instead of one each.
actor UnsubscribeBatcher {
    typealias Outcome = SQLiteStore.UnsubscribeOutcome

    let store: SQLiteStore
    let now: @Sendable () -> Date
    /// The most readers one transaction takes.
    let maxBatch = 1_000
    private var pending: [(id: Int64, reply: CheckedContinuation<Outcome, any Error>)] = []
    private var writing = false

    init(store: SQLiteStore, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.now = now
    }

    /// Unsubscribes one reader; returns once it is committed.
    func unsubscribe(_ id: Int64) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((id, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                // The write runs on GRDB's writer queue; requests arriving meanwhile gather in `pending`.
                let outcomes = try await store.unsubscribe(ids: batch.map(\.id), now: now())
                for entry in batch { entry.reply.resume(returning: outcomes[entry.id] ?? .unknown) }
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        writing = false
    }
}
