/// The small Markdown an editor's note needs: paragraphs, bullet lists, headings, `**strong**`,
/// `*emphasis*`, `` `code` `` and `[links](https://…)`.
///
/// Anything else, raw HTML included, stays literal text: the note goes into every reader's inbox, so it
/// is escaped rather than trusted, and an unclosed `<tag>` cannot swallow the rest of the note.
public struct Markdown: Equatable, Sendable {
    public indirect enum Inline: Equatable, Sendable {
        case text(String)
        case strong([Inline])
        case emphasis([Inline])
        case code(String)
        case link(text: [Inline], url: String)
    }

    public enum Block: Equatable, Sendable {
        case paragraph([Inline])
        case bulletList([[Inline]])
        case heading(level: Int, [Inline])
    }

    public var blocks: [Block]

    public init(_ source: String) {
        var blocks: [Block] = []
        var paragraph: [String] = []
        var list: [String] = []
        func flush() {
            if !paragraph.isEmpty {
                blocks.append(.paragraph(Markdown.inlines(paragraph.joined(separator: " "))))
                paragraph = []
            }
            if !list.isEmpty {
                blocks.append(.bulletList(list.map(Markdown.inlines)))
                list = []
            }
        }
        for rawLine in source.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty {
                flush()
            } else if let item = Markdown.bulletText(line) {
                if !paragraph.isEmpty { flush() }
                list.append(item)
            } else if let (level, text) = Markdown.heading(line) {
                flush()
                blocks.append(.heading(level: level, Markdown.inlines(text)))
            } else if !list.isEmpty && rawLine.first?.isWhitespace == true {
                // An indented line continues the list item above it.
                list[list.count - 1] += " " + line
            } else {
                if !list.isEmpty { flush() }
                paragraph.append(line)
            }
        }
        flush()
        self.blocks = blocks
    }

    static func bulletText(_ line: String) -> String? {
        for marker in ["- ", "* ", "+ "] where line.hasPrefix(marker) {
            return String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static func heading(_ line: String) -> (Int, String)? {
        let hashes = line.prefix(while: { $0 == "#" }).count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return (hashes, String(line.dropFirst(hashes + 1)).trimmingCharacters(in: .whitespaces))
    }

    /// Parses the inline markup of one block of text.
    static func inlines(_ text: String) -> [Inline] {
        var parser = InlineParser(Array(text))
        return parser.parse(until: nil)
    }

    /// The text of inlines without markup.
    public static func plainText(_ inlines: [Inline]) -> String {
        inlines.map { inline in
            switch inline {
            case .text(let text), .code(let text): text
            case .strong(let inner), .emphasis(let inner), .link(let inner, _): plainText(inner)
            }
        }.joined()
    }
}

private struct InlineParser {
    let characters: [Character]
    var index = 0

    init(_ characters: [Character]) {
        self.characters = characters
    }

    mutating func parse(until closer: String?) -> [Markdown.Inline] {
        var result: [Markdown.Inline] = []
        var text = ""
        func flushText() {
            if !text.isEmpty {
                result.append(.text(text))
                text = ""
            }
        }
        while index < characters.count {
            if let closer, matches(closer) { break }
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, "\\`*_[]()#+-.!<>".contains(characters[index + 1]) {
                text.append(characters[index + 1])
                index += 2
            } else if character == "`", let end = find("`", from: index + 1) {
                flushText()
                result.append(.code(String(characters[index + 1..<end])))
                index = end + 1
            } else if matches("**"), let inner = delimited("**") {
                flushText()
                result.append(.strong(inner))
            } else if character == "*" || (character == "_" && atWordStart), let inner = delimited(String(character)) {
                flushText()
                result.append(.emphasis(inner))
            } else if character == "[", let link = link() {
                flushText()
                result.append(link)
            } else {
                text.append(character)
                index += 1
            }
        }
        flushText()
        return result
    }

    var atWordStart: Bool { index == 0 || !(characters[index - 1].isLetter || characters[index - 1].isNumber) }

    func matches(_ token: String) -> Bool {
        let token = Array(token)
        guard index + token.count <= characters.count else { return false }
        return Array(characters[index..<index + token.count]) == token
    }

    func find(_ token: String, from start: Int) -> Int? {
        let token = Array(token)
        var position = start
        while position + token.count <= characters.count {
            if Array(characters[position..<position + token.count]) == token { return position }
            position += 1
        }
        return nil
    }

    /// `**…**` or `*…*`: only when a closing delimiter follows and the span is not empty or space-padded.
    mutating func delimited(_ delimiter: String) -> [Markdown.Inline]? {
        let start = index + delimiter.count
        guard let end = find(delimiter, from: start), end > start, !characters[start].isWhitespace,
            !characters[end - 1].isWhitespace
        else { return nil }
        var inner = InlineParser(Array(characters[start..<end]))
        index = end + delimiter.count
        return inner.parse(until: nil)
    }

    /// `[text](url)` with an http(s) or mailto URL; anything else stays text.
    mutating func link() -> Markdown.Inline? {
        guard let close = find("]", from: index + 1), close + 1 < characters.count, characters[close + 1] == "(",
            let end = find(")", from: close + 2)
        else { return nil }
        let url = String(characters[close + 2..<end]).trimmingCharacters(in: .whitespaces)
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") || lower.hasPrefix("mailto:"),
            !url.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" })
        else { return nil }
        var inner = InlineParser(Array(characters[index + 1..<close]))
        index = end + 1
        return .link(text: inner.parse(until: nil), url: url)
    }
}
