import DigestCore
import DigestMail
import DigestStore
import Foundation

/// Sign-up with double opt-in: `POST /subscribe` records a pending reader and queues a confirmation;
/// `POST /confirm` (never a GET) makes them active. Every answer to a sign-up is the same whatever the
/// address's state, and a flood of sign-ups never becomes a flood of mail: one confirmation per address
/// per interval, a limit per client address per hour, a honeypot field, and a bounded mail queue.
public final class SignupDesk: Sendable {
    public struct Settings: Sendable {
        /// The public address of this server, for the links in confirmations (`https://news.example`).
        public var publicURL: String
        /// At most one confirmation per address in this many seconds.
        public var resendInterval: TimeInterval = 600
        /// Sign-ups accepted from one client address per hour.
        public var perClientPerHour = 10
        /// How long a confirmation link works; pending sign-ups older than this are deleted.
        public var expiry: TimeInterval = 7 * 86_400
        /// Messages waiting for the relay; a sign-up beyond that sends nothing (the reader may ask again).
        public var queueCapacity = 1_000
        /// Confirmations sent per hour in all; beyond that a sign-up is recorded and sends nothing (the
        /// reader may ask again later), so many clients with many addresses are no flood of mail either.
        public var mailPerHour = 1_000
        /// The welcome message sent after a confirmation (first line `Subject: …`), if any.
        public var welcome: String?

        public init(publicURL: String) {
            self.publicURL = publicURL
        }
    }

    let store: any ListStore
    let signer: SignupSigner
    let notice: NoticeMessage
    let settings: Settings
    let mailer: Mailer
    let now: @Sendable () -> Date
    let log: @Sendable (String) -> Void
    /// Sign-ups per client address in the current hour's window.
    let clients = Locked<(window: Date, counts: [String: Int])>((.distantPast, [:]))
    let lastPurge = Locked<Date>(.distantPast)
    /// Confirmations sent in the current hour's window.
    let sent = Locked<(window: Date, count: Int)>((.distantPast, 0))

    public init(
        store: any ListStore, signer: SignupSigner, notice: NoticeMessage, settings: Settings,
        transport: @escaping @Sendable () throws -> any MailTransport, now: @escaping @Sendable () -> Date,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.signer = signer
        self.notice = notice
        self.settings = settings
        self.now = now
        self.log = log
        self.mailer = Mailer(capacity: settings.queueCapacity, makeTransport: transport, log: log)
    }

    /// A thank-you page to send the reader to after an embedded form's sign-up: only on the hosts of
    /// this server's public address or the publication's own pages, so the form cannot be made an open
    /// redirect.
    func allowsRedirect(_ url: String) -> Bool {
        guard url.count < 2_000, let components = URLComponents(string: url),
            components.scheme == "https" || components.scheme == "http", let host = components.host?.lowercased(),
            !host.isEmpty
        else { return false }
        let publication = notice.publication
        let hosts = [settings.publicURL, publication.unsubscribeURL, publication.archiveURL ?? ""].compactMap {
            URLComponents(string: $0)?.host?.lowercased()
        }
        return hosts.contains(host)
    }

    /// Finishes sending what is queued, then stops the mail thread.
    public func shutdown() { mailer.stop() }

    var publicationName: String { notice.publication.name }
    public var publicURL: String { settings.publicURL }

    /// What `POST /subscribe` did, for the page; the page is the same for every accepted request.
    enum SubscribeAnswer: Equatable {
        case accepted
        case badAddress(String)
        case tooManyFromClient
    }

    func subscribe(email rawEmail: String, name rawName: String, honeypot: String, client: String) async
        -> SubscribeAnswer
    {
        let now = now()
        // A bot fills every field; a person never sees this one. It gets the same answer, and nothing happens.
        if !honeypot.isEmpty { return .accepted }
        let admitted = clients.withLock { state -> Bool in
            if now.timeIntervalSince(state.window) >= 3_600 { state = (now, [:]) }
            let count = state.counts[client, default: 0]
            guard count < settings.perClientPerHour else { return false }
            state.counts[client] = count + 1
            return true
        }
        guard admitted else { return .tooManyFromClient }
        let text = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 254, let address = EmailAddress(idn: text) else { return .badAddress(text) }
        let name = String(TextMarks.singleLine(rawName).prefix(100))
        await purgeIfDue(now)
        do {
            switch try await store.requestSignup(address, name: name, interval: settings.resendInterval, now: now) {
            case .send(let nonce):
                let token = signer.token(address: address, nonce: nonce, issued: now)
                let message = try notice.message(
                    to: Mailbox(name: name, address: address),
                    subject: "Confirm your subscription to \(publicationName)",
                    text: confirmationText(token: token), date: now)
                let withinHour = sent.withLock { state -> Bool in
                    if now.timeIntervalSince(state.window) >= 3_600 { state = (now, 0) }
                    guard state.count < settings.mailPerHour else { return false }
                    state.count += 1
                    return true
                }
                if !withinHour {
                    log("error: \(settings.mailPerHour) confirmations sent this hour; a sign-up sent nothing")
                    try await store.releaseSignupSend(address)
                } else if !mailer.enqueue(message) {
                    log("error: the confirmation queue is full; a sign-up sent nothing (the reader may ask again)")
                    try await store.releaseSignupSend(address)
                }
            case .tooSoon, .alreadyActive, .refused:
                break
            }
        } catch {
            log("error: recording a sign-up failed: \(error)")
        }
        return .accepted
    }

