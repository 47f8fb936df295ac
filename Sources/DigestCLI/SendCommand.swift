import ArgumentParser
import DigestCore
import DigestMail
import DigestSending
import DigestStore
import DigestWorkflow
import Foundation

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send an edition to every active subscriber, or a test copy to given addresses.",
        discussion: """
            Without --to, the run's recipients (the active subscribers at its first start) are recorded in the
            delivery ledger, and every reply is recorded as it arrives: run it again after a crash or a failed
            server and it goes on where it stopped, sending nobody a second copy. Messages in flight at a
            crash are reported as in doubt and sent again only with --resend-in-doubt.
            With --to, test copies go to the given addresses and the ledger is not touched.
            The server is the publication's smtp.url unless --smtp is given. Credentials come only from the
            environment: DIGEST_SMTP_USER, and DIGEST_SMTP_PASSWORD or DIGEST_SMTP_PASSWORD_FILE.
            """
    )

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @Option(help: "Send test copies to these comma-separated addresses only, e.g. editor@example.com.")
    var to: String?

    @Option(help: "The SMTP server, smtp://host:587 (STARTTLS) or smtps://host:465. Default: from publication.yaml.")
    var smtp: String?

    @Option(help: "SMTP connections at once.")
    var connections = 4

    @Option(help: "At most this many messages per second, over all connections.")
    var rate: Double?

    @Option(help: "Send at most this many messages now; the next run sends the rest.")
    var limit: Int?

    @Option(help: "Tries per message in this run for temporary failures (4xx, lost connections).")
    var maxAttempts = 3

    @Option(help: "Seconds before the first retry; each further retry waits twice as long.")
    var retryDelay: Double = 2

    @Option(help: "Open a new connection after this many messages.")
    var messagesPerConnection: Int?

    @Option(help: "Write the messages into this Maildir folder instead of sending them (its own ledger run).")
    var dryRun: String?

    @Flag(help: "Send again to readers whose messages were in flight when an earlier run died.")
    var resendInDoubt = false

    @Flag(help: "Send without asking (for scripts and timers); without a terminal digest send needs it.")
    var yes = false

    @Option(help: "Wait until this time of day (HH:MM in the publication's time zone), then send.")
    var at: String?

    @Flag(help: "Send only if digest check passed on the edition exactly as it is now (for timers).")
    var ifChecked = false

    @Flag(help: "Send even though the offline checks find errors (an empty edition, two leads, …).")
    var noCheck = false

    @Flag(help: "Start a new run of the edition as it is now, for the readers earlier runs did not send to.")
    var newRun = false

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if let smtp, let problem = SMTPSettings.problem(with: smtp) { throw ValidationError(problem) }
        if !(1...64).contains(connections) { throw ValidationError("--connections must be between 1 and 64") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be above 0") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if !(1...20).contains(maxAttempts) { throw ValidationError("--max-attempts must be between 1 and 20") }
        if let at, Schedule.moment(at, on: Date(), in: .gmt) == nil {
            throw ValidationError("--at takes a time of day, HH:MM (or HH:MM:SS), e.g. --at 07:00")
        }
        guard let to else { return }
        let addresses = Self.split(to)
        if addresses.isEmpty { throw ValidationError("--to needs at least one address") }
        let bad = addresses.filter { EmailAddress(idn: $0) == nil }
        if !bad.isEmpty {
            throw ValidationError(
                bad.map { "'\($0)' is not an email address: \(EmailAddress.reason($0))" }.joined(separator: "\n"))
        }
        if dryRun != nil { throw ValidationError("--dry-run writes the whole run; leave out --to") }
        if at != nil || newRun || ifChecked {
            throw ValidationError("--at, --if-checked and --new-run are for a run to subscribers; leave out --to")
        }
    }

    /// This command line as typed, for "run it again" advice.
    static var sameCommand: String {
        (["digest"] + CommandLine.arguments.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(
            separator: " ")
    }

    static func split(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        if let warning = loaded.clippingWarning { Console.error(warning) }
        if let to {
            try sendTestCopies(to, loaded: loaded, environment: environment)
        } else {
            try sendToSubscribers(loaded: loaded, environment: environment)
        }
    }

    // MARK: Test copies

    func sendTestCopies(_ list: String, loaded: LoadedEdition, environment: DigestEnvironment) throws {
        let started = Date()
        let outcomes = try TestCopies.send(
            to: Self.split(list).compactMap { EmailAddress(idn: $0) }, loaded: loaded, smtp: smtp,
            environment: environment,
            plan: { plan in
                if plan.unsigned {
                    Console.error(
                        "note: DIGEST_UNSUBSCRIBE_KEY (or DIGEST_UNSUBSCRIBE_KEY_FILE) is not set, so these copies carry the "
                            + "publication's unsubscribe page instead of a signed one-click link")
                }
                let count = plan.recipients.count
                Console.out(
                    "Sending \"\(plan.subject)\" to \(count) address\(count == 1 ? "" : "es") via \(plan.via)")
            },
            each: { Console.out(DeliveryReport.line($0)) })
        Console.out(DeliveryReport.summary(outcomes, seconds: Date().timeIntervalSince(started)))
        if outcomes.contains(where: { $0.status != .accepted }) {
            throw ExitCode(ExitStatus.notAllDelivered)
        }
    }

    // MARK: The run to every subscriber

    func sendToSubscribers(loaded: LoadedEdition, environment: DigestEnvironment) throws {
        let settings = SendSettings(
            smtp: smtp,
            options: SendOptions(
                connections: connections, rate: rate, maxRunAttempts: maxAttempts, backoff: retryDelay,
                limit: limit, messagesPerConnection: messagesPerConnection),
            dryRun: dryRun.map(environment.path), resendInDoubt: resendInDoubt, newRun: newRun)
        if ifChecked { try SendGate.requireApproval(loaded) }
        if !noCheck {
            let report = try SendGate.check(loaded)
            if report.warnings > 0 {
                Console.out(
                    "Checked (offline): \(report.warnings) warning\(report.warnings == 1 ? "" : "s"), no error.")
            }
        }
        let date = loaded.edition.date
        if dryRun == nil && !yes {
            guard try confirm(try SubscriberRun.plan(loaded, settings: settings, environment: environment), date: date)
            else {
                Console.out("Not sent; nothing was changed.")
                return
            }
        }
        if let at {
            guard try waitUntil(at, publication: loaded.publication, environment: environment) else {
                Console.out("Cancelled before \(at): nothing was sent.")
                return
            }
        }
        let run = try SubscriberRun.prepare(loaded, settings: settings, environment: environment)
        let start = run.start
        if start.isNew {
            Console.out("Run \(run.key): recorded \(start.recipients) recipients (the active subscribers now).")
        } else if !run.changedSinceFrozen.isEmpty {
            Console.out(
                "note: \(run.changedSinceFrozen.joined(separator: " and ")) changed since run \(run.key) started; the rest "
                    + "of the list gets the message as it was frozen then, as the first readers did. To send the "
                    + "edition as it is now to the readers not yet sent, use --new-run.")
        }
        if !start.inDoubt.isEmpty {
            Console.out(
                "\(start.inDoubt.count) message\(start.inDoubt.count == 1 ? " was" : "s were") in flight when an earlier run stopped; "
                    + "the server may have them. Not sent again (use --resend-in-doubt to send them):")
            for delivery in start.inDoubt.prefix(20) { Console.out("  in doubt  \(delivery.email)") }
            if start.inDoubt.count > 20 {
                Console.out("  … and \(start.inDoubt.count - 20) more: digest runs \(date) lists them all")
            }
        }
        Console.out(
            "Sending \"\(run.subject)\": \(run.remaining) to go, \(connections) connection\(connections == 1 ? "" : "s") to \(run.via)"
        )
        let interrupt = Interrupt { run.stop() }
        let progress = ProgressDisplay(
            sender: run.sender, total: start.recipients, before: run.handledBefore, isTTY: Terminal.isTTY)
        progress.start()
        let outcome = run.send()
        progress.finish()
        interrupt.cancel()

        let ledger = try run.ledger()
        Console.out(SendReport(run: run.key, date: date, ledger: ledger, progress: outcome.progress).text())
        if let failure = outcome.failure {
            throw CommandFailure(message: "\(failure)\nNothing was lost: run \(Self.sameCommand) again to go on.")
        }
        if outcome.stopped {
            Console.out("Stopped. Run \(Self.sameCommand) again to send the rest.")
        }
        if !ledger.allSent || outcome.stopped {
            throw ExitCode(ExitStatus.notAllDelivered)
        }
    }

    /// Asks on a terminal before a send to the whole list (true to go on); refuses without one.
    func confirm(_ plan: SubscriberRun.Plan, date: EditionDate) throws -> Bool {
        let command = Self.sameCommand + " --yes"
        guard Terminal.isInteractive else {
            throw CommandFailure(
                message: "digest send mails every subscriber and asks first, but there is no terminal to ask on. "
                    + "For scripts and timers: \(command)", status: ExitStatus.usage)
        }
        Console.out(
            """
            \(plan.resuming ? "Resume the run of" : "Send") \(date): "\(plan.subject)"
              to \(plan.readers) reader\(plan.readers == 1 ? "" : "s")\(plan.resuming ? " not yet sent" : "")
              via \(plan.relay)
              signed \(plan.dkimDomain.map { "with DKIM for \($0)" } ?? "without DKIM")
            """)
        FileHandle.standardOutput.write(Data("Send now? [y/N] ".utf8))
        let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }

    /// Waits for `--at` in the publication's time zone; false when cancelled.
    func waitUntil(_ time: String, publication: Publication, environment: DigestEnvironment) throws -> Bool {
        let now = environment.now()
        guard let moment = Schedule.moment(time, on: now, in: publication.timeZone) else { return true }
        let zone = publication.timeZone.identifier
        guard moment >= now.addingTimeInterval(-60) else {
            throw CommandFailure(
                message: "\(time) has passed today in \(zone): not sent. Run without --at to send now.",
                status: ExitStatus.usage)
        }
        Console.out("Waiting until \(time) (\(zone)) to send; Ctrl-C cancels.")
        let cancelled = CancelFlag()
        let interrupt = Interrupt(message: "\nCancelled: nothing was sent.\n") { cancelled.cancel() }
        defer { interrupt.cancel() }
        guard Schedule.wait(until: moment, now: environment.now, stopped: { cancelled.isCancelled }) else {
            return false
        }
        if environment.now().timeIntervalSince(moment) > 300 {
            Console.out("note: it is past \(time) (the machine was asleep?): sending now.")
        }
        return true
    }
}

