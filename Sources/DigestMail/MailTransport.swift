import DigestCore

/// Hands messages to a mail server. One transport is one connection, used from one thread at a time.
public protocol MailTransport: AnyObject {
    /// Sends one message to its one recipient and says what the server answered. A refused recipient
    /// or a failed connection is an outcome, not an error.
    func deliver(_ message: OutgoingMessage) -> DeliveryOutcome

    /// The same, with `beforeEnd` asked before the message's last bytes can reach the server: when it
    /// answers false the transfer is abandoned unfinished, so the server cannot take the message. The bulk
    /// sender waits there for the ledger's claim, which it commits while the first bytes go out.
    func deliver(_ message: OutgoingMessage, beforeEnd: () -> Bool) -> DeliveryOutcome
}

extension MailTransport {
    /// Transports that cannot pause a transfer ask first and then deliver.
    public func deliver(_ message: OutgoingMessage, beforeEnd: () -> Bool) -> DeliveryOutcome {
        guard beforeEnd() else { return .withheld(message.recipient) }
        return deliver(message)
    }
}

/// What became of one message for one recipient.
public struct DeliveryOutcome: Equatable, Sendable {
    public enum Status: String, Equatable, Sendable {
        /// The server took the message (2xx after the data).
        case accepted
        /// A temporary refusal (4xx) or no connection: try again later.
        case deferred
        /// A permanent refusal (5xx): do not try again.
        case rejected
        /// The message was sent but no final reply came: it may have been delivered.
        case inDoubt
    }

    public var recipient: EmailAddress
    public var status: Status
    /// The server's reply code, when one came.
    public var replyCode: Int?
    /// The server's reply text (with its enhanced status code and queue id), or what went wrong on our side.
    public var reply: String
    /// Whether the whole message had been handed to the server: a refusal before that came at RCPT.
    public var bodySent: Bool
    /// A failure of the set-up, not of this message (wrong password, no STARTTLS, an untrusted
    /// certificate): every further message would fail the same way, so a run stops.
    public var stopsTheRun: Bool = false
    /// No SMTP session could be opened for it (nothing answers, the name does not resolve, the TLS handshake
    /// failed, the greeting refused us): the server heard nothing of this message. Before any message of a
    /// run is accepted this means the relay is down, and the run stops with nobody's attempt spent.
    public var noSession: Bool = false

    public init(recipient: EmailAddress, status: Status, replyCode: Int?, reply: String, bodySent: Bool = false) {
        self.recipient = recipient
        self.status = status
        self.replyCode = replyCode
        self.reply = reply
        self.bodySent = bodySent
    }

    /// A message stopped before its end because the ledger did not claim it: not delivered.
    public static func withheld(_ recipient: EmailAddress) -> DeliveryOutcome {
        DeliveryOutcome(
            recipient: recipient, status: .deferred, replyCode: nil,
            reply: "not sent: the delivery ledger did not claim it")
    }

    /// The enhanced status code of the reply (RFC 3463), such as `5.1.1`, when the server gave one.
    public var enhancedCode: String? {
        let words = reply.split(separator: " ")
        guard words.count >= 2 else { return nil }
        let parts = words[1].split(separator: ".")
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        return String(words[1])
    }

    /// A permanent refusal at RCPT saying the mailbox does not exist (550/551/553, and 5.1.x when an
    /// enhanced code is given): the reader's address is dead, so later editions skip it. A 550 5.7.1
    /// (policy) is a refusal, not a bounce.
    public var isHardBounce: Bool {
        guard status == .rejected, !bodySent, let code = replyCode, [550, 551, 553].contains(code) else { return false }
        return enhancedCode.map { $0.hasPrefix("5.1.") } ?? true
    }
}
