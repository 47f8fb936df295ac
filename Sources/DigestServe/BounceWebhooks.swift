import Crypto
import DigestBounces
import DigestCore
import DigestMail
import DigestStore
import Foundation

/// `POST /webhooks/ses` (Amazon SES notifications through SNS, signatures verified) and `POST /webhooks/postmark`
/// (Postmark's bounce and spam complaint webhooks, HTTP basic auth): each bounce or complaint is recorded with
/// `recordBounces` (idempotent per report and address) and answered 200 once committed. A request that is not
/// believed records nothing: 403 (SES) or 401 (Postmark).
public final class BounceWebhooks: Sendable {
    public struct Settings: Sendable {
        /// Serve `/webhooks/ses` with this verifier; nil: no such route.
        public var ses: SNSVerifier?
        /// Visit a subscription's SubscribeURL by itself (otherwise it is logged for the editor to visit).
        public var confirmSubscriptions = false
        /// Serve `/webhooks/postmark`, with this basic-auth password; nil: no such route.
        public var postmarkPassword: [UInt8]?
        /// Reads the run from an SES notification's `mail.source` (the VERP return path).
        public var bounceAddress: BounceAddress?
        public var policy = BouncePolicy()

        public init(
            ses: SNSVerifier? = nil, postmarkPassword: [UInt8]? = nil, bounceAddress: BounceAddress? = nil,
            policy: BouncePolicy = BouncePolicy()
        ) {
            self.ses = ses
            self.postmarkPassword = postmarkPassword
            self.bounceAddress = bounceAddress
            self.policy = policy
        }
    }

    public let settings: Settings
    let record: @Sendable ([BounceEvent]) async throws -> [BounceOutcome]
    /// Fetches an address (the SubscribeURL) when `confirmSubscriptions` is set.
    let visit: (@Sendable (String) async throws -> Void)?
    let now: @Sendable () -> Date
    let log: @Sendable (String) -> Void

    public convenience init(
        settings: Settings, store: any ListStore, visit: (@Sendable (String) async throws -> Void)? = nil,
        now: @escaping @Sendable () -> Date, log: @escaping @Sendable (String) -> Void
    ) {
        let policy = settings.policy
        self.init(
            settings: settings,
            record: { events in
                // The store's write is synchronous: on a thread of its own, not one of the cooperative pool.
                try await offThePool { try store.recordBounces(events, policy: policy, now: now()) }
            }, visit: visit, now: now, log: log)
    }

    init(
        settings: Settings, record: @escaping @Sendable ([BounceEvent]) async throws -> [BounceOutcome],
        visit: (@Sendable (String) async throws -> Void)?, now: @escaping @Sendable () -> Date,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.settings = settings
        self.record = record
        self.visit = visit
        self.now = now
        self.log = log
    }

    // MARK: Amazon SES through SNS

    public func ses(_ request: HTTPRequest) async -> HTTPResponse {
        guard let verifier = settings.ses else { return Self.text(404, "Not found.\n") }
        guard let message = SNSMessage(json: request.body) else {
            log("webhooks/ses: refused a body that is not an SNS message")
            return Self.text(400, "Not an Amazon SNS message.\n")
        }
        if case .failure(let rejection) = await verifier.verify(message) {
            log("webhooks/ses: refused message \(Self.printable(message.messageID)): \(rejection)")
            return Self.text(403, "The message's signature does not verify.\n")
        }
        switch message.type {
        case "SubscriptionConfirmation":
            let url = message.subscribeURL ?? ""
            guard settings.confirmSubscriptions, let visit, Self.isAmazonSNSURL(url) else {
                log(
                    "webhooks/ses: SNS asks to confirm the subscription of topic \(Self.printable(message.topicARN)): "
                        + "visit \(Self.printable(url, limit: 2048)) once to start receiving notifications")
                return Self.text(200, "Logged for the editor to confirm.\n")
            }
            do {
                try await visit(url)
                log("webhooks/ses: confirmed the subscription of topic \(Self.printable(message.topicARN))")
            } catch {
                log("error: webhooks/ses: confirming the subscription at \(Self.printable(url)) failed: \(error)")
                return Self.text(503, "The subscription could not be confirmed just now.\n")
            }
            return Self.text(200, "Confirmed.\n")
        case "UnsubscribeConfirmation":
            log("webhooks/ses: topic \(Self.printable(message.topicARN)) unsubscribed this server")
            return Self.text(200, "Noted.\n")
        default:
            let events = Self.sesEvents(
                message.message, messageID: message.messageID, bounceAddress: settings.bounceAddress, now: now())
            return await commit(events, source: "ses", what: "message \(Self.printable(message.messageID))")
        }
    }

