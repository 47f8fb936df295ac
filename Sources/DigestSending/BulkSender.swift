import DigestCore
import DigestMail
import DigestStore
import Foundation

/// How a bulk send behaves.
public struct SendOptions: Sendable {
    /// SMTP connections used at once, each on its own thread.
    public var connections: Int
    /// Messages per second over all connections; nil for no limit.
    public var rate: Double?
    /// Attempts per message within one run before it is left deferred for the next run.
    public var maxRunAttempts: Int
    /// The first retry waits this long; each further one twice as long (with jitter), up to `maxBackoff`.
    public var backoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// Stop after this many messages (the next run sends the rest).
    public var limit: Int?
    /// Open a fresh connection after this many messages; nil to keep it while the server does.
    public var messagesPerConnection: Int?

    public init(
        connections: Int = 4, rate: Double? = nil, maxRunAttempts: Int = 3, backoff: TimeInterval = 2,
        maxBackoff: TimeInterval = 60, limit: Int? = nil, messagesPerConnection: Int? = nil
    ) {
        self.connections = connections
        self.rate = rate
        self.maxRunAttempts = maxRunAttempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.limit = limit
        self.messagesPerConnection = messagesPerConnection
    }
}

/// Live counts of a run, for the progress display.
public struct SendProgress: Sendable {
    public var sent = 0
    public var deferred = 0
    public var failed = 0
    public var inDoubt = 0
    /// What the run still has to send (pending at the start, less what was handled).
    public var remaining = 0
    public var elapsed: TimeInterval = 0

    public var handled: Int { sent + deferred + failed + inDoubt }
    public var rate: Double { elapsed > 0 ? Double(handled) / elapsed : 0 }
}

/// Sends one run through a pool of connections, recording every reply in the ledger as it arrives.
///
/// Each worker claims a message (committed as `sending` before anything goes out), sends it on its own
/// connection and records the reply. A crash at any point leaves at most the claimed-but-unrecorded
/// messages in doubt; nobody recorded as sent is sent again.
public final class BulkSender: @unchecked Sendable {
    public typealias MessageFactory = @Sendable (Delivery) throws -> OutgoingMessage
    public typealias TransportFactory = @Sendable () throws -> any MailTransport

    let store: any ListStore
    let run: String
    let options: SendOptions
    let makeMessage: MessageFactory
    let makeTransport: TransportFactory
    public let now: @Sendable () -> Date

    private let lock = NSLock()
    private var progress = SendProgress()
    private var claimed = 0
    private var stopRequested = false
    private var setupError: String?
    private var nextSlot: Date = .distantPast

    public init(
        store: any ListStore, run: String, options: SendOptions, now: @escaping @Sendable () -> Date = Date.init,
        makeMessage: @escaping MessageFactory, makeTransport: @escaping TransportFactory
    ) {
        self.store = store
        self.run = run
        self.options = options
        self.now = now
        self.makeMessage = makeMessage
        self.makeTransport = makeTransport
    }

    /// Asks the workers to stop after the messages in flight (Ctrl-C).
    public func stop() {
        lock.withLock { stopRequested = true }
    }

    public var isStopping: Bool { lock.withLock { stopRequested } }

    public var currentProgress: SendProgress { lock.withLock { progress } }

    /// A connection that could not be set up (bad URL, no TLS library): the run stops with this.
    public var failure: String? { lock.withLock { setupError } }

