import CCurl

/// libcurl's process-wide set-up, done once before the first handle.
enum Curl {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
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
