import DigestCore
import DigestCurl
import DigestMail
import DigestSending
import DigestStore
import Foundation

/// The SMTP relay an edition goes through: the publication's `smtp.url` or the one given, with the
/// credentials from the environment (`DIGEST_SMTP_USER`, `DIGEST_SMTP_PASSWORD` or `…_FILE`).
public enum SMTPRelay {
    public static func configuration(
        publication: Publication, url override: String?, secrets: Secrets
    ) throws -> CurlSMTPTransport.Configuration {
        let variables = secrets.variables
        let password = try secrets.secret("DIGEST_SMTP_PASSWORD", what: "SMTP password").map {
            String(decoding: $0, as: UTF8.self)
        }
        let user = variables["DIGEST_SMTP_USER"].flatMap { $0.isEmpty ? nil : $0 }
        if password != nil && user == nil {
            throw WorkflowError("a password is set but DIGEST_SMTP_USER is not: set both, or neither")
        }
        return CurlSMTPTransport.Configuration(
            url: override ?? publication.smtp.url, helo: publication.smtp.helo ?? publication.sender.address.domain,
            caFile: variables["DIGEST_SMTP_CA_FILE"] ?? publication.smtp.caFile, username: user, password: password)
    }
}

/// `digest send --to`: test copies to a few addresses; the ledger is not touched.
public enum TestCopies {
    /// What the editor is told before the first copy goes.
    public struct Plan: Sendable {
        public var subject: String
        public var recipients: [EmailAddress]
        public var via: String
        /// No unsubscribe key is set, so the copies carry the publication's page, not a signed link.
        public var unsigned: Bool
    }

    /// Sends one copy to each address, in order; `each` hears every outcome as it arrives.
    public static func send(
        to recipients: [EmailAddress], loaded: LoadedEdition, smtp: String?, environment: DigestEnvironment,
        plan: (Plan) -> Void, each: (DeliveryOutcome) -> Void
    ) throws -> [DeliveryOutcome] {
        var seen = Set<EmailAddress>()
        let recipients = recipients.filter { seen.insert($0).inserted }
        let secrets = Secrets(variables: environment.variables, workspace: loaded.workspace)
        let unsubscribe = try secrets.unsubscribeSigner(listID: loaded.publication.listID)
        let signer = try secrets.dkimSigner(loaded.publication.dkim)
        let configuration = try SMTPRelay.configuration(publication: loaded.publication, url: smtp, secrets: secrets)
        let transport: CurlSMTPTransport
        do {
            transport = try CurlSMTPTransport(configuration: configuration)
        } catch {
            throw WorkflowError("\(error)")
        }
        let builder = DigestMessageBuilder(
            publication: loaded.publication,
            rendered: unsubscribe == nil ? loaded.rendered : try loaded.renderer.renderForReaders(loaded.edition),
            identity: environment.identity, unsubscribe: unsubscribe, signer: signer)
        plan(
            Plan(
                subject: loaded.rendered.subject, recipients: recipients, via: configuration.url,
                unsigned: unsubscribe == nil))
        var outcomes: [DeliveryOutcome] = []
        for recipient in recipients {
            let outcome = transport.deliver(
                try builder.message(to: Reader(address: recipient), date: environment.now()))
            outcomes.append(outcome)
            each(outcome)
        }
        return outcomes
    }
}

/// How `digest send` to subscribers runs: everything but the edition.
public struct SendSettings: Sendable {
    /// The relay instead of the publication's `smtp.url`.
    public var smtp: String?
    public var options: SendOptions
    /// Write the messages into this Maildir instead of sending them (a run of its own).
    public var dryRun: URL?
    /// Send again to readers whose messages were in flight when an earlier run died.
    public var resendInDoubt: Bool
    /// Start a new run of the edition as it is now, for the readers earlier runs have not sent to.
    public var newRun: Bool

    public init(
        smtp: String? = nil, options: SendOptions = SendOptions(), dryRun: URL? = nil, resendInDoubt: Bool = false,
        newRun: Bool = false
    ) {
        self.smtp = smtp
        self.options = options
        self.dryRun = dryRun
        self.resendInDoubt = resendInDoubt
        self.newRun = newRun
    }
}

/// `digest send` to every subscriber: one ledger run, started or resumed, each reader's message built from
/// one builder and sent through the bulk sender. `digest-bench` runs the same type.
public final class SubscriberRun: @unchecked Sendable {
    /// The run's name in the ledger.
    public let key: String
    public let start: Store.RunStart
    /// Pending and deferred messages at the start of this session.
    public let remaining: Int
    /// Where the messages go, for the editor: the relay's URL or the Maildir.
    public let via: String
    public let sender: BulkSender
    /// What changed since the run was frozen at its first start ("the edition", "the templates or
    /// publication.yaml"): the run goes on with the frozen rendering all the same.
    public var changedSinceFrozen: [String] = []
    /// The subject readers of this run get: the frozen one.
    public var subject: String = ""
    let store: any ListStore

