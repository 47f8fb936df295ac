/// Turns a failure's enhanced status, reply code and the server's words into a class and a reason.
///
/// The server's words are read first (a `5.7.1` can mean "user unknown" at one host and "blocked as spam" at
/// another), then the status code's subject and detail (RFC 3463), then the reply code.
///
/// The rule (see `BounceClass`): no such mailbox, no such domain, or a disabled account, permanently, is
/// `hard`; a full mailbox, greylisting, rate limiting, a temporary refusal, expiry after retries, or a
/// permanent failure whose cause cannot be read, is `soft`; a permanent refusal of the *message* for spam,
/// reputation, policy or size is `none` (the reader is not at fault and is never removed for it), and the same
/// refusal given as temporary is `soft`.
public enum FailureClassifier {
    static let mailboxFull = Phrases([
        "mailbox full", "mailbox is full", "over quota", "overquota", "quota exceeded", "exceeded storage",
        "insufficient storage", "mailbox size limit", "user is over", "over the storage", "out of storage",
        "mailbox has exceeded", "quota", "mailbox exceeds", "storage allocation", "is full",
    ])
    static let tooLarge = Phrases([
        "message size exceeds", "message too large", "message is too large", "too big", "message size limit",
        "exceeds the maximum size", "size exceeds", "exceeds size limit", "message length exceeds",
    ])
    static let rateLimited = Phrases([
        "rate limit", "ratelimit", "rate-limit", "too many", "throttl", "unusual rate", "temporarily deferred due to",
        "sending rate", "exceeded the rate",
    ])
    static let greylisted = Phrases([
        "greylist", "graylist", "grey list", "gray list", "grey-list", "gray-list", "try again later",
        "please retry later", "retry later", "come back later", "temporarily rejected",
    ])
    static let spam = Phrases([
        "spam", "unsolicited", "blacklist", "blocklist", "block list", "black list", "spamhaus", "spamcop",
        "barracuda", "reputation", "dnsbl", "rbl", "junk", "bulk mail", "content rejected", "banned sending",
        "blocked using", "listed at", "is listed", "listed on", "virus", "malware", "phish", "message content",
        "suspicious",
    ])
    static let hostUnknown = Phrases([
        "host not found", "domain not found", "no such domain", "host or domain name not found",
        "name service error", "unrouteable", "unroutable", "domain does not exist", "nxdomain", "no mx",
        "domain name not found", "dns error", "bad destination system", "unknown host", "hostname lookup",
        "domain not resolved", "unknown domain", "no valid mx", "domain is not", "does not accept mail",
        "null mx", "mx lookup", "no route to domain",
    ])
    static let accountDisabled = Phrases([
        "disabled", "deactivated", "inactive", "suspended", "account has been closed", "account closed",
        "no longer active", "no longer in use", "not active", "account expired", "account is locked",
        "account has been terminated", "mailbox is locked", "blocked account", "no longer available",
        "locked out", "account is closed", "has been closed",
    ])
    static let mailboxUnknown = Phrases([
        "user unknown", "unknown user", "no such user", "no such mailbox", "no such recipient", "unknown recipient",
        "recipient unknown", "does not exist", "doesn't exist", "not exist", "invalid recipient", "invalid mailbox",
        "invalid address", "recipient not found", "recipientnotfound", "recipnotfound", "address not found",
        "user not found", "mailbox not found", "mailbox unavailable", "mailbox not available", "no mailbox",
        "not listed in", "addressee unknown", "unknown address", "doesn't have a", "does not have a",
        "not a valid", "undeliverable address", "bad destination mailbox", "couldn't be found",
        "could not be found", "unknown or illegal", "no account", "account does not", "unknown local part",
        "not our customer", "invalid user", "mailbox does not", "unknown in", "is unknown", "no longer valid",
        "unrecognized recipient", "recipient rejected", "addressee not", "mailbox not", "no such person",
        "no such address",
    ])
    static let policy = Phrases([
        "dmarc", "spf", "dkim", "policy", "not authorized", "unauthenticated", "relay access", "relaying", "relay not",
        "not permitted",
        "access denied", "blocked", "denied", "refused", "prohibited", "authentication", "not allowed",
        "rejected for", "reverse dns", "ptr record", "helo",
    ])
    static let expired = Phrases([
        "expired", "retry timeout", "timed out", "timeout", "too long", "gave up", "giving up", "been in the queue",
        "could not be delivered within", "connection refused", "not reachable", "unreachable", "no answer",
        "connection lost", "lost connection",
    ])

    /// Class and reason for a failure. `permanent` tells what the report said when no code does (`Action:
    /// failed` with no status; a "permanent error" notice); a 4.x.x status or 4xx code wins over it.
    public static func classify(
        status: String, replyCode: String, diagnostic: String, permanent: Bool
    ) -> (BounceClass, String) {
        let isPermanent: Bool
        if let first = status.first, first == "4" || first == "5" {
            isPermanent = first == "5"
        } else if let first = replyCode.first, first == "4" || first == "5" {
            isPermanent = first == "5"
        } else {
            isPermanent = permanent
        }
        let reason = reason(status: status, diagnostic: diagnostic, isPermanent: isPermanent)
        switch reason {
        case "mailbox-unknown", "host-unknown", "account-disabled":
            return (isPermanent ? .hard : .soft, reason)
        case "spam", "policy", "message-too-large":
            return (isPermanent ? .none : .soft, reason)
        default:
            return (.soft, reason)
        }
    }

    static func reason(status: String, diagnostic: String, isPermanent: Bool) -> String {
        let text = LowerText(diagnostic)
        let detail = status.split(separator: ".").dropFirst().joined(separator: ".")
        // Codes that say it all.
        switch detail {
        case "2.2": return "mailbox-full"
        case "3.4": return "message-too-large"
        case "7.28": return "rate-limited"
        default: break
        }
        if text.containsAny(mailboxFull.list) { return "mailbox-full" }
        if text.containsAny(tooLarge.list) { return "message-too-large" }
        if text.containsAny(rateLimited.list) { return "rate-limited" }
        if !isPermanent && text.containsAny(greylisted.list) { return "greylisted" }
        if text.containsAny(spam.list) { return "spam" }
        if text.containsAny(hostUnknown.list) { return "host-unknown" }
        if text.containsAny(accountDisabled.list) { return "account-disabled" }
        if text.containsAny(mailboxUnknown.list) { return "mailbox-unknown" }
        if text.containsAny(policy.list) { return "policy" }
        switch detail {
        case "1.1", "1.0", "1.10", "1.6", "1.3", "1.5": return "mailbox-unknown"
        case "1.2", "4.4": return "host-unknown"
        case "2.1": return "account-disabled"
        case "4.7": return "expired"
        default: break
        }
        if detail.hasPrefix("7.") { return "policy" }
        if text.containsAny(expired.list) || detail.hasPrefix("4.") { return "expired" }
        if !isPermanent && status.hasPrefix("4") { return "expired" }
        return "unknown"
    }
}
