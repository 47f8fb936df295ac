/// Invisible marks the text templates' values carry, so that one rendering of the text part serves both the
/// email (marks removed) and the terminal preview (marks turned into bold, dim and hyperlinks).
///
/// They are Unicode private-use characters, which `TextMarks.strip` removes from everything the editor or a
/// feed wrote, so no content can forge one.
public enum TextMarks {
    static let boldOn: Unicode.Scalar = "\u{E000}"
    static let boldOff: Unicode.Scalar = "\u{E001}"
    static let dimOn: Unicode.Scalar = "\u{E002}"
    static let dimOff: Unicode.Scalar = "\u{E003}"
    static let referenceOn: Unicode.Scalar = "\u{E004}"
    static let referenceOff: Unicode.Scalar = "\u{E005}"

    static func isMark(_ scalar: Unicode.Scalar) -> Bool { (0xE000...0xE00F).contains(scalar.value) }

    public static func bold(_ text: String) -> String { text.isEmpty ? "" : "\(boldOn)\(text)\(boldOff)" }
    public static func dim(_ text: String) -> String { text.isEmpty ? "" : "\(dimOn)\(text)\(dimOff)" }
    /// `[n]`, the n-th entry of the link list.
    public static func reference(_ number: Int) -> String { "\(referenceOn)\(number)\(referenceOff)" }

    /// `text` on one line and without marks: line breaks, tabs and other control characters become
    /// spaces. For titles, names and summaries, which templates place on lines of their own.
    public static func singleLine(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var lastWasSpace = true
        for scalar in text.unicodeScalars where !isMark(scalar) {
            let value = scalar.value
            if value < 0x20 || value == 0x7F || value == 0x85 || value == 0x2028 || value == 0x2029 || scalar == " " {
                if !lastWasSpace { output.append(" ") }
                lastWasSpace = true
            } else {
                output.append(scalar)
                lastWasSpace = false
            }
        }
        if output.last == " " { output.removeLast() }
        return String(output)
    }

    /// `text` without any private-use mark, for values that come from outside.
    public static func strip(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isMark) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { !isMark($0) }))
    }
}

/// Terminal column widths of text: wide East Asian characters and emoji take two columns, combining marks
/// and format characters none.
public enum DisplayWidth {
    public static func of(_ text: some StringProtocol) -> Int {
        var width = 0
        for scalar in text.unicodeScalars { width += of(scalar) }
        return width
    }

    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        // A reference mark pair shows as the brackets of "[3]".
        if scalar == TextMarks.referenceOn || scalar == TextMarks.referenceOff { return 1 }
        if TextMarks.isMark(scalar) || value == 0x200B || value == 0x200C || value == 0x200D || value == 0xFE0F
            || (0x200E...0x200F).contains(value) || (0x202A...0x202E).contains(value)
            || (0x2066...0x2069).contains(value)
        {
            return 0
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        if (0x1100...0x115F).contains(value) || (0x2E80...0xA4CF).contains(value) || (0xAC00...0xD7A3).contains(value)
            || (0xF900...0xFAFF).contains(value) || (0xFE30...0xFE4F).contains(value)
            || (0xFF00...0xFF60).contains(value)
            || (0xFFE0...0xFFE6).contains(value) || (0x1F300...0x1F64F).contains(value)
            || (0x1F900...0x1F9FF).contains(value) || (0x20000...0x3FFFD).contains(value)
        {
            return 2
        }
        return 1
    }
}

