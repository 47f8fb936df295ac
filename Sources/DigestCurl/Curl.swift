import CCurl
import Foundation

/// libcurl's process-wide set-up, done once before the first handle.
enum Curl {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    /// What a connection-level failure means, in words, for a relay or server at `address` (`host:port`), with
    /// libcurl's own code and text kept at the end for the log; nil for codes that are not about reaching
    /// the server.
    static func explain(_ code: CURLcode, address: String) -> String? {
        let words: String
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST:
            words = "the host name of \(address) does not resolve: check the address, or this machine's DNS"
        case CURLE_COULDNT_CONNECT:
            words =
                "nothing answers at \(address): check that the server is running and that the host and port are right "
                + "(a firewall may also be in the way)"
        case CURLE_OPERATION_TIMEDOUT:
            words = "\(address) did not answer in time: check the address, the network and the firewall"
        case CURLE_SSL_CONNECT_ERROR:
            words = "the TLS handshake with \(address) failed: check the port (465 is smtps://, 587 is smtp://)"
        case CURLE_GOT_NOTHING:
            words = "\(address) closed the connection without a word: check the port and the server's logs"
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR:
            words = "the connection to \(address) broke"
        default:
            return nil
        }
        return "\(words) (libcurl error \(code.rawValue): \(describe(code)))"
    }

    /// `host:port` of a URL, for messages.
    static func address(of url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return url }
        let scheme = components.scheme?.lowercased() ?? ""
        let port =
            components.port ?? (scheme == "smtps" ? 465 : scheme == "smtp" ? 25 : scheme == "https" ? 443 : 80)
        return "\(host):\(port)"
    }

    /// The libcurl version line, for `digest --version` and bug reports.
    static var version: String { String(cString: curl_version()) }
}

/// The state one transfer's callbacks share, passed to C as an unretained pointer.
final class TransferContext {
    var upload: [UInt8] = []
    var offset = 0
    /// The read callback has handed libcurl the whole message: from here a missing reply means
    /// the message may have been delivered.
    var bodyComplete = false
    /// Every reply line of this transfer, in order.
    var replyLines: [String] = []
    /// Asked before the last bytes of the upload are handed over; false abandons the transfer.
    var beforeEnd: (() -> Bool)?
    /// `beforeEnd` said no: the transfer was abandoned before the end of the message.
    var withheld = false

    func reset(upload: [UInt8], beforeEnd: (() -> Bool)? = nil) {
        self.upload = upload
        offset = 0
        bodyComplete = false
        withheld = false
        self.beforeEnd = beforeEnd
        replyLines.removeAll(keepingCapacity: true)
    }

    /// The reply with `code` (libcurl's CURLINFO_RESPONSE_CODE), all its lines joined by spaces. After a
    /// failure libcurl sends QUIT, so the last reply ("221 Bye") is not the one that matters.
    func reply(code: Int) -> String {
        let prefix = String(code)
        guard let end = replyLines.lastIndex(where: { $0.hasPrefix(prefix) }) ?? replyLines.indices.last else {
            return ""
        }
        let replyCode = replyLines[end].prefix(3)
        var start = end
        // Continuation lines ("250-…") precede the last line ("250 …") of a multi-line reply.
        while start > 0, replyLines[start - 1].hasPrefix(replyCode + "-") { start -= 1 }
        let text = replyLines[start...end].map { String($0.dropFirst(4)) }.joined(separator: " ")
        return "\(replyCode) \(text)"
    }
}

/// Hands libcurl the next piece of the message.
let readCallback: digest_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<TransferContext>.fromOpaque(context).takeUnretainedValue()
    let remaining = transfer.upload.count - transfer.offset
    let length = min(size * count, remaining)
    if length == 0 {
        transfer.bodyComplete = true
        return 0
    }
    if length == remaining, let beforeEnd = transfer.beforeEnd {
        // The last bytes: without them the server cannot end the message, so this is the moment to ask.
        transfer.beforeEnd = nil
        guard beforeEnd() else {
            transfer.withheld = true
            return 0x1000_0000  // CURL_READFUNC_ABORT
        }
    }
    transfer.upload.withUnsafeBytes { bytes in
        if let base = bytes.baseAddress {
            UnsafeMutableRawPointer(buffer).copyMemory(from: base + transfer.offset, byteCount: length)
        }
    }
    transfer.offset += length
    return length
}

/// Receives every reply line the SMTP server sends.
let headerCallback: digest_curl_data_callback = { buffer, size, count, context in
    let length = size * count
    guard let buffer, let context else { return length }
    let transfer = Unmanaged<TransferContext>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
    // One call may carry several reply lines.
    let text = String(decoding: bytes, as: UTF8.self)
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
        transfer.replyLines.append(String(line))
    }
    return length
}

/// Discards response bodies (SMTP has none for a send, but libcurl would print to stdout otherwise).
let discardCallback: digest_curl_data_callback = { _, size, count, _ in size * count }