    /// The events of one SES notification (the JSON of SNS's Message): one per bounced or complained recipient,
    /// read and classified as `digest bounces inspect` reads an SES notification mailed to the bounce mailbox.
    /// Deliveries and anything else give none.
    public static func sesEvents(_ json: String, messageID: String, bounceAddress: BounceAddress?, now: Date)
        -> [BounceEvent]
    {
        let inspected = BounceReader.inspect("Content-Type: application/json\r\n\r\n" + json)
        guard inspected.kind == .bounce || inspected.kind == .complaint else { return [] }
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        let detail = (object["bounce"] ?? object["complaint"]) as? [String: Any] ?? [:]
        let feedbackID = detail["feedbackId"] as? String ?? ""
        let at = (detail["timestamp"] as? String).flatMap(Self.date) ?? now
        let run = bounceAddress?.parse(inspected.original.returnPath)?.run ?? ""
        return inspected.reports.compactMap { report in
            guard let address = EmailAddress(report.recipient) else { return nil }
            return BounceEvent(
                reportKey: "ses:" + (feedbackID.isEmpty ? messageID : feedbackID), address: address, run: run,
                kind: BounceEvent.Kind(rawValue: report.bounceClass.rawValue) ?? .none, status: report.status,
                replyCode: report.replyCode, diagnostic: report.diagnostic, reason: report.reason, source: "ses",
                at: at)
        }
    }

    /// `https://sns.REGION.amazonaws.com/…`: the only place a subscription is confirmed by itself.
    static func isAmazonSNSURL(_ text: String) -> Bool {
        guard let url = URLComponents(string: text), url.scheme == "https", url.user == nil, url.port == nil,
            let host = url.host?.lowercased()
        else { return false }
        let labels = host.split(separator: ".")
        return labels.first == "sns"
            && (labels.count == 4 && labels[2...] == ["amazonaws", "com"]
                || labels.count == 5 && labels[2...] == ["amazonaws", "com", "cn"])
    }

    // MARK: Postmark

    public func postmark(_ request: HTTPRequest) async -> HTTPResponse {
        guard let password = settings.postmarkPassword else { return Self.text(404, "Not found.\n") }
        guard Self.basicAuthMatches(request.headers["authorization"], password: password) else {
            log("webhooks/postmark: refused a request without the right password")
            return HTTPResponse(
                status: 401, contentType: "text/plain; charset=utf-8", body: "Authentication required.\n",
                headers: SecurityHeaders.plain + [("WWW-Authenticate", "Basic realm=\"digest webhooks\"")])
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            return Self.text(400, "Not a JSON object.\n")
        }
        let events = Self.postmarkEvents(object, now: now())
        let id = (object["ID"] as? NSNumber)?.stringValue ?? (object["ID"] as? String) ?? "?"
        return await commit(events, source: "postmark", what: "event \(Self.printable(id))")
    }

