import DigestCore

/// One body part encoded once for every reader: lines without a reader placeholder are kept as
/// finished quoted-printable bytes; only the lines with one are filled in and encoded per reader.
/// Quoted-printable encodes line by line, so the result is byte-for-byte what encoding the whole
/// filled-in text would give.
struct PersonalizedPart: Sendable {
    enum Piece: Sendable {
        /// Encoded lines, each ending in CRLF.
        case fixed([UInt8])
        /// A line with placeholders, not yet encoded, without its line end.
        case personal(String)
    }

    let pieces: [Piece]

    init(_ text: String) {
        var pieces: [Piece] = []
        var fixed: [UInt8] = []
        let placeholders = Set((ReaderPlaceholder.token + ReaderPlaceholder.name).unicodeScalars)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines {
            if line.unicodeScalars.contains(where: placeholders.contains) {
                if !fixed.isEmpty { pieces.append(.fixed(fixed)) }
                fixed = []
                pieces.append(.personal(String(line)))
            } else {
                QuotedPrintable.encodeLine(Array(line.utf8)[...], into: &fixed)
                fixed += [0x0D, 0x0A]
            }
        }
        if !fixed.isEmpty { pieces.append(.fixed(fixed)) }
        self.pieces = pieces
    }

    /// Appends the part for one reader: `token` and `name` replace the placeholders.
    func write(token: String, name: String, into output: inout [UInt8]) {
        for piece in pieces {
            switch piece {
            case .fixed(let bytes):
                output += bytes
            case .personal(let line):
                let filled = line.replacingOccurrences(of: ReaderPlaceholder.token, with: token)
                    .replacingOccurrences(of: ReaderPlaceholder.name, with: name)
                QuotedPrintable.encodeLine(Array(filled.utf8)[...], into: &output)
                output += [0x0D, 0x0A]
            }
        }
    }
}
