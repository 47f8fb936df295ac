import CCurl
import DigestCore
import DigestMail
import Foundation

/// Sends mail through libcurl's SMTP client. One easy handle, reused for every message, keeps one
/// connection open across messages; libcurl reconnects by itself after the server closes it.
///
/// Not thread-safe: a transport is one connection. Use one per thread.
public final class CurlSMTPTransport: MailTransport {
    /// How to reach the relay. The password is read from the environment by the caller, never a flag.
    public struct Configuration: Sendable {
        /// `smtp://host:port` or `smtps://host:port`.
        public var url: String
        /// The name to give in EHLO.
        public var helo: String
        public var caFile: String?
        public var username: String?
        public var password: String?
        /// When STARTTLS is demanded.
        public var tls: TLSPolicy
        public var connectTimeout: Int
        /// How long to wait for any reply. RFC 5321 §4.5.3.2 gives the server 10 minutes after the data.
        public var replyTimeout: Int
        /// The longest one message may take in all.
        public var messageTimeout: Int

        public init(
            url: String, helo: String, caFile: String? = nil, username: String? = nil, password: String? = nil,
            tls: TLSPolicy = .requiredUnlessLoopback, connectTimeout: Int = 15, replyTimeout: Int = 600,
            messageTimeout: Int = 900
        ) {
            self.url = url
            self.helo = helo
            self.caFile = caFile
            self.username = username
            self.password = password
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.replyTimeout = replyTimeout
            self.messageTimeout = messageTimeout
        }
    }

    /// When a `smtp://` connection must be upgraded with STARTTLS (`smtps://` is always TLS).
    public enum TLSPolicy: Sendable {
        /// Required, except to a relay on this machine, where it is used when offered.
        case requiredUnlessLoopback
        /// Required everywhere: a relay that does not offer STARTTLS gets nothing.
        case required
    }

    /// Why a transport cannot be set up.
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    private let handle: UnsafeMutableRawPointer
    private let context = TransferContext()
    private let errorBuffer: UnsafeMutablePointer<CChar>
    public let configuration: Configuration

