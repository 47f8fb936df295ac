import CLibXML2
import Foundation

/// The clean-up pass for XML that real feeds serve slightly broken: run only after a strict parse has
/// failed, so a well-formed document never pays for it. Each repair is named, for `feeds inspect`.
package enum XMLRepair {
    /// The repaired bytes, the encoding to read them in (nil: the document's own), and what was done.
    package struct Result {
        package var data: Data
        package var encoding: String?
        package var repairs: [String]
    }

    /// Repairs what feed readers tolerate: white space (or a byte order mark and white space) before the
    /// XML declaration, bytes that are not the declared UTF-8 and no charset given (read as Windows-1252,
    /// which covers Latin-1), HTML entities XML does not define (`&nbsp;`), and a bare `&`.
    package static func repair(_ data: Data, encoding: String?) -> Result {
        var bytes = [UInt8](data)
        var repairs: [String] = []
        var newEncoding = encoding

        // Anything but the first `<` at the start: a blank line or a byte order mark and blank lines.
        var start = 0
        var sawBOM = false
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            start = 3
            sawBOM = true
        }
        var blanks = 0
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) {
            start += 1
            blanks += 1
        }
        if blanks > 0, start < bytes.count, bytes[start] == 0x3C {
            bytes.removeFirst(start)
            repairs.append(
                "white space\(sawBOM ? " after a byte order mark" : "") before the XML declaration (\(blanks) "
                    + "byte\(blanks == 1 ? "" : "s")) was skipped")
        }

        // Bytes that are not UTF-8 where UTF-8 is declared or implied, and no charset from the server.
        if encoding == nil, String(validating: bytes, as: UTF8.self) == nil {
            let declared = declaredEncoding(bytes)?.lowercased()
            if declared == nil || declared == "utf-8" || declared == "utf8" {
                // Transcoded here rather than by libxml2's iconv, which complains on stderr about the five
                // bytes Windows-1252 leaves undefined.
                bytes = windows1252ToUTF8(bytes)
                newEncoding = "UTF-8"
                repairs.append(
                    (declared == nil ? "no encoding is declared" : "UTF-8 is declared")
                        + " but the bytes are not UTF-8: read as Windows-1252 (Latin-1)")
            }
        }

        let (fixed, entities, ampersands) = escapeAmpersands(bytes)
        if !entities.isEmpty {
            let names = entities.keys.sorted().prefix(5).map { "&\($0);" }.joined(separator: ", ")
            let count = entities.values.reduce(0, +)
            repairs.append(
                "\(count) HTML entit\(count == 1 ? "y" : "ies") that XML does not define (\(names)) read as "
                    + "\(count == 1 ? "its character" : "their characters")")
        }
        if ampersands > 0 {
            repairs.append("\(ampersands) unescaped & read as &amp;")
        }
        if !entities.isEmpty || ampersands > 0 { bytes = fixed }
        return Result(data: Data(bytes), encoding: newEncoding, repairs: repairs)
    }

    /// Windows-1252 bytes as UTF-8 (Latin-1 with printable characters in 0x80–0x9F; its five undefined
    /// bytes kept as the C1 controls Latin-1 reads them as).
    static func windows1252ToUTF8(_ bytes: [UInt8]) -> [UInt8] {
        let high: [UInt32] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152,
            0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122,
            0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
        ]
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 8)
        for byte in bytes {
            if byte < 0x80 {
                output.append(byte)
                continue
            }
            let scalar = byte < 0xA0 ? high[Int(byte - 0x80)] : UInt32(byte)
            output.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
        }
        return output
    }

    /// The `encoding` of the XML declaration, if any.
    static func declaredEncoding(_ bytes: [UInt8]) -> String? {
        guard bytes.starts(with: Array("<?xml".utf8)) else { return nil }
        let end = bytes.firstIndex(of: 0x3E) ?? min(bytes.count, 200)
        let declaration = String(decoding: bytes[..<end], as: UTF8.self)
        guard let range = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[range.upperBound...].drop { $0 == " " || $0 == "=" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix { $0 != quote })
    }

    /// Every `&` that does not start an XML reference becomes `&amp;`, and every HTML entity XML does not
    /// define becomes a character reference; CDATA sections, comments and a DOCTYPE (which may declare its
    /// own entities, then left alone) are copied as they are.
    static func escapeAmpersands(_ bytes: [UInt8]) -> ([UInt8], [String: Int], Int) {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 64)
        var entities: [String: Int] = [:]
        var ampersands = 0
        let declaresEntities = bytes.count > 9 && containsSequence(bytes, Array("<!ENTITY".utf8))
        let xmlNames: Set<String> = ["amp", "lt", "gt", "quot", "apos"]
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x3C {
                // Copy CDATA sections and comments whole.
                var copied = false
                for (open, close) in [("<![CDATA[", "]]>"), ("<!--", "-->")] where !copied {
                    let openBytes = Array(open.utf8)
                    guard bytes[index...].starts(with: openBytes) else { continue }
                    let closeBytes = Array(close.utf8)
                    let stop =
                        find(closeBytes, in: bytes, from: index + openBytes.count).map { $0 + closeBytes.count }
                        ?? bytes.count
                    output.append(contentsOf: bytes[index..<stop])
                    index = stop
                    copied = true
                }
                if !copied {
                    output.append(0x3C)
                    index += 1
                }
                continue
            }
            guard byte == 0x26 else {
                output.append(byte)
                index += 1
                continue
            }
            // `&name;` or `&#digits;` / `&#xhex;`
            var end = index + 1
            while end < bytes.count, end - index <= 32,
                isNameByte(bytes[end]) || (end == index + 1 && bytes[end] == 0x23)
            {
                end += 1
            }
            if end > index + 1, end < bytes.count, bytes[end] == 0x3B {
                let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                if name.hasPrefix("#") || xmlNames.contains(name) || declaresEntities {
                    output.append(contentsOf: bytes[index...end])
                    index = end + 1
                    continue
                }
                if let value = htmlEntity(name) {
                    output.append(contentsOf: Array("&#\(value);".utf8))
                    entities[name, default: 0] += 1
                    index = end + 1
                    continue
                }
            }
            output.append(contentsOf: Array("&amp;".utf8))
            ampersands += 1
            index += 1
        }
        return (output, entities, ampersands)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }

    /// The code point of an HTML 4 entity (libxml2's table), if `name` is one.
    static func htmlEntity(_ name: String) -> UInt32? {
        name.withCString { pointer in
            htmlEntityLookup(UnsafeRawPointer(pointer).assumingMemoryBound(to: xmlChar.self))?.pointee.value
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    static func containsSequence(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        find(needle, in: bytes, from: 0) != nil
    }
}