/// Set once, from a signal handler's queue; read by the waiting thread.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
}

/// Turns Ctrl-C (and SIGTERM) into a clean stop: the messages in flight finish and are recorded.
final class Interrupt: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(message: String = "\nStopping after the messages in flight…\n", _ handler: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data(message.utf8))
                handler()
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// A live progress bar on a terminal; a plain line every few seconds otherwise. Counts are the run's:
/// what earlier sessions handled plus this one's.
final class ProgressDisplay: @unchecked Sendable {
    let sender: BulkSender
    let total: Int
    let before: Int
    let isTTY: Bool
    private let done = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(sender: BulkSender, total: Int, before: Int, isTTY: Bool) {
        self.sender = sender
        self.total = total
        self.before = before
        self.isTTY = isTTY
    }

    func start() {
        let thread = Thread { [self] in
            let interval: TimeInterval = isTTY ? 0.25 : 5
            while done.wait(timeout: .now() + interval) == .timedOut {
                draw(final: false)
            }
            draw(final: true)
            finished.signal()
        }
        thread.start()
    }

    func finish() {
        done.signal()
        finished.wait()
    }

    func draw(final: Bool) {
        let progress = sender.currentProgress
        let total = max(self.total, 1)
        let handled = min(total, before + progress.handled)
        let left = max(0, progress.remaining - progress.handled)
        let eta = progress.rate > 0 ? Int(Double(left) / progress.rate) : 0
        let numbers =
            "\(handled) of \(self.total) handled: \(progress.sent) sent now, \(progress.deferred) deferred, \(progress.failed) failed"
            + (progress.inDoubt > 0 ? ", \(progress.inDoubt) in doubt" : "")
            + String(format: " · %.0f/s · ETA %d:%02d", progress.rate, eta / 60, eta % 60)
        if isTTY {
            let width = 24
            let filled = min(width, handled * width / total)
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(numbers)\(final ? "\n" : "")".utf8))
        } else if !final {
            Console.out("progress: \(numbers)")
        }
    }
}

