#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ASCII-lowercased bytes of a text, for fast case-insensitive phrase searches.
struct LowerText {
    let bytes: [UInt8]

    init(_ text: String) { self.init(Array(text.utf8)) }

    init(_ bytes: [UInt8]) {
        self.bytes = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }

    func contains(_ phrase: String) -> Bool { Self.find(Array(phrase.utf8), in: bytes[...]) != nil }

    func containsAny(_ phrases: [[UInt8]]) -> Bool {
        phrases.contains { Self.find($0, in: bytes[...]) != nil }
    }

    /// Where `needle` first occurs in `haystack`: memchr finds the candidates for its first byte, memcmp checks
    /// them (many times faster than a byte loop; the classifier searches a few hundred phrases per message).
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { hay -> Int? in
            needle.withUnsafeBufferPointer { pin -> Int? in
                guard let hayBase = hay.baseAddress, let pinBase = pin.baseAddress else { return nil }
                let last = hay.count - pin.count
                var offset = 0
                while offset <= last {
                    guard let found = memchr(hayBase + offset, Int32(first), last - offset + 1) else { return nil }
                    let position = UnsafeRawPointer(found) - UnsafeRawPointer(hayBase)
                    if memcmp(hayBase + position, pinBase, pin.count) == 0 { return haystack.startIndex + position }
                    offset = position + 1
                }
                return nil
            }
        }
    }
}

/// Phrase lists, lowercased, as bytes.
struct Phrases {
    let list: [[UInt8]]
    init(_ phrases: [String]) { list = phrases.map { Array($0.utf8) } }
}

enum TextScan {
    static func isLocalPartByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39: return true
        case 0x2E, 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2F, 0x3D, 0x3F, 0x5E, 0x5F, 0x60, 0x7B, 0x7C,
            0x7D, 0x7E, 0x2D:
            return true
        default: return byte >= 0x80
        }
    }

    static func isDomainByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39, 0x2E, 0x2D: return true
        default: return byte >= 0x80
        }
    }

    /// Every address-like `local@domain.tld` in `bytes` (at most `limit`), with its byte offset, domain
    /// lowercased.
    static func addresses(in bytes: ArraySlice<UInt8>, limit: Int = .max) -> [(address: String, offset: Int)] {
        var result: [(String, Int)] = []
        var index = bytes.startIndex
        while index < bytes.endIndex && result.count < limit {
            guard bytes[index] == 0x40 else {
                index += 1
                continue
            }
            var start = index
            while start > bytes.startIndex && isLocalPartByte(bytes[start - 1]) { start -= 1 }
            // A local part does not start or end with a dot; "mailto:" and quotes are not part of it.
            while start < index && bytes[start] == 0x2E { start += 1 }
            var end = index + 1
            while end < bytes.endIndex && isDomainByte(bytes[end]) { end += 1 }
            while end > index + 1 && (bytes[end - 1] == 0x2E || bytes[end - 1] == 0x2D) { end -= 1 }
            let domain = bytes[(index + 1)..<end]
            if start < index, domain.contains(0x2E), domain.first != 0x2E {
                var address = Array(bytes[start...index])
                for byte in domain { address.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
                result.append((String(decoding: address, as: UTF8.self), start))
            }
            index = max(end, index + 1)
        }
        return result
    }

    static func firstAddress(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { buffer in
            addresses(in: Array(buffer)[...], limit: 1).first?.address
        }
    }

    /// The first SMTP reply code (4xx or 5xx) in `bytes` that stands as a code: at the start, or after
    /// whitespace or one of `;:'"(#[<`, and followed by a space, a hyphen or the end. Returns the code and where
    /// it starts.
    static func replyCode(in bytes: ArraySlice<UInt8>) -> (code: String, offset: Int)? {
        var index = bytes.startIndex
        while index + 2 < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x34 || byte == 0x35,
                isDigit(bytes[index + 1]), isDigit(bytes[index + 2]),
                index == bytes.startIndex || isCodeLead(bytes[index - 1]),
                index + 3 == bytes.endIndex || bytes[index + 3] == 0x20 || bytes[index + 3] == 0x2D
                    || bytes[index + 3] == 0x0A || bytes[index + 3] == 0x0D
            {
                return (String(decoding: bytes[index..<(index + 3)], as: UTF8.self), index)
            }
            index += 1
        }
        return nil
    }

    /// The first enhanced status code (RFC 3463: `[245].x.y`) in `bytes` that is not part of a longer dotted
    /// number (an IP address, a version).
    static func enhancedStatus(in bytes: ArraySlice<UInt8>) -> String? {
        var index = bytes.startIndex
        while index + 4 < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0x32 || byte == 0x34 || byte == 0x35, bytes[index + 1] == 0x2E,
                index == bytes.startIndex || !(isDigit(bytes[index - 1]) || bytes[index - 1] == 0x2E)
            {
                var cursor = index + 2
                let firstStart = cursor
                while cursor < bytes.endIndex && isDigit(bytes[cursor]) && cursor - firstStart < 3 { cursor += 1 }
                if cursor > firstStart, cursor < bytes.endIndex, bytes[cursor] == 0x2E {
                    cursor += 1
                    let secondStart = cursor
                    while cursor < bytes.endIndex && isDigit(bytes[cursor]) && cursor - secondStart < 3 { cursor += 1 }
                    if cursor > secondStart
                        && (cursor == bytes.endIndex || !(isDigit(bytes[cursor]) || bytes[cursor] == 0x2E))
                    {
                        return String(decoding: bytes[index..<cursor], as: UTF8.self)
                    }
                    // "5.1.1." at a sentence end is still a code.
                    if cursor > secondStart, cursor < bytes.endIndex, bytes[cursor] == 0x2E,
                        cursor + 1 == bytes.endIndex || !isDigit(bytes[cursor + 1])
                    {
                        return String(decoding: bytes[index..<cursor], as: UTF8.self)
                    }
                }
            }
            index += 1
        }
        return nil
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isCodeLead(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x09, 0x0A, 0x0D, 0x3B, 0x3A, 0x27, 0x22, 0x28, 0x23, 0x5B, 0x3C, 0x3D: return true
        default: return false
        }
    }

    /// Lines of `bytes` as ranges, without their CR/LF.
    static func lines(_ bytes: [UInt8]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                var end = index
                if end > start && bytes[end - 1] == 0x0D { end -= 1 }
                result.append(start..<end)
                start = index + 1
            }
            index += 1
        }
        if start < bytes.count {
            var end = bytes.count
            if bytes[end - 1] == 0x0D { end -= 1 }
            result.append(start..<end)
        }
        return result
    }

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// The text with runs of whitespace made one space, trimmed.
    static func collapse(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(0x20) }
                pendingSpace = false
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
