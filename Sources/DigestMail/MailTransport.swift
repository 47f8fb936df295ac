import DigestCore

/// Hands messages to a mail server. One transport is one connection, used from one thread at a time.
public protocol MailTransport: AnyObject {
    /// Sends one message to its one recipient and says what the server answered. A refused recipient
    /// or a failed connection is an outcome, not an error.
    func deliver(_ message: OutgoingMessage) -> DeliveryOutcome
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

    public init(recipient: EmailAddress, status: Status, replyCode: Int?, reply: String) {
        self.recipient = recipient
        self.status = status
        self.replyCode = replyCode
        self.reply = reply
    }
}