/// Wraps text to a width at spaces, never inside a word (so never inside a URL), keeping each line's
/// indentation and hanging list items under their first word.
public enum TextWrapper {
    public static func wrap(_ text: String, width: Int) -> String {
        let width = max(width, 20)
        var output: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            output.append(contentsOf: wrapLine(String(line), width: width))
        }
        return output.joined(separator: "\n")
    }

    static func wrapLine(_ line: String, width: Int) -> [String] {
        if DisplayWidth.of(line) <= width { return [line] }
        // A rule under a heading is cut to the width rather than wrapped.
        let visible = line.unicodeScalars.filter { !TextMarks.isMark($0) }
        if let first = visible.first, first == "=" || first == "-", visible.allSatisfy({ $0 == first }) {
            return [String(repeating: Character(first), count: width)]
        }
        let indent = String(line.prefix(while: { $0 == " " }))
        let hanging = indent + String(repeating: " ", count: bulletWidth(line.dropFirst(indent.count)))
        var lines: [String] = []
        var current = indent
        var currentWidth = DisplayWidth.of(indent)
        var hasWord = false
        let hangingWidth = DisplayWidth.of(hanging)
        for word in line.dropFirst(indent.count).split(separator: " ", omittingEmptySubsequences: true) {
            let wordWidth = DisplayWidth.of(word)
            // A word too long for any line (a URL) stays beside a lone list marker such as "[3]".
            let onlyMarker = hangingWidth > indent.count && currentWidth + 1 == hangingWidth
            if hasWord && currentWidth + 1 + wordWidth > width && !(onlyMarker && wordWidth > width - hangingWidth) {
                lines.append(current)
                current = hanging
                currentWidth = DisplayWidth.of(hanging)
                hasWord = false
            }
            if hasWord {
                current += " "
                currentWidth += 1
            }
            current += word
            currentWidth += wordWidth
            hasWord = true
        }
        lines.append(current)
        return lines
    }

    /// The width of a list marker (`- `, `* `, `1. `, `[3] `) that continuation lines hang under.
    static func bulletWidth(_ text: Substring) -> Int {
        let plain = String(String.UnicodeScalarView(text.unicodeScalars.filter { !TextMarks.isMark($0) }))
        for marker in ["- ", "* ", "• "] where plain.hasPrefix(marker) { return 2 }
        let digits = plain.prefix(while: \.isASCIIDigit)
        if !digits.isEmpty, plain.dropFirst(digits.count).hasPrefix(". ") { return digits.count + 2 }
        if plain.hasPrefix("["), let close = plain.firstIndex(of: "]"),
            plain[plain.index(after: plain.startIndex)..<close].allSatisfy(\.isASCIIDigit),
            plain[close...].hasPrefix("] ")
        {
            return plain.distance(from: plain.startIndex, to: close) + 2
        }
        return 0
    }
}

/// Turns marked text into what a reader or a terminal sees.
public struct TextPainter: Sendable {
    /// Bold, dim and colour through ANSI escapes.
    public var color: Bool
    /// `[n]` references as OSC 8 hyperlinks, for terminals that make them clickable.
    public var hyperlinks: Bool

    public init(color: Bool, hyperlinks: Bool) {
        self.color = color
        self.hyperlinks = hyperlinks
    }

    /// No escapes at all: the email's text part, or a preview into a pipe.
    public static let plain = TextPainter(color: false, hyperlinks: false)

    public func paint(_ text: String, links: [String]) -> String {
        var output = String.UnicodeScalarView()
        var reference: String?
        func append(_ text: String) { output.append(contentsOf: text.unicodeScalars) }
        for scalar in text.unicodeScalars {
            if reference != nil, scalar != TextMarks.referenceOff {
                reference?.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case TextMarks.boldOn: if color { append("\u{1B}[1m") }
            case TextMarks.boldOff: if color { append("\u{1B}[22m") }
            case TextMarks.dimOn: if color { append("\u{1B}[2m") }
            case TextMarks.dimOff: if color { append("\u{1B}[22m") }
            case TextMarks.referenceOn: reference = ""
            case TextMarks.referenceOff:
                let number = reference ?? ""
                reference = nil
                let label = "[\(number)]"
                let url = Int(number).flatMap { $0 >= 1 && $0 <= links.count ? links[$0 - 1] : nil }
                var shown = color ? "\u{1B}[36m\(label)\u{1B}[39m" : label
                if hyperlinks, let url {
                    shown = "\u{1B}]8;;\(url)\u{1B}\\\(shown)\u{1B}]8;;\u{1B}\\"
                }
                append(shown)
            default: output.append(scalar)
            }
        }
        return String(output)
    }
}