    /// The event of one Postmark webhook call: a `Bounce` record (its `Type` says hard, soft, a refusal of
    /// the message, or something to ignore such as an auto-responder) or a `SpamComplaint`. Other records
    /// (Delivery, Open, Click, SubscriptionChange) give none.
    public static func postmarkEvents(_ object: [String: Any], now: Date) -> [BounceEvent] {
        let record = object["RecordType"] as? String ?? ""
        guard record == "Bounce" || record == "SpamComplaint",
            let id = (object["ID"] as? NSNumber)?.stringValue ?? (object["ID"] as? String),
            let address = (object["Email"] as? String).flatMap({ EmailAddress($0) })
        else { return [] }
        let type = record == "SpamComplaint" ? "SpamComplaint" : object["Type"] as? String ?? ""
        let details = (object["Details"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let status = firstMatch(#"\b[245]\.[0-9]{1,3}\.[0-9]{1,3}\b"#, in: details) ?? ""
        let replyCode = firstMatch(#"\b[245][0-9][0-9]\b"#, in: details) ?? ""
        let (readClass, readReason) = FailureClassifier.classify(
            status: status, replyCode: replyCode, diagnostic: details, permanent: type == "HardBounce")
        let kind: BounceEvent.Kind
        let reason: String
        switch type {
        case "HardBounce", "BadEmailAddress":
            kind = .hard
            reason = readClass == .hard ? readReason : "mailbox-unknown"
        case "SoftBounce", "Transient", "Unknown":
            kind = .soft
            reason = readReason
        case "DnsError":
            kind = .soft
            reason = "host-unknown"
        case "SpamComplaint":
            kind = .complaint
            reason = "abuse"
        case "SpamNotification", "VirusNotification":
            kind = .none
            reason = "spam"
        case "Blocked", "DMARCPolicy":
            kind = .none
            reason = "policy"
        default:
            // AutoResponder, AddressChange, ChallengeVerification, Subscribe, Unsubscribe, ManuallyDeactivated,
            // OpenRelayTest, Unconfirmed and Postmark's own errors: nothing about the reader's address.
            return []
        }
        let at = (object["BouncedAt"] as? String).flatMap(Self.date) ?? now
        return [
            BounceEvent(
                reportKey: "postmark:\(id)", address: address, run: "", kind: kind, status: status,
                replyCode: replyCode, diagnostic: details.isEmpty ? (object["Description"] as? String ?? "") : details,
                reason: reason, source: "postmark", at: at)
        ]
    }

    /// `Authorization: Basic base64(user:password)` with the password (any user name), compared in constant time.
    static func basicAuthMatches(_ header: String?, password: [UInt8]) -> Bool {
        guard let header, header.count < 4096 else { return false }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return false }
        let given = Array(decoded[decoded.index(after: colon)...])
        // Compare digests: constant time whatever the lengths.
        let expected = Array(SHA256.hash(data: password))
        let actual = Array(SHA256.hash(data: given))
        return zip(expected, actual).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: Recording

    /// Records the events in one transaction and answers 200 once committed (a redelivery records nothing
    /// twice); 503 when the store fails, so the service tries again later.
    func commit(_ events: [BounceEvent], source: String, what: String) async -> HTTPResponse {
        guard !events.isEmpty else {
            log("webhooks/\(source): \(what): nothing to record")
            return Self.text(200, "Nothing to record.\n")
        }
        let outcomes: [BounceOutcome]
        do {
            outcomes = try await record(events)
        } catch {
            log("error: webhooks/\(source): recording \(what) failed: \(error)")
            return HTTPResponse(
                status: 503, contentType: "text/plain; charset=utf-8", body: "Not recorded just now; try again.\n",
                headers: SecurityHeaders.plain + [("Retry-After", "60")])
        }
        // Counts only: the log never holds readers' addresses.
        var counts: [String: Int] = [:]
        for outcome in outcomes {
            switch outcome {
            case .bounced: counts["bounced", default: 0] += 1
            case .complained: counts["complained", default: 0] += 1
            case .counted: counts["soft bounce counted", default: 0] += 1
            case .recorded: counts["recorded", default: 0] += 1
            case .duplicate: counts["already recorded", default: 0] += 1
            case .unknownReader: counts["not on the list", default: 0] += 1
            }
        }
        let summary = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        log("webhooks/\(source): \(what): \(summary)")
        return Self.text(200, "Recorded.\n")
    }

    static func text(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(
            status: status, contentType: "text/plain; charset=utf-8", body: body,
            headers: SecurityHeaders.plain + [("Cache-Control", "no-store")])
    }

    /// A value from a request, safe for one log line: printable ASCII, at most `limit` characters.
    static func printable(_ text: String, limit: Int = 200) -> String {
        let scalars = text.unicodeScalars.prefix(limit).map { $0.value >= 0x20 && $0.value < 0x7F ? $0 : "?" }
        return String(String.UnicodeScalarView(scalars))
    }

    static func firstMatch(_ pattern: String, in text: String) -> String? {
        guard let expression = try? NSRegularExpression(pattern: pattern),
            let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range, in: text)
        else { return nil }
        return String(text[range])
    }

    /// An ISO 8601 time as SES (`2016-01-27T14:59:38.237Z`) and Postmark (`2014-08-01T13:28:10.2735393-04:00`)
    /// write them: fractional seconds of any length, `Z` or an offset.
    static func date(_ text: String) -> Date? {
        var trimmed = text
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            trimmed = String(text[..<dot] + text[end...])
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: trimmed)
    }

}