    /// Runs the workers to the end: everything sent, stopped, or the limit reached. `remaining` is what
    /// the ledger had to send at the start.
    public func send(remaining: Int) {
        let started = now()
        lock.withLock { progress.remaining = remaining }
        let ledger = LedgerPipeline(store: store, run: run, maxRunAttempts: options.maxRunAttempts, now: now)
        let group = DispatchGroup()
        for _ in 0..<max(1, options.connections) {
            group.enter()
            let thread = Thread { [self] in
                work(ledger: ledger, started: started)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        do {
            try ledger.close()
        } catch {
            lock.withLock { if setupError == nil { setupError = "\(error)" } }
        }
        lock.withLock { progress.elapsed = now().timeIntervalSince(started) }
    }

    private func takeSlot() -> Bool {
        lock.withLock {
            if stopRequested || setupError != nil { return false }
            if let limit = options.limit, claimed >= limit { return false }
            claimed += 1
            return true
        }
    }

    private func returnSlot() {
        lock.withLock { claimed -= 1 }
    }

    /// Waits for this message's turn under the overall rate limit.
    private func pace() {
        guard let rate = options.rate, rate > 0 else { return }
        let wait: TimeInterval = lock.withLock {
            let current = now()
            let slot = max(nextSlot, current)
            nextSlot = slot.addingTimeInterval(1 / rate)
            return slot.timeIntervalSince(current)
        }
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    }

    private func backoff(attempt: Int) -> TimeInterval {
        let exponential = min(options.maxBackoff, options.backoff * pow(2, Double(max(0, attempt - 1))))
        return exponential * Double.random(in: 0.5...1.0)
    }

    private func work(ledger: LedgerPipeline, started: Date) {
        var transport: (any MailTransport)?
        var sentOnConnection = 0
        var previous: LedgerPipeline.Reply?
        defer { if let previous { ledger.record(previous) } }
        while takeSlot() {
            let next: LedgerPipeline.Next
            do {
                next = try ledger.next(recording: previous)
                previous = nil
            } catch {
                previous = nil
                returnSlot()
                lock.withLock { if setupError == nil { setupError = "\(error)" } }
                return
            }
            switch next {
            case .finished:
                returnSlot()
                return
            case .waitUntil(let date):
                returnSlot()
                // Only deferred messages are left: wait for the first retry time, a little at a time so
                // that a stop is noticed.
                Thread.sleep(forTimeInterval: min(0.5, max(0.01, date.timeIntervalSince(now()))))
                continue
            case .ticket(let ticket):
                let delivery = ticket.delivery
                do {
                    if transport == nil || (options.messagesPerConnection.map { sentOnConnection >= $0 } ?? false) {
                        transport = nil
                        transport = try makeTransport()
                        sentOnConnection = 0
                    }
                } catch {
                    ledger.release(ticket)
                    returnSlot()
                    lock.withLock { setupError = "cannot set up the SMTP connection: \(error)" }
                    return
                }
                guard let connection = transport else { return }
                let message: OutgoingMessage
                do {
                    message = try makeMessage(delivery)
                } catch {
                    ledger.fail(ticket, reason: "could not build the message: \(error)")
                    if ticket.waitClaimed() { lock.withLock { progress.failed += 1 } }
                    continue
                }
                pace()
                // The claim commits while the message goes out; its last bytes wait for it.
                let outcome = connection.deliver(message, beforeEnd: { ticket.waitClaimed() })
                guard ticket.waitClaimed() else {
                    // Not this run's to send (the reader left, or the ledger failed): nothing was delivered,
                    // and a transfer stopped short makes the transport start its next one afresh itself.
                    returnSlot()
                    if let failure = ledger.failure {
                        lock.withLock { if setupError == nil { setupError = failure } }
                        return
                    }
                    continue
                }
                // A failure of the set-up (a wrong password, no STARTTLS), or a relay that cannot be reached
                // before any message of this session was accepted: every further message would fail the same
                // way. The run stops at once and this reader waits for the next run with no attempt spent.
                let relayDown = outcome.noSession && lock.withLock { progress.sent == 0 }
                if outcome.stopsTheRun || relayDown {
                    ledger.release(ticket)
                    transport = nil
                    lock.withLock {
                        if setupError == nil {
                            setupError =
                                relayDown
                                ? "the relay cannot be reached: \(outcome.reply). No message was sent and no reader's "
                                    + "attempts were spent." : outcome.reply
                        }
                    }
                    return
                }
                sentOnConnection += 1
                let retryAt: Date? =
                    outcome.status == .deferred
                    ? now().addingTimeInterval(backoff(attempt: delivery.runAttempts + 1)) : nil
                previous = LedgerPipeline.Reply(
                    ticket: ticket, outcome: outcome, messageID: message.messageID, retryAt: retryAt)
                lock.withLock {
                    switch outcome.status {
                    case .accepted: progress.sent += 1
                    case .deferred: progress.deferred += delivery.runAttempts + 1 >= options.maxRunAttempts ? 1 : 0
                    case .rejected: progress.failed += 1
                    case .inDoubt: progress.inDoubt += 1
                    }
                    progress.elapsed = now().timeIntervalSince(started)
                }
                // A retry of the same message does not use a slot of the limit twice.
                if outcome.status == .deferred && delivery.runAttempts + 1 < options.maxRunAttempts { returnSlot() }
            }
        }
    }
}