    /// A run over `store`'s ledger run `key` (already started), each message built by `builder`.
    public init(
        store: any ListStore, key: String, start: Store.RunStart, builder: DigestMessageBuilder,
        options: SendOptions, via: String, now: @escaping @Sendable () -> Date = Date.init,
        returnPath: BounceAddress? = nil, makeTransport: @escaping BulkSender.TransportFactory
    ) throws {
        self.store = store
        self.key = key
        self.start = start
        self.via = via
        let counts = try store.deliveryCounts(key)
        self.remaining = (counts[.pending] ?? 0) + (counts[.deferred] ?? 0)
        self.sender = BulkSender(
            store: store, run: key, options: options, now: now,
            makeMessage: { delivery in
                var message = try Self.message(for: delivery, builder: builder, date: now())
                // VERP: a bounce names its run and reader exactly, even when the DSN quotes no address.
                if let returnPath,
                    let address = returnPath.address(for: BounceToken(run: key, subscriberID: delivery.subscriberId))
                        .flatMap({ EmailAddress($0) })
                {
                    message.envelopeFrom = address
                }
                return message
            },
            makeTransport: makeTransport)
    }

    /// Starts or resumes the run of `loaded`'s edition with the workspace's store, keys and relay.
    public static func prepare(_ loaded: LoadedEdition, settings: SendSettings, environment: DigestEnvironment) throws
        -> SubscriberRun
    {
        let secrets = Secrets(variables: environment.variables, workspace: loaded.workspace)
        guard let unsubscribe = try secrets.unsubscribeSigner(listID: loaded.publication.listID) else {
            throw WorkflowError(
                "sending to subscribers needs the unsubscribe signing key: set DIGEST_UNSUBSCRIBE_KEY or "
                    + "DIGEST_UNSUBSCRIBE_KEY_FILE (at least 16 random bytes, e.g. openssl rand -hex 32)")
        }
        let signer = try secrets.dkimSigner(loaded.publication.dkim)
        let store = try environment.openStore(loaded.workspace)
        let relay =
            try settings.dryRun.map { "the Maildir \($0.path)" }
            ?? SMTPRelay.configuration(publication: loaded.publication, url: settings.smtp, secrets: secrets).url
        let date = loaded.edition.date.description
        var forReaders = try loaded.renderer.renderForReaders(loaded.edition)
        var archive = loaded.rendered
        var storyLinks: [String]?
        // Counted clicks: each story's links, in the messages and in the archive's copy readers open with
        // "view in browser", go through digest serve's /l/ address.
        if loaded.publication.tracking.clicks == .stories, let base = loaded.publication.clickBaseURL {
            let links = ClickTracking.storyLinks(loaded.edition)
            let signer = ClickSigner(unsubscribe)
            let link = { (story: Int, url: String) in signer.link(base: base, date: date, story: story, url: url) }
            forReaders = ClickTracking.rewrite(forReaders, storyLinks: links, link: link)
            archive = ClickTracking.rewrite(archive, storyLinks: links, link: link)
            storyLinks = links
        }
        let current = FrozenEdition(
            date: date, forReaders: forReaders, archive: archive,
            editionFingerprint: Fingerprint.edition(loaded), templatesFingerprint: Fingerprint.templates(loaded),
            storyLinks: storyLinks, storyTitles: loaded.edition.items.map(\.title))
        let base = Delivery.runKey(for: loaded.edition.date, dryRun: settings.dryRun != nil)
        let earlier = try store.runs(date: date).map(\.name).filter { $0 == base || $0.hasPrefix(base + "#") }
        // A resume goes on with the edition's latest run; --new-run starts the next one.
        var key = earlier.last ?? base
        var supersedes: [String] = []
        if settings.newRun && !earlier.isEmpty {
            supersedes = earlier
            key = base + "#\(earlier.count + 1)"
        }
        let start = try store.startRun(
            key, resendInDoubt: settings.resendInDoubt, now: environment.now(),
            plan: Store.RunPlan(
                date: date, freeze: current, kind: settings.dryRun == nil ? .run : .dryRun, relay: relay,
                supersedes: supersedes))
        // Every message of a run, resumed or not, is built from what it froze at its first start.
        let frozen = start.frozen ?? current
        var changed: [String] = []
        if frozen.editionFingerprint != current.editionFingerprint { changed.append("the edition") }
        if frozen.templatesFingerprint != current.templatesFingerprint {
            changed.append("the templates or publication.yaml")
        }
        let builder = DigestMessageBuilder(
            publication: loaded.publication, rendered: frozen.forReaders ?? current.forReaders ?? loaded.rendered,
            identity: environment.identity, unsubscribe: unsubscribe, signer: signer)
        let makeTransport: BulkSender.TransportFactory
        if let folder = settings.dryRun {
            makeTransport = { try MaildirTransport(folder: folder) }
        } else {
            let configuration = try SMTPRelay.configuration(
                publication: loaded.publication, url: settings.smtp, secrets: secrets)
            makeTransport = { try CurlSMTPTransport(configuration: configuration) }
        }
        let returnPath = try secrets.bounceAddress(loaded.publication.bounce, listID: loaded.publication.listID)
        let run = try SubscriberRun(
            store: store, key: key, start: start, builder: builder, options: settings.options, via: relay,
            now: environment.now, returnPath: returnPath, makeTransport: makeTransport)
        run.changedSinceFrozen = changed
        run.subject = frozen.archive.subject
        return run
    }

