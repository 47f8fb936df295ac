import CCurl
import DigestCore
import DigestMail
import Foundation

/// Reads the bounce mailbox over IMAP(S) or POP3(S) with libcurl. One easy handle, reused for every command, keeps
/// one connection (and one login) for the whole fetch.
///
/// IMAP: `STATUS` for the folder's UIDVALIDITY, `UID SEARCH ALL`, each message by `…/INBOX;UIDVALIDITY=V;UID=N`
/// (libcurl refuses it when the folder was recreated meanwhile), `UID MOVE` or `UID STORE +FLAGS (\Deleted)` and
/// `UID EXPUNGE` at the end. POP3: `UIDL`, `RETR` by number, `DELE` (the server deletes at `QUIT`, when the
/// session ends in `finish`).
///
/// Not thread-safe: one reader is one connection.
public final class CurlMailbox: MailboxReader {
    public struct Configuration: Sendable {
        public var mailbox: BounceMailbox
        public var password: String?
        public var caFile: String?
        public var connectTimeout: Int
        /// The longest one command (one message's download) may take.
        public var timeout: Int

        public init(
            mailbox: BounceMailbox, password: String?, caFile: String? = nil, connectTimeout: Int = 15,
            timeout: Int = 300
        ) {
            self.mailbox = mailbox
            self.password = password
            self.caFile = caFile
            self.connectTimeout = connectTimeout
            self.timeout = timeout
        }
    }

    public let configuration: Configuration
    public var protocolName: String { configuration.mailbox.isPOP3 ? "pop3" : "imap" }
    private var handle: UnsafeMutableRawPointer?
    private let context = MailboxTransfer()
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var flaggedDeleted: [String] = []
    private var createdFolders: Set<String> = []

    public init(configuration: Configuration) throws {
        guard Curl.initialized, let handle = curl_easy_init() else {
            throw MailboxError("libcurl could not be initialised")
        }
        self.handle = handle
        self.configuration = configuration
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configure(handle)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        errorBuffer.deallocate()
    }

    private var mailbox: BounceMailbox { configuration.mailbox }

    private func check(_ code: CURLcode, _ what: String) throws {
        guard code == CURLE_OK else { throw MailboxError("libcurl refused \(what): \(Curl.describe(code))") }
    }

