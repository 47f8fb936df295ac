import Crypto
import DigestBounces
import DigestCore
import DigestCurl
import DigestMail
import DigestStore
import Foundation

/// `digest bounces fetch`: reads the new messages of the bounce mailbox (`bounce: mailbox:` in publication.yaml),
/// finds the reader each report is about (the signed VERP token first, else the address the report names), and
/// records them through the store: hard bounces take a reader off the list, soft ones count, complaints mark the
/// reader complained.
///
/// Safe to kill at any point and to run again: each message's events are recorded and the message marked read in
/// one transaction, and the message is moved or deleted only after that commit; a message read before but still
/// in the mailbox (the process died between the two) is moved or deleted on the next run, never counted again.
public enum BounceFetch {
    /// What became of one reader named by a report.
    public struct ReaderLine: Sendable, Equatable, Encodable {
        public enum Outcome: String, Sendable, Encodable {
            case bounced, complained, soft, recorded, duplicate
            case notOnList = "not-on-list"
        }

        public var address: String
        public var outcome: Outcome
        /// `hard`, `soft`, `complaint` or `none`.
        public var kind: String
        public var status: String
        public var reason: String
        /// The run the VERP token names, or empty.
        public var run: String
        /// Soft bounces in the window, for `soft`.
        public var softCount: Int?
        /// The line as printed.
        public var text: String

        enum CodingKeys: String, CodingKey {
            case address, outcome, kind, status, reason, run, text
            case softCount = "soft_count"
        }
    }

