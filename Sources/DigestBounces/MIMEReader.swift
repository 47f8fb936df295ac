/// One header field, unfolded; `value` is as received (RFC 2047 encoded words still encoded).
public struct MIMEHeader: Sendable, Equatable {
    public let name: String
    public let value: String
    /// The name in ASCII lower case, for lookups.
    let key: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
        key = name.asciiLowercased()
    }

    init(name: String, value: String, key: String) {
        self.name = name
        self.value = value
        self.key = key
    }
}

/// One MIME entity: its headers, its body with the transfer encoding undone, and its children (the parts of a
/// multipart, or the one message inside a message/rfc822, text/rfc822-headers or message/global part).
public struct MIMEEntity: Sendable {
    public var headers: [MIMEHeader] {
        didSet { contentType = Self.contentType(of: headers) }
    }
    /// The body with base64 or quoted-printable undone (for a multipart, the raw body).
    public var body: [UInt8]
    public var children: [MIMEEntity]
    /// `type/subtype`, lowercased; `text/plain` when absent or unreadable (RFC 2045 §5.2).
    public private(set) var contentType: String

    public init(headers: [MIMEHeader], body: [UInt8] = [], children: [MIMEEntity] = []) {
        self.headers = headers
        self.body = body
        self.children = children
        contentType = Self.contentType(of: headers)
    }

    static func contentType(of headers: [MIMEHeader]) -> String {
        guard let value = headers.first(where: { $0.key == "content-type" })?.value else {
            return "text/plain"
        }
        var bytes: [UInt8] = []
        var sawSlash = false
        for byte in value.utf8 {
            if byte == 0x3B { break }
            if byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A { continue }
            if byte == 0x2F { sawSlash = true }
            bytes.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
        }
        return sawSlash ? String(decoding: bytes, as: UTF8.self) : "text/plain"
    }

    /// The first field named `name` (case-insensitive), RFC 2047 encoded words decoded.
    public func header(_ name: String) -> String? {
        rawHeader(name).map(EncodedWords.decode)
    }

    /// The first field named `name` as received.
    public func rawHeader(_ name: String) -> String? {
        let key = name.asciiLowercased()
        return headers.first { $0.key == key }?.value
    }

    /// Every field named `name`, decoded.
    public func headers(_ name: String) -> [String] {
        let key = name.asciiLowercased()
        return headers.filter { $0.key == key }.map { EncodedWords.decode($0.value) }
    }

    /// A parameter of the Content-Type field (`boundary`, `charset`, `report-type`), unquoted.
    public func contentTypeParameter(_ name: String) -> String? {
        guard let value = rawHeader("Content-Type") else { return nil }
        return MIMEReader.parameter(name, in: value)
    }

    /// The body as text, in its charset (UTF-8, then Latin-1 for bytes that are not UTF-8).
    public var text: String { Charsets.decode(body, charset: contentTypeParameter("charset")) }

    /// This entity and every entity under it, depth first.
    public func allEntities() -> [MIMEEntity] {
        var result: [MIMEEntity] = [self]
        for child in children { result += child.allEntities() }
        return result
    }

    /// The first entity (this one or one under it) of the given content type.
    public func first(ofType type: String) -> MIMEEntity? {
        if contentType == type { return self }
        for child in children {
            if let found = child.first(ofType: type) { return found }
        }
        return nil
    }
}

/// A reader for Internet messages (RFC 5322, MIME): enough of it to read bounce and complaint reports. It never
/// fails: junk, missing boundaries, bare LFs, 8-bit bytes and truncated input give a best-effort tree.
public enum MIMEReader {
    /// How deep multiparts and enclosed messages are followed; deeper content is kept as an opaque body.
    public static let maximumDepth = 12

    public static func parse(_ bytes: [UInt8]) -> MIMEEntity {
        parse(bytes[...], depth: 0)
    }