    private func configure(_ handle: UnsafeMutableRawPointer) throws {
        // Without TLS the password would cross the network in the clear: STARTTLS is required for imap:// and
        // pop3://, except to a server on this machine.
        let loopback = CurlSMTPTransport.isLoopback(mailbox.server)
        let tls = mailbox.implicitTLS || !loopback ? CURLUSESSL_ALL : CURLUSESSL_TRY
        try check(digest_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(tls.rawValue)), "TLS")
        try check(digest_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "certificate checks")
        try check(digest_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "certificate checks")
        if let caFile = configuration.caFile {
            try check(digest_curl_setopt_string(handle, CURLOPT_CAINFO, caFile), "the CA file")
        }
        try check(
            digest_curl_setopt_string(handle, CURLOPT_USERNAME, mailbox.user.removingPercentEncoding ?? mailbox.user),
            "the user name")
        if let password = configuration.password {
            try check(digest_curl_setopt_string(handle, CURLOPT_PASSWORD, password), "the password")
        }
        try check(digest_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(
            digest_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, configuration.connectTimeout), "the connect timeout"
        )
        try check(digest_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, 60), "the reply timeout")
        try check(digest_curl_setopt_long(handle, CURLOPT_TIMEOUT, configuration.timeout), "the timeout")
        try check(digest_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "the error buffer")
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        try check(digest_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, mailboxBodyCallback), "the body callback")
        try check(digest_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque), "the body context")
        try check(
            digest_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, mailboxLineCallback), "the reply callback")
        try check(digest_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque), "the reply context")
    }

    /// The IMAP folder in a URL path.
    private var folderPath: String {
        mailbox.folder.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/;?")))
            ?? mailbox.folder
    }

    /// An IMAP quoted string.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    public func list() throws -> [MailboxEntry] {
        if mailbox.isPOP3 {
            let body = try perform(url: mailbox.server + "/", command: "UIDL", what: "UIDL (the list of messages)")
            return Self.parseUIDL(body)
        }
        let status = try perform(
            url: mailbox.server + "/", command: "STATUS \(Self.quoted(mailbox.folder)) (UIDVALIDITY)",
            what: "STATUS of the folder \(mailbox.folder)")
        guard let validity = Self.parseUIDValidity(status) else {
            throw MailboxError(
                "\(mailbox.address) gave no UIDVALIDITY for the folder \(mailbox.folder): check the folder in "
                    + "bounce.mailbox")
        }
        let search = try perform(
            url: mailbox.server + "/" + folderPath, command: "UID SEARCH ALL", what: "UID SEARCH in \(mailbox.folder)")
        return Self.parseSearch(search).map { MailboxEntry(id: "\(validity)/\($0)", locator: String($0)) }
    }

    public func fetch(_ entry: MailboxEntry) throws -> [UInt8] {
        if mailbox.isPOP3 {
            return try perform(url: mailbox.server + "/" + entry.locator, command: nil, what: "RETR \(entry.locator)")
        }
        let validity = entry.id.split(separator: "/").first.map(String.init) ?? ""
        return try perform(
            url: mailbox.server + "/" + folderPath + ";UIDVALIDITY=\(validity);UID=\(entry.locator)", command: nil,
            what: "FETCH of UID \(entry.locator) in \(mailbox.folder)")
    }

    public func delete(_ entry: MailboxEntry) throws {
        if mailbox.isPOP3 {
            _ = try perform(
                url: mailbox.server + "/" + entry.locator, command: "DELE", what: "DELE \(entry.locator)", noBody: true)
            return
        }
        _ = try perform(
            url: mailbox.server + "/" + folderPath, command: "UID STORE \(entry.locator) +FLAGS.SILENT (\\Deleted)",
            what: "UID STORE (flagging UID \(entry.locator) deleted)")
        flaggedDeleted.append(entry.locator)
    }

    public func move(_ entry: MailboxEntry, to folder: String) throws {
        guard !mailbox.isPOP3 else { throw MailboxError("a POP3 mailbox has no folders to move messages to") }
        let url = mailbox.server + "/" + folderPath
        if !createdFolders.contains(folder) {
            // CREATE fails when the folder exists already, which is fine.
            _ = try? perform(url: mailbox.server + "/", command: "CREATE \(Self.quoted(folder))", what: "CREATE")
            createdFolders.insert(folder)
        }
        do {
            _ = try perform(
                url: url, command: "UID MOVE \(entry.locator) \(Self.quoted(folder))",
                what: "UID MOVE of UID \(entry.locator) to \(folder)")
        } catch {
            // A server without MOVE (RFC 6851): copy, then flag deleted.
            _ = try perform(
                url: url, command: "UID COPY \(entry.locator) \(Self.quoted(folder))",
                what: "UID COPY of UID \(entry.locator) to \(folder)")
            try delete(entry)
        }
    }

    public func finish() throws {
        defer {
            // Logs out: POP3's QUIT is when the server deletes what DELE marked.
            if let handle { curl_easy_cleanup(handle) }
            handle = nil
        }
        guard !mailbox.isPOP3, !flaggedDeleted.isEmpty else { return }
        let url = mailbox.server + "/" + folderPath
        // UID EXPUNGE (RFC 4315) removes only the messages digest flagged; plain EXPUNGE where it is missing.
        for chunk in stride(from: 0, to: flaggedDeleted.count, by: 200) {
            let set = flaggedDeleted[chunk..<min(chunk + 200, flaggedDeleted.count)].joined(separator: ",")
            do {
                _ = try perform(url: url, command: "UID EXPUNGE \(set)", what: "UID EXPUNGE")
            } catch {
                _ = try perform(url: url, command: "EXPUNGE", what: "EXPUNGE")
                break
            }
        }
        flaggedDeleted = []
    }

    /// One command on the reused connection; its response body. Failures in words.
    private func perform(url: String, command: String?, what: String, noBody: Bool = false) throws -> [UInt8] {
        guard let handle else { throw MailboxError("the mailbox session is over") }
        context.reset()
        errorBuffer[0] = 0
        var code = digest_curl_setopt_string(handle, CURLOPT_URL, url)
        if code == CURLE_OK {
            code =
                if let command {
                    digest_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, command)
                } else {
                    digest_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, nil)
                }
        }
        if code == CURLE_OK { code = digest_curl_setopt_long(handle, CURLOPT_NOBODY, noBody ? 1 : 0) }
        if code == CURLE_OK { code = curl_easy_perform(handle) }
        guard code == CURLE_OK else {
            throw MailboxError(
                Self.explain(
                    code, what: what, mailbox: mailbox, detail: String(cString: errorBuffer),
                    serverSaid: context.lastLine))
        }
        return context.body
    }

    /// A failed command in words: what failed, where, and what to check.
    static func explain(_ code: CURLcode, what: String, mailbox: BounceMailbox, detail: String, serverSaid: String)
        -> String
    {
        let address = mailbox.address
        let reason = detail.isEmpty ? Curl.describe(code) : detail
        let scheme = mailbox.isPOP3 ? "pop3" : "imap"
        switch code {
        case CURLE_LOGIN_DENIED:
            return
                "\(address) refused the login of '\(mailbox.user)'\(serverSaid.isEmpty ? "" : " (\(serverSaid))"): "
                + "check the user in bounce.mailbox and DIGEST_BOUNCE_PASSWORD (or DIGEST_BOUNCE_PASSWORD_FILE)"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return
                "the certificate of \(address) is not trusted (\(reason)); set bounce.ca_file or "
                + "DIGEST_BOUNCE_CA_FILE for a private CA"
        case CURLE_SSL_CONNECT_ERROR:
            return
                "the TLS handshake with \(address) failed (\(reason)): check the port (993 is imaps://, 995 is "
                + "pop3s://; 143 and 110 are imap:// and pop3:// with STARTTLS)"
        case CURLE_USE_SSL_FAILED:
            return
                "\(address) does not offer STARTTLS, which digest requires to send the password: use \(scheme)s:// "
                + "or a server that offers TLS"
        case CURLE_REMOTE_FILE_NOT_FOUND:
            return
                "\(address) has no such message or folder for \(what)\(serverSaid.isEmpty ? "" : " (\(serverSaid))")"
                + ": the folder may have been recreated or the message deleted meanwhile; run again"
        case CURLE_QUOTE_ERROR:
            return "\(address) refused \(what): \(serverSaid.isEmpty ? reason : serverSaid)"
        default:
            if let words = Curl.explain(code, address: address) { return words }
            return "reading the mailbox at \(address) failed at \(what): \(reason) (libcurl error \(code.rawValue))"
        }
    }

    /// `* STATUS "INBOX" (UIDVALIDITY 1796044460)` → 1796044460.
    static func parseUIDValidity(_ body: [UInt8]) -> UInt64? {
        let words = String(decoding: body, as: UTF8.self).split(whereSeparator: { " ()\r\n[]".contains($0) })
        guard let index = words.firstIndex(where: { $0.uppercased() == "UIDVALIDITY" }), index + 1 < words.count
        else { return nil }
        return UInt64(words[index + 1])
    }

    /// `* SEARCH 1 2 3` (any number of lines) → [1, 2, 3], ascending.
    static func parseSearch(_ body: [UInt8]) -> [UInt64] {
        var uids: [UInt64] = []
        for line in String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ")
            guard words.count >= 2, words[0] == "*", words[1].uppercased() == "SEARCH" else { continue }
            uids += words.dropFirst(2).compactMap { UInt64($0) }
        }
        return uids.sorted()
    }

    /// `1 000000016b0d76ac` lines (the `.` and any `+OK` dropped) → entries by UIDL, in message-number order.
    static func parseUIDL(_ body: [UInt8]) -> [MailboxEntry] {
        var entries: [MailboxEntry] = []
        for line in String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 2, let number = Int(words[0]), number > 0 else { continue }
            entries.append(MailboxEntry(id: String(words[1]), locator: String(number)))
        }
        return entries
    }
}

/// What one mailbox command returned: its body, and the server's last protocol line (for error messages).
final class MailboxTransfer {
    var body: [UInt8] = []
    var lastLine = ""

    func reset() {
        body.removeAll(keepingCapacity: true)
        lastLine = ""
    }
}

/// Collects a response body (a message, or the untagged lines of a custom command).
let mailboxBodyCallback: digest_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer, let context else { return length }
    let transfer = Unmanaged<MailboxTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

/// Keeps the server's last protocol line (a tagged NO, a -ERR) without the tag.
let mailboxLineCallback: digest_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer, let context else { return length }
    let transfer = Unmanaged<MailboxTransfer>.fromOpaque(context).takeUnretainedValue()
    let text = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
    for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
        // "A005 NO [TRYCREATE] Mailbox doesn't exist" → "NO [TRYCREATE] Mailbox doesn't exist"
        let words = line.split(separator: " ", maxSplits: 1)
        if words.count == 2, words[0].first?.isLetter == true, words[0].allSatisfy({ $0.isLetter || $0.isNumber }),
            words[0].uppercased() != "OK"
        {
            transfer.lastLine = String(words[1])
        } else {
            transfer.lastLine = String(line)
        }
    }
    return length
}
