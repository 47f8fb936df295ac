/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text bodies, with CRLF line ends.
///
/// Beyond the RFC: a line (or a soft-broken continuation) never starts with "." or "From ", so the body
/// survives SMTP dot-stuffing and mbox "From " escaping byte for byte on every path.
public enum QuotedPrintable {
    static let hex = Array("0123456789ABCDEF".utf8)

    public static func encode(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        let input = Array(text.utf8)
        output.reserveCapacity(input.count + input.count / 8)
        var lineStart = 0
        var index = 0
        while index <= input.count {
            if index == input.count || input[index] == 0x0A {
                var lineEnd = index
                if lineEnd > lineStart && input[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                encodeLine(input[lineStart..<lineEnd], into: &output)
                if index < input.count { output += [0x0D, 0x0A] }
                lineStart = index + 1
            }
            index += 1
        }
        return output
    }

    /// One line of text, soft-broken so no encoded line passes 76 characters.
    public static func encodeLine(_ line: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var column = 0
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            let isLast = index == line.endIndex - 1
            let atLineStart = column == 0
            var literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !isLast)
            if atLineStart && (byte == 0x2E || (byte == 0x46 && startsWithFrom(line, at: index))) { literal = false }
            let width = literal ? 1 : 3
            // Keep room for the "=" of a soft break unless this is the line's last character.
            let limit = isLast ? 76 : 75
            if column + width > limit {
                output += [61, 0x0D, 0x0A]
                column = 0
                continue  // Re-examine the byte at the start of the new line.
            }
            if literal {
                output.append(byte)
            } else {
                output += [61, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
            column += width
            index += 1
        }
    }

    static func startsWithFrom(_ line: ArraySlice<UInt8>, at index: Int) -> Bool {
        let from: [UInt8] = Array("From ".utf8)
        guard line.endIndex - index >= from.count else { return false }
        return Array(line[index..<index + from.count]) == from
    }
}