    /// The counts of one fetch.
    public struct Summary: Sendable, Equatable, Encodable {
        public var mailbox: String
        /// Messages in the mailbox when the fetch began.
        public var inMailbox = 0
        /// New messages read and recorded.
        public var read = 0
        public var bounced = 0
        public var complained = 0
        public var softCounted = 0
        /// Kept without effect: a refusal of the message (class none), or a reader already off the list.
        public var recorded = 0
        public var duplicates = 0
        public var notOnList = 0
        public var autoReplies = 0
        /// Delivery reports and delay warnings.
        public var deliveryReports = 0
        public var notReports = 0
        /// Failed recipients whose address could not be read and whose report carried no token of ours.
        public var unidentified = 0
        public var moved = 0
        public var deleted = 0
        /// Why the fetch stopped before the end; nil when it read everything.
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case mailbox, read, bounced, complained, recorded, duplicates, moved, deleted, unidentified, error
            case inMailbox = "in_mailbox"
            case softCounted = "soft_counted"
            case notOnList = "not_on_list"
            case autoReplies = "auto_replies"
            case deliveryReports = "delivery_reports"
            case notReports = "not_reports"
        }
    }

    public struct Report: Sendable, Equatable, Encodable {
        public var readers: [ReaderLine] = []
        public var summary: Summary
        /// Things the editor should know (no bounce key, so no VERP tokens were read).
        public var notes: [String] = []
    }

    /// Makes the mailbox reader; tests pass their own.
    public typealias MailboxFactory = @Sendable (CurlMailbox.Configuration) throws -> any MailboxReader

    public static let liveMailbox: MailboxFactory = { try CurlMailbox(configuration: $0) }

    /// Reads the mailbox of the workspace's publication. `each` hears every reader line as it is recorded.
    /// Throws (kind `.unavailable`) when the mailbox cannot be read at all: nothing is recorded then. A failure
    /// after some messages returns the report with `summary.error` set.
    public static func fetch(
        workspace explicit: String?, environment: DigestEnvironment, makeMailbox: MailboxFactory = liveMailbox,
        each: (ReaderLine) -> Void = { _ in }
    ) throws -> Report {
        let workspace = try environment.workspace(explicit)
        let publication = try workspace.loadPublication()
        guard let settings = publication.bounce, let mailbox = settings.mailbox else {
            throw WorkflowError(
                "publication.yaml names no bounce mailbox\n  fix: add under bounce: a line such as "
                    + "mailbox: imaps://bounces@mail.example.org:993/INBOX (the password in DIGEST_BOUNCE_PASSWORD)",
                kind: .badInput)
        }
        let secrets = Secrets(variables: environment.variables, workspace: workspace)
        guard
            let password = try secrets.secret("DIGEST_BOUNCE_PASSWORD", what: "bounce mailbox password").map({
                String(decoding: $0, as: UTF8.self)
            })
        else {
            throw WorkflowError(
                "set DIGEST_BOUNCE_PASSWORD (or DIGEST_BOUNCE_PASSWORD_FILE) to the password of '\(mailbox.user)' "
                    + "at \(mailbox.address)", kind: .badInput)
        }
        var notes: [String] = []
        let returnPath: BounceAddress?
        do {
            returnPath = try secrets.bounceAddress(settings, listID: publication.listID)
        } catch {
            returnPath = nil
            notes.append(
                "no bounce key (DIGEST_BOUNCE_KEY or the unsubscribe key): readers are found by the addresses the "
                    + "reports name, not by their signed return paths")
        }
        let caFile =
            (environment.variables["DIGEST_BOUNCE_CA_FILE"].flatMap { $0.isEmpty ? nil : $0 })
            ?? settings.caFile.map { workspace.resolve($0).path }
        let store = try environment.openStore(workspace)
        let reader: any MailboxReader
        do {
            reader = try makeMailbox(.init(mailbox: mailbox, password: password, caFile: caFile))
        } catch {
            throw WorkflowError("cannot read the bounce mailbox: \(error)", kind: .unavailable)
        }
        var run = FetchRun(
            store: store, mailbox: mailbox, settings: settings, returnPath: returnPath, source: reader.protocolName,
            now: environment.now)
        run.report.notes = notes
        try run.go(reader, each: each)
        return run.report
    }

    /// One fetch's state.
    struct FetchRun {
        let store: any ListStore
        let mailbox: BounceMailbox
        let settings: BounceSettings
        let returnPath: BounceAddress?
        let source: String
        let now: @Sendable () -> Date
        var report: Report

        init(
            store: any ListStore, mailbox: BounceMailbox, settings: BounceSettings, returnPath: BounceAddress?,
            source: String, now: @escaping @Sendable () -> Date
        ) {
            self.store = store
            self.mailbox = mailbox
            self.settings = settings
            self.returnPath = returnPath
            self.source = source
            self.now = now
            report = Report(summary: Summary(mailbox: mailbox.url))
        }

        var policy: BouncePolicy { BouncePolicy(softLimit: settings.softLimit, softDays: settings.softDays) }

        mutating func go(_ reader: any MailboxReader, each: (ReaderLine) -> Void) throws {
            let entries: [MailboxEntry]
            let processed: Set<String>
            do {
                entries = try reader.list()
            } catch {
                throw WorkflowError("cannot read the bounce mailbox: \(error)", kind: .unavailable)
            }
            processed = try store.processedMailboxMessages(mailbox: mailbox.url)
            report.summary.inMailbox = entries.count
            do {
                for entry in entries {
                    if processed.contains(entry.id) {
                        // Read before, and the process ended before the message was moved or deleted.
                        try after(entry, reader)
                        continue
                    }
                    let bytes = try reader.fetch(entry)
                    try record(entry, bytes: bytes, each: each)
                    try after(entry, reader)
                }
                try reader.finish()
            } catch let error as MailboxError {
                report.summary.error = error.description
                try? reader.finish()
            }
        }

        private mutating func after(_ entry: MailboxEntry, _ reader: any MailboxReader) throws {
            switch settings.after {
            case .keep: return
            case .delete:
                try reader.delete(entry)
                report.summary.deleted += 1
            case .move(let folder):
                try reader.move(entry, to: folder)
                report.summary.moved += 1
            }
        }

        private mutating func record(_ entry: MailboxEntry, bytes: [UInt8], each: (ReaderLine) -> Void) throws {
            let at = now()
            let read = try BounceFetch.events(
                in: bytes, returnPath: returnPath, source: source, at: at,
                readerAddress: { id in try store.subscriber(id: id)?.email })
            switch read.message.kind {
            case .autoReply: report.summary.autoReplies += 1
            case .deliveryReport: report.summary.deliveryReports += 1
            case .notAReport: report.summary.notReports += 1
            case .bounce, .complaint: break
            }
            report.summary.unidentified += read.unidentified
            guard
                let outcomes = try store.recordMailboxMessage(
                    mailbox: mailbox.url, messageID: entry.id, events: read.events, policy: policy, now: at)
            else { return }  // another fetch recorded it meanwhile
            report.summary.read += 1
            for (event, outcome) in zip(read.events, outcomes) {
                let line = BounceFetch.line(event, outcome, policy: policy)
                switch line.outcome {
                case .bounced: report.summary.bounced += 1
                case .complained: report.summary.complained += 1
                case .soft: report.summary.softCounted += 1
                case .recorded: report.summary.recorded += 1
                case .duplicate: report.summary.duplicates += 1
                case .notOnList: report.summary.notOnList += 1
                }
                report.readers.append(line)
                each(line)
            }
        }
    }

    /// What one message of the mailbox says: the parsed report, one event per failed or complained recipient that
    /// could be named, and how many could not.
    public static func events(
        in bytes: [UInt8], returnPath: BounceAddress?, source: String, at: Date,
        readerAddress: (Int64) throws -> EmailAddress?
    ) throws -> (message: InspectedMessage, events: [BounceEvent], unidentified: Int) {
        let root = MIMEReader.parse(bytes)
        let message = BounceReader.inspect(root)
        guard message.kind == .bounce || message.kind == .complaint else { return (message, [], 0) }
        let reportKey = Self.reportKey(root, bytes: bytes)
        // The VERP token: where the report itself was delivered, else the bounced message's return path.
        var token: BounceToken?
        if let returnPath {
            var candidates: [String] = []
            for name in ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"] {
                candidates += root.headers(name).flatMap(Self.addresses(in:))
            }
            candidates += Self.addresses(in: message.deliveredTo) + Self.addresses(in: message.original.returnPath)
            token = candidates.lazy.compactMap { returnPath.parse($0) }.first
        }
        let tokenReader = try token.flatMap { try readerAddress($0.subscriberID) }
        var events: [BounceEvent] = []
        var unidentified = 0
        for report in message.reports {
            var address = EmailAddress(report.recipient)
            if let tokenReader,
                message.reports.count == 1 || report.recipient.isEmpty
                    || report.recipient.lowercased() == tokenReader.description.lowercased()
            {
                // The signed token names the reader exactly, even when the report names a forwarded address.
                address = tokenReader
            }
            guard let address else {
                unidentified += 1
                continue
            }
            let kind = BounceEvent.Kind(rawValue: report.bounceClass.rawValue) ?? BounceEvent.Kind.none
            events.append(
                BounceEvent(
                    reportKey: reportKey, address: address, run: tokenReader == address ? token?.run ?? "" : "",
                    kind: kind, status: report.status, replyCode: report.replyCode, diagnostic: report.diagnostic,
                    reason: report.reason, source: source, at: at))
        }
        return (message, events, unidentified)
    }

    /// The report's Message-ID, else `sha256:<hex>` of its bytes.
    static func reportKey(_ root: MIMEEntity, bytes: [UInt8]) -> String {
        if let id = root.header("Message-ID")?.trimmingCharacters(in: .whitespacesAndNewlines), !id.isEmpty {
            return id
        }
        return "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The address-like words of a header value (`Name <a@b>, c@d` → a@b, c@d).
    static func addresses(in value: String) -> [String] {
        value.split(whereSeparator: { " \t\r\n,;<>\"()".contains($0) }).map(String.init).filter { $0.contains("@") }
    }

    /// The printed line for one recorded event.
    static func line(_ event: BounceEvent, _ outcome: BounceOutcome, policy: BouncePolicy) -> ReaderLine {
        let code = event.status.isEmpty ? event.replyCode : event.status
        let what = [code, event.reason].filter { !$0.isEmpty }.joined(separator: " ")
        let detail = "(\(event.kind.rawValue)\(what.isEmpty ? "" : ", \(what)"))"
        let address = event.address.description
        var softCount: Int?
        let (kind, text): (ReaderLine.Outcome, String)
        switch outcome {
        case .bounced:
            (kind, text) = (.bounced, "\(address): bounced \(detail) — off the list")
        case .complained:
            (kind, text) = (.complained, "\(address): complained — never mailed again")
        case .counted(let soft):
            softCount = soft
            (kind, text) = (
                .soft,
                "\(address): soft bounce \(soft) of \(policy.softLimit) in \(policy.softDays) days"
                    + (what.isEmpty ? "" : " (\(what))")
            )
        case .recorded:
            (kind, text) =
                event.kind == BounceEvent.Kind.none
                ? (.recorded, "\(address): the message was refused \(detail) — not the reader's fault, kept")
                : (.recorded, "\(address): recorded \(detail) — already off the list")
        case .duplicate:
            (kind, text) = (.duplicate, "\(address): this report was recorded before")
        case .unknownReader:
            (kind, text) = (.notOnList, "\(address): not on the list \(detail)")
        }
        return ReaderLine(
            address: address, outcome: kind, kind: event.kind.rawValue, status: event.status, reason: event.reason,
            run: event.run, softCount: softCount, text: text)
    }

    /// The summary line.
    public static func summaryLine(_ summary: Summary, after: BounceSettings.AfterFetch) -> String {
        var parts: [String] = []
        func add(_ count: Int, _ one: String, _ many: String) {
            if count > 0 { parts.append("\(count) \(count == 1 ? one : many)") }
        }
        add(summary.bounced, "bounced", "bounced")
        add(summary.softCounted, "soft bounce counted", "soft bounces counted")
        add(summary.complained, "complained", "complained")
        add(summary.recorded, "recorded without effect", "recorded without effect")
        add(summary.notOnList, "not on the list", "not on the list")
        add(summary.duplicates, "recorded before", "recorded before")
        add(summary.unidentified, "recipient not identified", "recipients not identified")
        add(summary.autoReplies, "auto-reply ignored", "auto-replies ignored")
        add(summary.deliveryReports, "delivery report ignored", "delivery reports ignored")
        add(summary.notReports, "other message ignored", "other messages ignored")
        var line =
            "\(summary.read) new message\(summary.read == 1 ? "" : "s") read of \(summary.inMailbox) in the mailbox"
        if !parts.isEmpty { line += ": " + parts.joined(separator: ", ") }
        if case .move(let folder) = after, summary.moved > 0 { line += "; \(summary.moved) moved to \(folder)" }
        if summary.deleted > 0 { line += "; \(summary.deleted) deleted" }
        return line + "."
    }
}
