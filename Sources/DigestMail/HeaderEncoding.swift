import DigestCore

/// Header field bodies as RFC 5322 and RFC 2047 want them: ASCII only, folded under 78 columns,
/// no line over 998 octets, and nothing from the content able to start a header of its own.
public enum HeaderEncoding {
    /// `text` on one line: CR, LF, NUL, the other controls, NEL and the Unicode line and paragraph
    /// separators become spaces, so nothing from a feed or the edition can start a header of its own.
    public static func singleLine(_ text: String) -> String {
        TextMarks.singleLine(text)
    }

    /// An unstructured field (`Subject`), folded: plain words when the text is printable ASCII,
    /// RFC 2047 encoded-words otherwise. `nameLength` is the length of `Name: ` before it.
    public static func unstructured(_ text: String, nameLength: Int) -> String {
        let line = singleLine(text)
        if needsEncoding(line) {
            return encodedWords(line, firstLineUsed: nameLength)
        }
        return fold(words: line.split(separator: " ").map(String.init), firstLineUsed: nameLength)
    }

    /// A mailbox: `Name <local@domain>`, with the name quoted or encoded as needed.
    public static func mailbox(name: String, address: String, nameLength: Int) -> String {
        let name = singleLine(name)
        if name.isEmpty { return address }
        let angle = "<\(address)>"
        if needsEncoding(name) {
            let words = encodedWords(name, firstLineUsed: nameLength)
            let lastLineLength = words.split(separator: "\n").last.map { $0.count - 1 } ?? words.count
            return words + (lastLineLength + 1 + angle.count > 78 ? "\r\n " : " ") + angle
        }
        let phrase = isAtomPhrase(name) ? name : quoted(name)
        return fold(words: phrase.split(separator: " ").map(String.init) + [angle], firstLineUsed: nameLength)
    }

    /// Whether printable-ASCII words would misrepresent the text: non-ASCII, something that looks
    /// like an encoded-word, or a word too long to fold.
    static func needsEncoding(_ text: String) -> Bool {
        if text.utf8.contains(where: { $0 >= 0x80 }) { return true }
        if text.contains("=?") { return true }
        return text.split(separator: " ").contains { $0.utf8.count > 70 }
    }

    static func isAtomPhrase(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x20
                || "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }

    static func quoted(_ text: String) -> String {
        var output = "\""
        for character in text {
            if character == "\"" || character == "\\" { output.append("\\") }
            output.append(character)
        }
        return output + "\""
    }

    /// Joins words with spaces, breaking the line (CRLF + space) before a word that would pass 78 columns.
    static func fold(words: [String], firstLineUsed: Int) -> String {
        var output = ""
        var column = firstLineUsed
        for (index, word) in words.enumerated() {
            if index > 0 {
                if column + 1 + word.utf8.count > 78 {
                    output += "\r\n "
                    column = 1
                } else {
                    output += " "
                    column += 1
                }
            }
            output += word
            column += word.utf8.count
        }
        return output
    }

    /// The text as `=?utf-8?b?…?=` words of at most 75 characters, each holding whole characters
    /// (never a split UTF-8 sequence or grapheme), one per folded line.
    static func encodedWords(_ text: String, firstLineUsed: Int) -> String {
        // 75 - "=?utf-8?b?".count - "?=".count = 63 base64 characters: 45 bytes. The first word shares
        // its line with the field name, so it holds what fits in the 78 columns left there.
        var maximumBytes = min(45, max(3, (78 - firstLineUsed - 12) / 4 * 3))
        var words: [String] = []
        var chunk: [UInt8] = []
        func endWord() {
            words.append(encodedWord(chunk))
            chunk = []
            maximumBytes = 45
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > maximumBytes {
                endWord()
            }
            if bytes.count > maximumBytes {
                // A grapheme longer than a word (a long emoji sequence): split between its scalars.
                for scalar in String(character).unicodeScalars {
                    let scalarBytes = Array(String(scalar).utf8)
                    if !chunk.isEmpty && chunk.count + scalarBytes.count > maximumBytes {
                        endWord()
                    }
                    chunk += scalarBytes
                }
            } else {
                chunk += bytes
            }
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        var output = ""
        var column = firstLineUsed
        for (index, word) in words.enumerated() {
            if index > 0 {
                if column + 1 + word.count > 78 {
                    output += "\r\n "
                    column = 1
                } else {
                    output += " "
                    column += 1
                }
            }
            output += word
            column += word.count
        }
        return output
    }

    static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?utf-8?b?" + Base64.encode(bytes) + "?="
    }
}

/// Base64 (RFC 4648) without line breaks.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: encode(bytes, alphabet: alphabet, padding: true), as: UTF8.self)
    }

    static func encode(_ bytes: [UInt8], alphabet: [UInt8], padding: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            if rest == 2 { output.append(alphabet[Int(value >> 6 & 63)]) }
            if padding { output += rest == 2 ? [UInt8(ascii: "=")] : [UInt8(ascii: "="), UInt8(ascii: "=")] }
        }
        return output
    }
}