    func confirmURL(_ token: String) -> String {
        var base = settings.publicURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/confirm?t=\(token)"
    }

    func confirmationText(token: String) -> String {
        let days = Int((settings.expiry / 86_400).rounded())
        return """
            Someone, we hope you, asked to receive \(publicationName) at this address.

            To confirm, open this link and press the button on the page:

            \(confirmURL(token))

            If it was not you, ignore this message: nothing more will come, and the request is
            deleted in \(days) day\(days == 1 ? "" : "s").

            """
    }

    /// What a token says, once checked: its claim, or why it does not work.
    enum TokenCheck {
        case valid(SignupSigner.Claim)
        case invalid
        case expired
    }

    func check(_ token: String) -> TokenCheck {
        guard let claim = signer.verify(token) else { return .invalid }
        let age = now().timeIntervalSince(claim.issued)
        guard age <= settings.expiry, age > -300 else { return .expired }
        return .valid(claim)
    }

    enum ConfirmAnswer {
        case confirmed
        case invalid
        case expired
        case used
    }

    func confirm(_ token: String) async -> ConfirmAnswer {
        guard case .valid(let claim) = check(token) else {
            if case .expired = check(token) { return .expired }
            return .invalid
        }
        let now = now()
        do {
            switch try await store.confirmSignup(claim.address, nonce: claim.nonce, now: now) {
            case .confirmed(let subscriber):
                log("confirmed subscriber \(subscriber.id.map { String($0) } ?? "?")")
                if let welcome = settings.welcome {
                    let (subject, text) = Self.split(welcome, name: subscriber.name, publication: publicationName)
                    do {
                        let message = try notice.message(
                            to: Mailbox(name: subscriber.name, address: subscriber.email), subject: subject, text: text,
                            date: now)
                        if !mailer.enqueue(message) { log("error: the mail queue is full; a welcome was not sent") }
                    } catch {
                        log("error: the welcome message could not be made: \(error)")
                    }
                }
                return .confirmed
            case .notPending, .refused:
                return .used
            }
        } catch {
            log("error: recording a confirmation failed: \(error)")
            return .used
        }
    }

    /// The welcome file's subject (its first line, when it starts with `Subject:`) and text, with
    /// `{{name}}` and `{{publication}}` filled in.
    static func split(_ template: String, name: String, publication: String) -> (String, String) {
        let filled = template.replacingOccurrences(of: "{{name}}", with: name.isEmpty ? "reader" : name)
            .replacingOccurrences(of: "{{publication}}", with: publication)
        var lines = filled.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var subject = "Welcome to \(publication)"
        if let first = lines.first, first.lowercased().hasPrefix("subject:") {
            subject = first.dropFirst(8).trimmingCharacters(in: .whitespaces)
            lines.removeFirst()
            if lines.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeFirst() }
        }
        return (subject, lines.joined(separator: "\n"))
    }

    func purgeIfDue(_ now: Date) async {
        let due = lastPurge.withLock { last -> Bool in
            guard now.timeIntervalSince(last) >= 60 else { return false }
            last = now
            return true
        }
        guard due else { return }
        do {
            let purged = try await store.purgeSignups(before: now.addingTimeInterval(-settings.expiry))
            if purged > 0 { log("purged \(purged) unconfirmed sign-up\(purged == 1 ? "" : "s")") }
        } catch {
            log("error: purging expired sign-ups failed: \(error)")
        }
    }
}

/// One thread that hands queued messages to the relay, one at a time, off Swift's cooperative pool
/// (a libcurl call blocks). The queue is bounded: a burst of sign-ups is never a burst of mail.
final class Mailer: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [OutgoingMessage] = []
    private var stopped = false
    private var finished = false
    let capacity: Int
    let makeTransport: @Sendable () throws -> any MailTransport
    let log: @Sendable (String) -> Void

    init(
        capacity: Int, makeTransport: @escaping @Sendable () throws -> any MailTransport,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.capacity = capacity
        self.makeTransport = makeTransport
        self.log = log
        let thread = Thread { [self] in loop() }
        thread.name = "digest-serve-mailer"
        thread.start()
    }

    /// False when the queue is full (or the mailer stopped): the message is dropped.
    func enqueue(_ message: OutgoingMessage) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, queue.count < capacity else { return false }
        queue.append(message)
        condition.broadcast()
        return true
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        let deadline = Date().addingTimeInterval(30)
        while !finished && condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func loop() {
        var transport: (any MailTransport)?
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let message = queue.removeFirst()
            condition.unlock()
            do {
                let current = try transport ?? makeTransport()
                transport = current
                let outcome = current.deliver(message)
                if outcome.status != .accepted {
                    log(
                        "error: a sign-up message was not accepted: \(outcome.replyCode.map { String($0) } ?? "-") \(outcome.reply)"
                    )
                    // A fresh connection for the next one.
                    transport = nil
                }
            } catch {
                log("error: cannot reach the SMTP relay for sign-up mail: \(error)")
                transport = nil
            }
        }
    }
}