/// The final account of a run, from the ledger.
struct SendReport {
    let run: String
    let date: EditionDate
    let ledger: SubscriberRun.Ledger
    let progress: SendProgress

    func text() -> String {
        var lines: [String] = []
        let order: [(Delivery.State, String)] = [
            (.sent, "sent"), (.failed, "failed"), (.deferred, "deferred"), (.doubt, "in doubt"),
            (.left, "left the list during the run, not sent"), (.pending, "not yet sent"), (.sending, "in flight"),
            (.superseded, "handed to a later run"),
        ]
        lines.append(
            "Run \(run): "
                + order.compactMap { state, name in ledger.counts[state].map { "\($0) \(name)" } }.joined(
                    separator: ", "))
        lines.append(
            String(
                format: "This session: %d messages in %.1f s (%.0f/s).", progress.handled, progress.elapsed,
                progress.rate))
        let lists: [(String, [Delivery], Delivery.State)] = [
            ("Failed (not sent again):", ledger.failed, .failed),
            ("Deferred (the next run tries again):", ledger.deferred, .deferred),
            ("In doubt (perhaps delivered; --resend-in-doubt sends them again):", ledger.doubt, .doubt),
        ]
        for (heading, deliveries, state) in lists where !deliveries.isEmpty {
            lines.append(heading)
            lines += deliveries.map { "  \($0.email)  \($0.reply ?? "")" }
            let more = (ledger.counts[state] ?? 0) - deliveries.count
            if more > 0 { lines.append("  … and \(more) more: digest runs \(date) lists them all") }
        }
        return lines.joined(separator: "\n")
    }
}

/// How test-copy results read in the terminal.
enum DeliveryReport {
    static func line(_ outcome: DeliveryOutcome) -> String {
        let mark =
            switch outcome.status {
            case .accepted: "sent     "
            case .deferred: "deferred "
            case .rejected: "refused  "
            case .inDoubt: "in doubt "
            }
        return "  \(mark) \(outcome.recipient)  \(outcome.reply)"
    }

    static func summary(_ outcomes: [DeliveryOutcome], seconds: Double) -> String {
        var counts: [DeliveryOutcome.Status: Int] = [:]
        for outcome in outcomes { counts[outcome.status, default: 0] += 1 }
        let parts: [(DeliveryOutcome.Status, String)] = [
            (.accepted, "sent"), (.rejected, "refused"), (.deferred, "deferred"), (.inDoubt, "in doubt"),
        ]
        let text = parts.compactMap { status, name in counts[status].map { "\($0) \(name)" } }.joined(separator: ", ")
        return "Done in \(String(format: "%.1f", seconds)) s: \(text.isEmpty ? "nothing to send" : text)."
    }
}
