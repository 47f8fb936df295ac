import Crypto
import DigestCore

/// One body part encoded once for every reader: lines without a reader placeholder are kept as
/// finished quoted-printable bytes; only the lines with one are filled in and encoded per reader.
/// Quoted-printable encodes line by line, so the result is byte-for-byte what encoding the whole
/// filled-in text would give.
struct PersonalizedPart: Sendable {
    enum Segment: Sendable {
        case text([UInt8])
        case token
        case name
    }

    enum Piece: Sendable {
        /// Encoded lines, each ending in CRLF.
        case fixed([UInt8])
        /// A line with placeholders, not yet encoded, without its line end, cut at its placeholders.
        case personal([Segment])
    }

    let pieces: [Piece]
    /// Each fixed piece relaxed-canonicalised for DKIM's body hash (empty for personal pieces).
    let canonical: [[UInt8]]

    init(_ text: String) {
        var pieces: [Piece] = []
        var fixed: [UInt8] = []
        let token = Array(ReaderPlaceholder.token.utf8)
        let name = Array(ReaderPlaceholder.name.utf8)
        var lines = Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for line in lines {
            let segments = Self.segments(Array(line), token: token, name: name)
            if segments.count == 1, case .text(let bytes) = segments[0] {
                QuotedPrintable.encodeLine(bytes[...], into: &fixed)
                fixed += [0x0D, 0x0A]
            } else if segments.isEmpty {
                fixed += [0x0D, 0x0A]
            } else {
                if !fixed.isEmpty { pieces.append(.fixed(fixed)) }
                fixed = []
                pieces.append(.personal(segments))
            }
        }
        if !fixed.isEmpty { pieces.append(.fixed(fixed)) }
        self.pieces = pieces
        canonical = pieces.map { piece in
            if case .fixed(let bytes) = piece { return DKIMCanonical.relaxedLines(bytes) }
            return []
        }
    }

    /// A line's bytes cut at the placeholders' (three-byte) UTF-8 sequences.
    static func segments(_ line: [UInt8], token: [UInt8], name: [UInt8]) -> [Segment] {
        var segments: [Segment] = []
        var start = 0
        var index = 0
        while index + 3 <= line.count {
            let slice = line[index..<index + 3]
            let placeholder: Segment? = slice.elementsEqual(token) ? .token : slice.elementsEqual(name) ? .name : nil
            if let placeholder {
                if index > start { segments.append(.text(Array(line[start..<index]))) }
                segments.append(placeholder)
                index += 3
                start = index
            } else {
                index += 1
            }
        }
        if start < line.count { segments.append(.text(Array(line[start...]))) }
        return segments
    }

    /// Appends the part for one reader: `token` and `name` replace the placeholders. With a hasher, the
    /// part's relaxed canonical form goes into it too.
    func write(token: String, name: String, into output: inout [UInt8], hashing hasher: inout SHA256?) {
        var line: [UInt8] = []
        for (index, piece) in pieces.enumerated() {
            switch piece {
            case .fixed(let bytes):
                output += bytes
                hasher?.update(data: canonical[index])
            case .personal(let segments):
                line.removeAll(keepingCapacity: true)
                for segment in segments {
                    switch segment {
                    case .text(let bytes): line += bytes
                    case .token: line += token.utf8
                    case .name: line += name.utf8
                    }
                }
                let start = output.count
                QuotedPrintable.encodeLine(line[...], into: &output)
                output += [0x0D, 0x0A]
                if hasher != nil { hasher?.update(data: DKIMCanonical.relaxedLines(Array(output[start...]))) }
            }
        }
    }
}
