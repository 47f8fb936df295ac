import Foundation

/// Funnels writes into the store: requests that arrive while a transaction is being committed wait for
/// the next one, which takes all of them. Every request is answered only after its transaction is
/// committed (`synchronous = FULL`), so an answer means the write is on disk for good, and one fsync
/// serves a whole burst instead of one each. One-click unsubscribes and story clicks go through one each.
actor CommitBatcher<Request: Sendable, Outcome: Sendable> {
    typealias Write = @Sendable ([Request]) async throws -> [Outcome]

    let write: Write
    /// The most requests one transaction takes.
    let maxBatch: Int
    private var pending: [(request: Request, reply: CheckedContinuation<Outcome, any Error>)] = []
    private var writing = false

    /// `write` commits a batch in one transaction and returns one outcome per request, in order.
    init(maxBatch: Int = 1_000, write: @escaping Write) {
        self.maxBatch = maxBatch
        self.write = write
    }

    /// Adds one request; returns its outcome once it is committed.
    func submit(_ request: Request) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((request, continuation))
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
                let outcomes = try await write(batch.map(\.request))
                for (entry, outcome) in zip(batch, outcomes) { entry.reply.resume(returning: outcome) }
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        writing = false
    }
}