    public init(configuration: Configuration) throws {
        if let problem = SMTPSettings.problem(with: configuration.url) {
            throw SetupError(description: problem)
        }
        guard Curl.initialized, let handle = curl_easy_init() else {
            throw SetupError(description: "libcurl could not be initialised")
        }
        self.handle = handle
        self.configuration = configuration
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configure()
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Whether `url` names this machine, where STARTTLS may be skipped.
    public static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    private func check(_ code: CURLcode, _ what: String) throws {
        guard code == CURLE_OK else {
            throw SetupError(description: "libcurl refused \(what): \(Curl.describe(code))")
        }
    }

    private func configure() throws {
        var components = URLComponents(string: configuration.url)
        // libcurl takes the EHLO name from the URL's path.
        components?.path = "/" + configuration.helo
        guard let url = components?.string else { throw SetupError(description: "bad SMTP URL \(configuration.url)") }
        let isImplicitTLS = url.lowercased().hasPrefix("smtps://")
        try check(digest_curl_setopt_string(handle, CURLOPT_URL, url), "the URL")
        // STARTTLS is required unless the relay is on this machine (or TLS is implicit with smtps://).
        let optional =
            !isImplicitTLS && configuration.tls == .requiredUnlessLoopback && Self.isLoopback(configuration.url)
        let tls = optional ? CURLUSESSL_TRY : CURLUSESSL_ALL
        try check(digest_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(tls.rawValue)), "TLS")
        try check(digest_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "certificate checks")
        try check(digest_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "certificate checks")
        if let caFile = configuration.caFile {
            try check(digest_curl_setopt_string(handle, CURLOPT_CAINFO, caFile), "the CA file")
        }
        if let username = configuration.username {
            try check(digest_curl_setopt_string(handle, CURLOPT_USERNAME, username), "the user name")
        }
        if let password = configuration.password {
            try check(digest_curl_setopt_string(handle, CURLOPT_PASSWORD, password), "the password")
        }
        try check(digest_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(
            digest_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, configuration.connectTimeout), "the connect timeout"
        )
        try check(
            digest_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, configuration.replyTimeout),
            "the reply timeout")
        try check(digest_curl_setopt_long(handle, CURLOPT_TIMEOUT, configuration.messageTimeout), "the message timeout")
        try check(digest_curl_setopt_long(handle, CURLOPT_UPLOAD, 1), "upload")
        try check(digest_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "the error buffer")
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        try check(digest_curl_setopt_callback(handle, CURLOPT_READFUNCTION, readCallback), "the read callback")
        try check(digest_curl_setopt_pointer(handle, CURLOPT_READDATA, opaque), "the read context")
        try check(digest_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback), "the reply callback")
        try check(digest_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque), "the reply context")
        try check(digest_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, discardCallback), "the write callback")
    }

    public func deliver(_ message: OutgoingMessage) -> DeliveryOutcome {
        perform(message, beforeEnd: nil)
    }

    public func deliver(_ message: OutgoingMessage, beforeEnd: () -> Bool) -> DeliveryOutcome {
        withoutActuallyEscaping(beforeEnd) { perform(message, beforeEnd: $0) }
    }

    /// A transfer abandoned mid-message leaves the connection in the middle of DATA: the next one starts afresh.
    private var needsFreshConnection = false

    private func perform(_ message: OutgoingMessage, beforeEnd: (() -> Bool)?) -> DeliveryOutcome {
        context.reset(upload: message.data, beforeEnd: beforeEnd)
        defer { context.beforeEnd = nil }
        if needsFreshConnection {
            _ = digest_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1)
        }
        errorBuffer[0] = 0
        // The envelope addresses are EmailAddress values: no CR, LF or space can reach the SMTP command.
        let recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(message.recipient)>")
        defer { curl_slist_free_all(recipients) }
        guard recipients != nil else {
            return DeliveryOutcome(
                recipient: message.recipient, status: .deferred, replyCode: nil, reply: "out of memory")
        }
        var code = digest_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(message.envelopeFrom)>")
        if code == CURLE_OK { code = digest_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients) }
        if code == CURLE_OK {
            code = digest_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.data.count))
        }
        if code == CURLE_OK { code = curl_easy_perform(handle) }
        // The list is freed on return: make sure the handle no longer points at it.
        _ = digest_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, nil)
        if needsFreshConnection {
            _ = digest_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 0)
            needsFreshConnection = false
        }
        if context.withheld {
            needsFreshConnection = true
            return .withheld(message.recipient)
        }
        var replyCode = 0
        _ = digest_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &replyCode)
        // libcurl asks for more data (and so ends the body) before all of it is on the wire: only when
        // every byte went out can the server have the message. A drop before that is a plain failure.
        var uploaded: curl_off_t = 0
        _ = digest_curl_getinfo_off_t(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        var connects = 0
        _ = digest_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        var outcome = Self.outcome(
            recipient: message.recipient, code: code, replyCode: replyCode, reply: context.reply(code: replyCode),
            bodyComplete: context.bodyComplete && Int(uploaded) >= message.data.count,
            detail: String(cString: errorBuffer), address: Curl.address(of: configuration.url))
        // A new connection whose greeting is a refusal (554 "no service", 421 "too busy"): no session.
        if code != CURLE_OK, connects > 0, !outcome.bodySent, let greeting = context.replyLines.first,
            greeting.hasPrefix("4") || greeting.hasPrefix("5")
        {
            outcome.noSession = true
            outcome.reply =
                "\(Curl.address(of: configuration.url)) refused the connection at its greeting: "
                + greeting.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Timed out before the server said a word: it never answered the connection.
        if code == CURLE_OPERATION_TIMEDOUT, context.replyLines.isEmpty, !outcome.bodySent {
            outcome.noSession = true
        }
        return outcome
    }

    /// Classifies a transfer's result. The reply code decides when the server gave one; without one, a
    /// failure after the whole body left us is "in doubt" (the server may have queued it), never a
    /// failure to retry blindly.
    public static func outcomeStatus(code: Int, replyCode: Int, bodyComplete: Bool) -> DeliveryOutcome.Status {
        if code == Int(CURLE_OK.rawValue) { return .accepted }
        if replyCode >= 500 { return .rejected }
        if replyCode >= 400 { return .deferred }
        return bodyComplete ? .inDoubt : .deferred
    }

    static func outcome(
        recipient: EmailAddress, code: CURLcode, replyCode: Int, reply: String, bodyComplete: Bool, detail: String,
        address: String
    ) -> DeliveryOutcome {
        var outcome = classify(
            recipient: recipient, code: code, replyCode: replyCode, reply: reply, bodyComplete: bodyComplete,
            detail: detail)
        outcome.bodySent = bodyComplete
        // Nothing reached the server: say why in words (libcurl's code kept for the log).
        if replyCode == 0, !bodyComplete, let words = Curl.explain(code, address: address) {
            outcome.reply = words
            outcome.noSession = [
                CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR,
                CURLE_GOT_NOTHING,
            ].contains(code)
        }
        return outcome
    }

    static func classify(
        recipient: EmailAddress, code: CURLcode, replyCode: Int, reply: String, bodyComplete: Bool, detail: String
    ) -> DeliveryOutcome {
        let reason = detail.isEmpty ? Curl.describe(code) : detail
        let serverReply = replyCode > 0 ? replyCode : nil
        // Failures of the set-up rather than of this reader: the run stops and the reader waits for the next.
        let setupProblem: String? =
            switch code {
            case CURLE_LOGIN_DENIED:
                "authentication failed: \(reply.isEmpty ? reason : reply) (check DIGEST_SMTP_USER and DIGEST_SMTP_PASSWORD)"
            case CURLE_USE_SSL_FAILED:
                "the server does not offer STARTTLS, which digest requires for a relay on another machine (\(reason))"
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
                "the server's certificate is not trusted (\(reason)); set smtp.ca_file or DIGEST_SMTP_CA_FILE for a private CA"
            default: nil
            }
        if let setupProblem {
            var outcome = DeliveryOutcome(
                recipient: recipient, status: .deferred, replyCode: serverReply, reply: setupProblem)
            outcome.stopsTheRun = true
            return outcome
        }
        let status = outcomeStatus(code: Int(code.rawValue), replyCode: replyCode, bodyComplete: bodyComplete)
        switch status {
        case .accepted, .rejected:
            return DeliveryOutcome(recipient: recipient, status: status, replyCode: serverReply, reply: reply)
        case .deferred:
            return DeliveryOutcome(
                recipient: recipient, status: .deferred, replyCode: replyCode >= 400 ? replyCode : nil,
                reply: replyCode >= 400 ? reply : reason)
        case .inDoubt:
            return DeliveryOutcome(
                recipient: recipient, status: .inDoubt, replyCode: nil,
                reply: "no reply after the message was sent (\(reason)); it may have been delivered")
        }
    }
}