    public static func parse(_ text: String) -> MIMEEntity { parse(Array(text.utf8)) }

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int) -> MIMEEntity {
        let (headers, bodyStart) = parseHeaders(bytes)
        var entity = MIMEEntity(headers: headers, body: [], children: [])
        let rawBody = bytes[bodyStart...]
        let type = entity.contentType
        if type.hasPrefix("multipart/") {
            if depth < maximumDepth, let boundary = entity.contentTypeParameter("boundary"), !boundary.isEmpty {
                let parts = splitMultipart(rawBody, boundary: Array(boundary.utf8))
                if !parts.isEmpty {
                    entity.children = parts.map { parse($0, depth: depth + 1) }
                    entity.body = Array(rawBody)
                    return entity
                }
            }
            // No boundary, or none found: keep the body as text, as a reader would see it.
            entity.body = Array(rawBody)
            return entity
        }
        entity.body = decodeTransfer(rawBody, encoding: entity.rawHeader("Content-Transfer-Encoding"))
        if depth < maximumDepth,
            type == "message/rfc822" || type == "message/global" || type == "text/rfc822-headers"
                || type == "message/rfc822-headers" || type == "message/global-headers"
        {
            entity.children = [parse(entity.body[...], depth: depth + 1)]
        }
        return entity
    }

    /// The header fields at the start of `bytes` and where the body begins (after the empty line). A leading
    /// mbox "From " line is skipped; a line that is neither a field nor a continuation ends the header.
    public static func parseHeaders(_ bytes: ArraySlice<UInt8>) -> (headers: [MIMEHeader], bodyStart: Int) {
        var headers: [MIMEHeader] = []
        var nameBytes: ArraySlice<UInt8> = []
        var valueBytes: [UInt8] = []
        var haveField = false
        var index = bytes.startIndex
        let end = bytes.endIndex

        func flush() {
            if haveField {
                let nameTrimmed = trimmed(nameBytes)
                let name = Charsets.decode(nameTrimmed, charset: nil)
                let key = String(unsafeUninitializedCapacity: nameTrimmed.count) { buffer in
                    for (index, byte) in nameTrimmed.enumerated() {
                        buffer[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                    }
                    return nameTrimmed.count
                }
                let value = Charsets.decode(trimmed(valueBytes[...]), charset: nil)
                headers.append(MIMEHeader(name: name, value: value, key: key))
            }
            haveField = false
            valueBytes.removeAll(keepingCapacity: true)
        }

        var first = true
        while index < end {
            var lineEnd = index
            while lineEnd < end && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < end ? lineEnd + 1 : end
            var contentEnd = lineEnd
            if contentEnd > index && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let line = bytes[index..<contentEnd]
            defer { first = false }
            if line.isEmpty {
                flush()
                return (headers, next)
            }
            if first && line.starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20]) {  // "From "
                index = next
                continue
            }
            if line.first == 0x20 || line.first == 0x09 {
                if haveField {
                    // Unfolding: the line break goes, the whitespace collapses to one space.
                    var start = line.startIndex
                    while start < line.endIndex && (line[start] == 0x20 || line[start] == 0x09) { start += 1 }
                    valueBytes.append(0x20)
                    valueBytes.append(contentsOf: line[start...])
                }
                index = next
                continue
            }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex else {
                // Not a field: the body starts here (a message whose header lacks the empty line).
                flush()
                return (headers, index)
            }
            let name = line[line.startIndex..<colon]
            if name.contains(where: { $0 < 0x21 && $0 != 0x20 && $0 != 0x09 }) || name.allSatisfy({ $0 == 0x20 }) {
                flush()
                return (headers, index)
            }
            flush()
            nameBytes = name
            valueBytes.append(contentsOf: line[(colon + 1)...])
            haveField = true
            index = next
        }
        flush()
        return (headers, end)
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09 || bytes[start] == 0x0D) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D) { end -= 1 }
        return bytes[start..<end]
    }

    /// The parts of a multipart body: what lies between the delimiter lines "--boundary". A missing close
    /// delimiter ends the last part at the end of the input.
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var index = body.startIndex
        let end = body.endIndex
        let delimiter: [UInt8] = [0x2D, 0x2D] + boundary
        while index < end {
            var lineEnd = index
            while lineEnd < end && body[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < end ? lineEnd + 1 : end
            if body[index] == 0x2D, body[index..<lineEnd].starts(with: delimiter) {
                let rest = body[(index + delimiter.count)..<lineEnd]
                let isClose = rest.starts(with: [0x2D, 0x2D])
                let restIsBlank = rest.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                if isClose || restIsBlank {
                    if let start = partStart {
                        // The line break before the delimiter belongs to the delimiter.
                        var partEnd = index
                        if partEnd > start && body[partEnd - 1] == 0x0A { partEnd -= 1 }
                        if partEnd > start && body[partEnd - 1] == 0x0D { partEnd -= 1 }
                        parts.append(body[start..<max(start, partEnd)])
                    }
                    if isClose { return parts }
                    partStart = next
                }
            }
            index = next
        }
        if let start = partStart, start < end { parts.append(body[start..<end]) }
        return parts
    }

    static func decodeTransfer(_ body: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
        switch encoding?.trimmingWhitespace().lowercased() {
        case "base64": return Base64Decoder.decode(body)
        case "quoted-printable": return QuotedPrintableDecoder.decode(body)
        default: return Array(body)
        }
    }

    /// A parameter of a structured field such as Content-Type, unquoted and case-insensitive by name.
    static func parameter(_ name: String, in value: String) -> String? {
        let bytes = Array(value.utf8)
        guard var index = bytes.firstIndex(of: 0x3B) else { return nil }
        index += 1
        while index < bytes.count {
            var inQuotes = false
            var end = index
            while end < bytes.count {
                if bytes[end] == 0x22 { inQuotes.toggle() }
                if bytes[end] == 0x3B && !inQuotes { break }
                end += 1
            }
            if let equals = bytes[index..<end].firstIndex(of: 0x3D) {
                let key = String(decoding: bytes[index..<equals], as: UTF8.self).trimmingWhitespace()
                if key.asciiLowercased() == name.asciiLowercased() {
                    var value = String(decoding: bytes[(equals + 1)..<end], as: UTF8.self).trimmingWhitespace()
                    if value.utf8.count >= 2 && value.utf8.first == 0x22 && value.utf8.last == 0x22 {
                        value = String(value.dropFirst().dropLast())
                    }
                    return value
                }
            }
            index = end + 1
        }
        return nil
    }
}

