/// What one message in the bounce mailbox is.
public enum MessageKind: String, Sendable, Encodable, CaseIterable {
    /// A delivery failure: a DSN with `Action: failed`, or an MTA's own failure notice.
    case bounce
    /// A spam complaint from a feedback loop (ARF, RFC 5965; Microsoft JMRP; Amazon SES).
    case complaint
    /// An out-of-office or other automatic reply (RFC 3834). Ignored.
    case autoReply = "auto-reply"
    /// A DSN that reports no failure: delivered, relayed, expanded, or delayed (a warning). Ignored.
    case deliveryReport = "delivery-report"
    /// Anything else: a reader writing to the bounce address, spam, junk.
    case notAReport = "not-a-report"
}

/// What a report means for the reader it names.
///
/// The rule the caller applies, and the reason a refusal of the *message* never removes a reader:
/// - `hard`: the address cannot receive mail (no such mailbox, no such domain, account disabled). Mark the
///   reader bounced at once.
/// - `soft`: the address may work later (mailbox full, greylisting, a temporary policy refusal, rate limiting,
///   delivery expired after retries, or a permanent failure whose cause could not be read). Count it; only N
///   soft bounces over M days mark a reader bounced.
/// - `complaint`: the reader reported the message as spam. Never send to them again.
/// - `none`: nothing about the reader. A permanent refusal of the message itself for spam, reputation or
///   policy (DMARC, blocklists, content, size, relaying) is the sender's problem, not the reader's: it is
///   recorded, never counted, and never removes a reader by itself. Delivery reports and delays are `none` too.
public enum BounceClass: String, Sendable, Encodable, CaseIterable {
    case hard
    case soft
    case complaint
    case none
}

/// One failed, delayed, delivered or complained-about recipient in a message.
public struct RecipientReport: Sendable, Equatable, Encodable {
    /// The address as the report names it (lowercased domain); empty when the report redacts it.
    public var recipient: String
    /// The enhanced status code (RFC 3463), e.g. `5.1.1`, or empty.
    public var status: String
    /// The SMTP reply code, e.g. `550`, or empty.
    public var replyCode: String
    /// The receiving server's own words, or the feedback type of a complaint.
    public var diagnostic: String
    public var bounceClass: BounceClass
    /// A short word: mailbox-unknown, host-unknown, account-disabled, mailbox-full, greylisted, rate-limited,
    /// expired, policy, spam, message-too-large, unknown; for complaints the feedback type (abuse, fraud, …);
    /// for delivery reports the action (delivered, relayed, expanded, delayed).
    public var reason: String

    public init(
        recipient: String, status: String, replyCode: String, diagnostic: String, bounceClass: BounceClass,
        reason: String
    ) {
        self.recipient = recipient
        self.status = status
        self.replyCode = replyCode
        self.diagnostic = diagnostic
        self.bounceClass = bounceClass
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case recipient, status, diagnostic, reason
        case replyCode = "reply_code"
        case bounceClass = "class"
    }
}

/// Headers of the message that bounced or was complained about, where the report quotes them: the VERP
/// token is in `returnPath`.
public struct OriginalMessage: Sendable, Equatable, Encodable {
    public var returnPath: String
    public var to: String
    public var messageID: String

    public init(returnPath: String = "", to: String = "", messageID: String = "") {
        self.returnPath = returnPath
        self.to = to
        self.messageID = messageID
    }

    enum CodingKeys: String, CodingKey {
        case to
        case returnPath = "return_path"
        case messageID = "message_id"
    }
}

/// What digest reads from one message of the bounce mailbox: `digest bounces inspect --json` prints it.
public struct InspectedMessage: Sendable, Equatable, Encodable {
    public var kind: MessageKind
    /// Which reader recognised it: dsn, arf, jmrp, ses-notification, postfix, exim, sendmail, qmail, yahoo,
    /// gmail, exchange, office365, mimecast, domino, x-failed-recipients, generic, auto-submitted, subject, none.
    public var format: String
    public var reports: [RecipientReport]
    public var original: OriginalMessage
    /// Where the report itself was delivered (Delivered-To, X-Original-To, else To): the VERP address.
    public var deliveredTo: String
    public var subject: String

    public init(
        kind: MessageKind, format: String, reports: [RecipientReport], original: OriginalMessage,
        deliveredTo: String, subject: String
    ) {
        self.kind = kind
        self.format = format
        self.reports = reports
        self.original = original
        self.deliveredTo = deliveredTo
        self.subject = subject
    }

    enum CodingKeys: String, CodingKey {
        case kind, format, reports, original, subject
        case deliveredTo = "delivered_to"
    }
}
