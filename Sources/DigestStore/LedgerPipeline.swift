import DigestMail
import Foundation

/// The delivery ledger of one run as the bulk sender uses it: messages handed out from memory, and every
/// claim and reply committed by one writer thread in group transactions (one fsync for whatever all the
/// connections queued meanwhile).
///
/// The crash guarantee stays the one of the single-row ledger: a message is claimed (`sending`, committed)
/// before its last byte can reach the server, and the reply of a connection's previous message is
/// committed no later than that claim, since both travel in the writer's one queue in order. So after a
/// crash each connection has at most one row in `sending`: the message it had in flight. What changes is
/// when the waiting happens: the claim's commit runs while the SMTP commands and the body go out, and
/// the transport waits for it only before the body's last bytes (`Ticket.waitClaimed`).
public final class LedgerPipeline: @unchecked Sendable {
    /// A message handed to one worker: its ledger row, and whether its claim has been committed.
    public final class Ticket: @unchecked Sendable {
        public let delivery: Delivery
        private let condition = NSCondition()
        private var result: Bool?

        init(delivery: Delivery) {
            self.delivery = delivery
        }

        /// Waits for the claim's commit: true when the row is this run's to send; false when it could not
        /// be claimed (the reader left, another process took it, or the ledger failed), in which case
        /// nothing may go out.
        public func waitClaimed() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while result == nil { condition.wait() }
            return result ?? false
        }

        /// The claim's result if it is known yet.
        var claimed: Bool? {
            condition.lock()
            defer { condition.unlock() }
            return result
        }