enum Base64Decoder {
    static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Skips anything outside the alphabet (line breaks, junk) and stops at padding.
    static func decode<C: Collection>(_ input: C) -> [UInt8] where C.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in input {
            if byte == 0x3D { break }
            let value = table[Int(byte)]
            if value == 0xFF { continue }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }
}

enum QuotedPrintableDecoder {
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// `=XX` decoded, soft line breaks (`=` at a line end) removed, a malformed `=` kept as it is.
    static func decode<C: Collection>(_ input: C, underscoreIsSpace: Bool = false) -> [UInt8]
    where C.Element == UInt8 {
        let bytes = Array(input)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x3D {
                // Soft break: "=" then optional whitespace then the line end.
                var look = index + 1
                while look < bytes.count && (bytes[look] == 0x20 || bytes[look] == 0x09) { look += 1 }
                if look < bytes.count && bytes[look] == 0x0D { look += 1 }
                if look < bytes.count && bytes[look] == 0x0A {
                    index = look + 1
                    continue
                }
                if look >= bytes.count {
                    index = look
                    continue
                }
                if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
                {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                output.append(byte)
            } else if byte == 0x5F && underscoreIsSpace {
                output.append(0x20)
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }
}

/// RFC 2047 encoded words (`=?charset?B?...?=`, `=?charset?Q?...?=`) in header values.
public enum EncodedWords {
    public static func decode(_ value: String) -> String {
        var previous: UInt8 = 0
        guard
            value.utf8.contains(where: { byte in
                defer { previous = byte }
                return previous == 0x3D && byte == 0x3F
            })
        else { return value }
        let bytes = Array(value.utf8)
        var output = ""
        var index = 0
        var pendingWhitespace = ""
        var lastWasEncoded = false
        var literalStart = 0
        func flushLiteral(upTo end: Int) {
            if literalStart < end {
                output += String(decoding: bytes[literalStart..<end], as: UTF8.self)
            }
        }
        while index < bytes.count {
            if bytes[index] == 0x3D, index + 1 < bytes.count, bytes[index + 1] == 0x3F,
                let (decoded, end) = encodedWord(bytes, at: index)
            {
                // Whitespace between two encoded words is dropped (RFC 2047 §6.2).
                let between = String(decoding: bytes[literalStart..<index], as: UTF8.self)
                if lastWasEncoded && between.allSatisfy({ $0 == " " || $0 == "\t" }) {
                    pendingWhitespace = ""
                } else {
                    output += between
                }
                output += pendingWhitespace + decoded
                pendingWhitespace = ""
                lastWasEncoded = true
                index = end
                literalStart = end
                continue
            }
            if bytes[index] != 0x20 && bytes[index] != 0x09 { lastWasEncoded = false }
            index += 1
        }
        flushLiteral(upTo: bytes.count)
        return output
    }

    /// The encoded word starting at `start` ("=?"), decoded, and the index after its "?=".
    static func encodedWord(_ bytes: [UInt8], at start: Int) -> (String, Int)? {
        var index = start + 2
        let charsetStart = index
        while index < bytes.count && bytes[index] != 0x3F && bytes[index] > 0x20 { index += 1 }
        guard index + 2 < bytes.count, bytes[index] == 0x3F, bytes[index + 2] == 0x3F else { return nil }
        var charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        let encoding = bytes[index + 1] | 0x20
        let textStart = index + 3
        var end = textStart
        while end + 1 < bytes.count && !(bytes[end] == 0x3F && bytes[end + 1] == 0x3D) {
            if bytes[end] == 0x20 { return nil }
            end += 1
        }
        guard end + 1 < bytes.count else { return nil }
        let text = bytes[textStart..<end]
        let decoded: [UInt8]
        switch encoding {
        case 0x62: decoded = Base64Decoder.decode(text)
        case 0x71: decoded = QuotedPrintableDecoder.decode(text, underscoreIsSpace: true)
        default: return nil
        }
        return (Charsets.decode(decoded, charset: charset), end + 2)
    }
}

/// Bytes to text by charset: UTF-8 and US-ASCII, the Latin-1 family (and anything else) byte for byte.
enum Charsets {
    static func decode(_ bytes: [UInt8], charset: String?) -> String { decode(bytes[...], charset: charset) }

    static func decode(_ bytes: ArraySlice<UInt8>, charset: String?) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        let name = charset?.lowercased()
        if name == nil || name == "utf-8" || name == "utf8" || name == "us-ascii" {
            if let text = String(validating: bytes, as: UTF8.self) { return text }
        }
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }
}

extension StringProtocol {
    /// Without leading and trailing ASCII whitespace (spaces, tabs, CR, LF).
    func trimmingWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// Whether the text holds `part`, byte for byte (no Foundation, no Unicode normalisation).
    func containsBytes(_ part: String) -> Bool {
        LowerText.find(Array(part.utf8), in: Array(utf8)[...]) != nil
    }

    func asciiLowercased() -> String {
        guard utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return String(self) }
        return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    func caseInsensitiveEquals<Other: StringProtocol>(_ other: Other) -> Bool {
        let left = utf8
        let right = other.utf8
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where a != b {
            let lowerA = a >= 0x41 && a <= 0x5A ? a | 0x20 : a
            let lowerB = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
            if lowerA != lowerB { return false }
        }
        return true
    }
}