    /// What a send to subscribers is about to do, read without writing anything: for the editor's confirmation.
    public struct Plan: Sendable {
        public var subject: String
        /// Readers this session would send to: the active subscribers for a new run, what is left for a resume.
        public var readers: Int
        public var resuming: Bool
        public var relay: String
        /// The domain the messages are signed for, or nil without DKIM.
        public var dkimDomain: String?
    }

    public static func plan(_ loaded: LoadedEdition, settings: SendSettings, environment: DigestEnvironment) throws
        -> Plan
    {
        let secrets = Secrets(variables: environment.variables, workspace: loaded.workspace)
        let relay =
            try settings.dryRun.map { "the Maildir \($0.path)" }
            ?? SMTPRelay.configuration(publication: loaded.publication, url: settings.smtp, secrets: secrets).url
        let store = try environment.openStore(loaded.workspace)
        let key = Delivery.runKey(for: loaded.edition.date, dryRun: settings.dryRun != nil)
        let existing = try store.runs(date: loaded.edition.date.description).last {
            $0.name == key || $0.name.hasPrefix(key + "#")
        }
        var subject = loaded.rendered.subject
        var readers = try store.counts()[.active] ?? 0
        if let existing, !settings.newRun {
            readers = (existing.counts[.pending] ?? 0) + (existing.counts[.deferred] ?? 0)
            subject = existing.subject ?? subject
        }
        return Plan(
            subject: subject, readers: readers, resuming: existing != nil && !settings.newRun, relay: relay,
            dkimDomain: loaded.publication.dkim?.domain)
    }

    /// A reader's message: the run's shared parts with the reader's own lines.
    public static func message(for delivery: Delivery, builder: DigestMessageBuilder, date: Date) throws
        -> OutgoingMessage
    {
        try builder.message(
            to: Reader(
                id: String(delivery.subscriberId), mailbox: Mailbox(name: delivery.name, address: delivery.email)),
            date: date)
    }

    /// Sends until everything is handled, the limit is reached or `stop()` is called; blocks.
    public func send() -> Outcome {
        sender.send(remaining: remaining)
        let outcome = Outcome(progress: sender.currentProgress, failure: sender.failure, stopped: sender.isStopping)
        let counts = (try? store.deliveryCounts(key)) ?? [:]
        let open = (counts[.pending] ?? 0) + (counts[.deferred] ?? 0) + (counts[.sending] ?? 0)
        try? store.noteSessionEnd(key, finished: open == 0, now: sender.now())
        return outcome
    }

    /// Readers of the run handled in earlier sessions (sent, failed, in doubt, left): where progress starts.
    public var handledBefore: Int { start.recipients - remaining }

    /// Asks the connections to stop after the messages in flight (Ctrl-C).
    public func stop() { sender.stop() }

    /// How a session of the run ended.
    public struct Outcome: Sendable {
        public var progress: SendProgress
        /// A connection could not be set up; nothing was lost.
        public var failure: String?
        /// Stopped on request before the end.
        public var stopped: Bool
    }

    /// The run's account from the ledger: counts per state, and up to `limit` readers of each state that
    /// needs the editor's eye.
    public func ledger(limit: Int = 50) throws -> Ledger {
        Ledger(
            counts: try store.deliveryCounts(key), failed: try store.deliveries(key, state: .failed, limit: limit),
            deferred: try store.deliveries(key, state: .deferred, limit: limit),
            doubt: try store.deliveries(key, state: .doubt, limit: limit))
    }

    public struct Ledger: Sendable {
        public var counts: [Delivery.State: Int]
        public var failed: [Delivery]
        public var deferred: [Delivery]
        public var doubt: [Delivery]
        /// Every reader of the run is recorded as sent, or left the list during it, or went to a later run.
        public var allSent: Bool {
            counts.filter { ![.sent, .left, .superseded].contains($0.key) }.values.reduce(0, +) == 0
        }
    }
}