        func complete(_ claimed: Bool) {
            condition.lock()
            if result == nil { result = claimed }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A server's answer for a ticket, to record.
    public struct Reply: Sendable {
        public var ticket: Ticket
        public var outcome: DeliveryOutcome
        public var messageID: String
        public var retryAt: Date?

        public init(ticket: Ticket, outcome: DeliveryOutcome, messageID: String, retryAt: Date?) {
            self.ticket = ticket
            self.outcome = outcome
            self.messageID = messageID
            self.retryAt = retryAt
        }
    }

    /// What `next` hands a worker.
    public enum Next: Sendable {
        case ticket(Ticket)
        /// Nothing ready now; deferred messages wait until this time.
        case waitUntil(Date)
        case finished
    }

    enum Operation {
        case claim(Ticket)
        case record(Reply)
        case fail(Ticket, String)
        case release(Ticket)
        /// A reader found inactive when the row was read: failed without a claim.
        case skip(Delivery, String)
    }

    let store: any ListStore
    let run: String
    let maxRunAttempts: Int
    let now: @Sendable () -> Date
    /// Rows read ahead per query.
    let readAhead: Int

    private let condition = NSCondition()
    private var queue: [Operation] = []
    /// Operations queued so far, and how many of them are committed (or refused after a failure).
    private var submitted = 0
    private var committed = 0
    private var writerError: String?
    private var closed = false

    // Read-ahead state, under `readLock`.
    private let readLock = NSLock()
    private var buffer: [Delivery] = []
    private var bufferIndex = 0
    private var pendingCursor: Int64 = Int64.min
    private var pendingExhausted = false
    /// A claim of this pipeline found its row taken (another sender on the same run, most often): the reading
    /// moves on to a random point further on instead of following the other sender row by row.
    private var contended = false
    /// The reading jumped since it last started from the lowest id: rows it passed over are read again from
    /// the start when it reaches the end.
    private var jumped = false
    /// Rows handed out and not yet settled (their reply, failure or release not committed).
    private var inFlight: Set<Int64> = []

    public init(
        store: any ListStore, run: String, maxRunAttempts: Int, readAhead: Int = 256,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.run = run
        self.maxRunAttempts = maxRunAttempts
        self.readAhead = readAhead
        self.now = now
        let thread = Thread { [self] in writeLoop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Why the ledger stopped taking writes, if it did (a full disk, a locked file).
    public var failure: String? {
        condition.lock()
        defer { condition.unlock() }
        return writerError
    }

    /// Queues `previous`'s reply and hands out the next message, its claim queued behind the reply.
    /// The reply and the claim are queued together, so they travel in one group commit even when the writer is
    /// idle: a lone connection waits for one commit per message, not two.
    public func next(recording previous: Reply?) throws -> Next {
        let row: Delivery?
        do {
            if let message = failure { throw LedgerError(message: message) }
            row = try nextRow()
        } catch {
            if let previous { submit(.record(previous)) }
            throw error
        }
        guard let row else {
            if let previous { submit(.record(previous)) }
            return try waitOrFinish()
        }
        let ticket = Ticket(delivery: row)
        submit(previous.map { [.record($0), .claim(ticket)] } ?? [.claim(ticket)])
        return .ticket(ticket)
    }

    /// Records a reply without taking a next message (the worker stops).
    public func record(_ reply: Reply) {
        submit(.record(reply))
    }

    /// Marks a ticket failed without sending it (its message could not be built).
    public func fail(_ ticket: Ticket, reason: String) {
        submit(.fail(ticket, reason))
    }

    /// Gives a ticket back unsent (the connection could not be set up).
    public func release(_ ticket: Ticket) {
        submit(.release(ticket))
    }

    /// Waits until everything queued so far is committed. Throws when the ledger failed.
    public func flush() throws {
        condition.lock()
        let target = submitted
        while committed < target && writerError == nil { condition.wait() }
        let error = writerError
        condition.unlock()
        if let error { throw LedgerError(message: error) }
    }

    /// Commits what is queued and stops the writer thread.
    public func close() throws {
        defer {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
        try flush()
    }

    // MARK: Reading ahead

    private func nextRow() throws -> Delivery? {
        readLock.lock()
        defer { readLock.unlock() }
        while true {
            if contended {
                contended = false
                try jumpAhead()
            }
            if bufferIndex < buffer.count {
                let row = buffer[bufferIndex]
                bufferIndex += 1
                let id = row.subscriberId
                guard !inFlight.contains(id) else { continue }
                inFlight.insert(id)
                return row
            }
            if !pendingExhausted {
                let (rows, skipped) = try readPending()
                for (row, reason) in skipped { submit(.skip(row, reason)) }
                if rows.isEmpty && skipped.isEmpty && jumped {
                    // The end, after a jump: once more from the start, for the rows passed over.
                    pendingCursor = Int64.min
                    jumped = false
                } else if rows.isEmpty && skipped.isEmpty {
                    pendingExhausted = true
                } else {
                    buffer = rows
                    bufferIndex = 0
                }
                continue
            }
            // Deferred rows whose time has come. Their state in the file must be current: what this run
            // recorded as deferred may still be in the writer's queue.
            readLock.unlock()
            try flush()
            readLock.lock()
            let rows = try readDeferred()
            if rows.isEmpty { return nil }
            buffer = rows
            bufferIndex = 0
        }
    }

    /// Drops what was read ahead and moves the cursor to a random pending row further on: two senders on one
    /// run that read the same rows in the same order would otherwise race for every one of them, the loser's
    /// claims coming back empty. A lone sender never jumps unless a reader left between the read and the claim.
    private func jumpAhead() throws {
        guard !pendingExhausted, let last = try store.ledgerLastPending(run: run) else { return }
        let start = max(pendingCursor, 0)
        guard last > start else { return }
        pendingCursor = Int64.random(in: start..<last)
        buffer = []
        bufferIndex = 0
        jumped = true
    }

    /// The next pending rows after the cursor, with readers who left since the run began set aside.
    private func readPending() throws -> ([Delivery], [(Delivery, String)]) {
        let rows = try store.ledgerPending(run: run, after: pendingCursor, limit: readAhead)
        var ready: [Delivery] = []
        var skipped: [(Delivery, String)] = []
        for (delivery, status) in rows {
            pendingCursor = max(pendingCursor, delivery.subscriberId)
            if status == Subscriber.Status.active.rawValue {
                ready.append(delivery)
            } else {
                skipped.append((delivery, Store.notSent(subscriberStatus: status)))
            }
        }
        return (ready, skipped)
    }

    private func readDeferred() throws -> [Delivery] {
        let excluded = inFlight
        let rows = try store.ledgerDeferred(
            run: run, maxRunAttempts: maxRunAttempts, now: now(), limit: readAhead + excluded.count)
        return rows.filter { !excluded.contains($0.subscriberId) }
    }

    private func waitOrFinish() throws -> Next {
        try flush()
        let next = try store.ledgerNextAttempt(run: run, maxRunAttempts: maxRunAttempts)
        return next.map(Next.waitUntil) ?? .finished
    }

    private func noteContention() {
        readLock.lock()
        contended = true
        readLock.unlock()
    }

    private func settle(_ id: Int64) {
        readLock.lock()
        inFlight.remove(id)
        readLock.unlock()
    }

    // MARK: The writer

    private func submit(_ operation: Operation) {
        submit([operation])
    }

    /// Queues operations in order, all at once: the writer takes all of them into the same commit.
    private func submit(_ operations: [Operation]) {
        condition.lock()
        if writerError != nil {
            condition.unlock()
            for case .claim(let ticket) in operations { ticket.complete(false) }
            return
        }
        queue.append(contentsOf: operations)
        submitted += operations.count
        condition.broadcast()
        condition.unlock()
    }

    private func writeLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            condition.unlock()

            var claims: [(Ticket, Bool)] = []
            var settled: [Int64] = []
            var failure: String?
            do {
                let (steps, tickets) = plan(batch)
                let results = try store.ledgerCommit(steps, now: now())
                var next = 0
                for (step, ticket) in zip(steps, tickets) {
                    guard let ticket else { continue }
                    if case .claim = step {
                        let ok = next < results.count ? results[next] : false
                        next += 1
                        claims.append((ticket, ok))
                        if !ok {
                            settled.append(ticket.delivery.subscriberId)
                            noteContention()
                        }
                    } else {
                        settled.append(ticket.delivery.subscriberId)
                    }
                }
            } catch {
                failure = "the delivery ledger could not be written (\(store.location)): \(error)"
            }
            for id in settled { settle(id) }
            condition.lock()
            committed += batch.count
            if let failure, writerError == nil { writerError = failure }
            let failed = writerError != nil
            let leftover = failed ? queue : []
            if failed {
                committed += queue.count
                queue.removeAll()
            }
            condition.broadcast()
            condition.unlock()
            if failed {
                // Nothing further is committed: every claim waiting is refused, so nothing more goes out.
                for case .claim(let ticket) in batch + leftover { ticket.complete(false) }
            } else {
                for (ticket, claimed) in claims { ticket.complete(claimed) }
            }
        }
    }

    /// The batch as the store's steps, each with the ticket it settles: a reply, failure or release of a ticket
    /// claimed in the same batch is applied only if that claim succeeds; of a ticket not claimed, never.
    private func plan(_ batch: [Operation]) -> ([LedgerStep], [Ticket?]) {
        var steps: [LedgerStep] = []
        var tickets: [Ticket?] = []
        var claimAt: [ObjectIdentifier: Int] = [:]
        func condition(_ ticket: Ticket) -> Int?? {
            if let index = claimAt[ObjectIdentifier(ticket)] { return .some(index) }
            return ticket.claimed == true ? .some(nil) : nil
        }
        for operation in batch {
            switch operation {
            case .claim(let ticket):
                claimAt[ObjectIdentifier(ticket)] = steps.count
                steps.append(.claim(ticket.delivery))
                tickets.append(ticket)
            case .record(let reply):
                if let onlyIf = condition(reply.ticket) {
                    steps.append(
                        .record(
                            reply.ticket.delivery, outcome: reply.outcome, messageID: reply.messageID,
                            retryAt: reply.retryAt, ifClaimed: onlyIf))
                } else {
                    steps.append(.nothing)
                }
                tickets.append(reply.ticket)
            case .fail(let ticket, let reason):
                steps.append(
                    condition(ticket).map { .fail(ticket.delivery, reason: reason, ifClaimed: $0) } ?? .nothing)
                tickets.append(ticket)
            case .release(let ticket):
                steps.append(condition(ticket).map { .release(ticket.delivery, ifClaimed: $0) } ?? .nothing)
                tickets.append(ticket)
            case .skip(let delivery, let reason):
                steps.append(.skip(delivery, reason: reason))
                tickets.append(nil)
            }
        }
        return (steps, tickets)
    }
}

/// The ledger could not be written.
public struct LedgerError: Error, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
