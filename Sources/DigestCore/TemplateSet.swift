import Mustache

/// The Mustache templates a publication renders with: `digest.html` and `digest.txt` plus their partials.
public struct TemplateSet: Sendable {
    /// The names every template set must have.
    public static let required = ["digest.html", "digest.txt"]

    /// One template's source, kept for error messages.
    public struct Source: Sendable {
        public var name: String
        public var path: String
        public var text: String

        public init(name: String, path: String, text: String) {
            self.name = name
            self.path = path
            self.text = text
        }
    }

    let library: MustacheLibrary
    public let sources: [String: Source]

    /// Parses and checks `sources`. Throws `Problems`: syntax errors, names the view model does not have,
    /// partials that do not exist, and missing required templates, each with file, line and column.
    public init(sources: [Source]) throws {
        var library = MustacheLibrary()
        var problems: [Problem] = []
        var byName: [String: Source] = [:]
        var failed: Set<String> = []
        for source in sources {
            byName[source.name] = source
            do {
                try library.register(source.text, named: source.name)
            } catch let error as MustacheTemplate.ParserError {
                // The parser notices an unclosed section at the end of the file, past the last line: say
                // which section, and where it opened, instead.
                failed.insert(source.name)
                problems.append(
                    TemplateChecker.structureProblem(source)
                        ?? Problem(
                            file: source.path, line: error.context.lineNumber, column: error.context.columnNumber,
                            message: "template syntax: \(TemplateSet.describe(error.error))"))
            } catch {
                failed.insert(source.name)
                problems.append(Problem(file: source.path, message: "template syntax: \(error)"))
            }
        }
        for name in TemplateSet.required where byName[name] == nil {
            problems.append(
                Problem(
                    file: "\(name).mustache", message: "the template '\(name)' is missing",
                    fix:
                        "every template folder needs digest.html.mustache and digest.txt.mustache; copy them from the sample workspace"
                ))
        }
        // A template that does not parse has one error, not a second one from reading its broken tags.
        for source in sources where !failed.contains(source.name) {
            problems += TemplateChecker.check(source, knownNames: EditionView.fieldNames, templates: Set(byName.keys))
        }
        if !problems.isEmpty { throw Problems(problems) }
        self.library = library
        self.sources = byName
    }

    /// The templates built into digest (`BuiltInTemplates`, a copy of the repository's `Templates/`).
    public static func builtIn() throws -> TemplateSet {
        try TemplateSet(
            sources: BuiltInTemplates.files.map { file in
                TemplateSet.Source(
                    name: String(file.path.dropLast(".mustache".count)), path: "(built-in) Templates/\(file.path)",
                    text: file.text)
            })
    }

    /// Renders `view` through the template `name`.
    func render(_ view: EditionView, template name: String) throws -> String {
        guard let output = library.render(view, withTemplate: name) else {
            throw Problem(file: "\(name).mustache", message: "the template '\(name)' is missing")
        }
        return output
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case MustacheTemplate.Error.sectionCloseNameIncorrect:
            "a section is closed with a different name than it was opened with"
        case MustacheTemplate.Error.unfinishedName: "a tag is not closed with }}"
        case MustacheTemplate.Error.expectedSectionEnd: "a section is opened but never closed"
        case MustacheTemplate.Error.invalidSetDelimiter: "the delimiter change is malformed"
        default: "\(error)"
        }
    }
}

/// Finds names a template uses that the view model does not have, and partials that do not exist.
/// Mustache renders an unknown name as nothing; for an editor that is a silent hole in the email.
enum TemplateChecker {
    static func check(_ source: TemplateSet.Source, knownNames: Set<String>, templates: Set<String>) -> [Problem] {
        var problems: [Problem] = []
        let text = Array(source.text.unicodeScalars)
        var index = 0
        var line = 1
        var lineStart = 0
        func at(_ offset: Int, _ literal: String) -> Bool {
            let scalars = Array(literal.unicodeScalars)
            guard offset + scalars.count <= text.count else { return false }
            return Array(text[offset..<offset + scalars.count]) == scalars
        }
        while index < text.count {
            if text[index] == "\n" {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            guard at(index, "{{") else {
                index += 1
                continue
            }
            let column = index - lineStart + 1
            let triple = at(index, "{{{")
            let open = index + (triple ? 3 : 2)
            let closer = triple ? "}}}" : "}}"
            var end = open
            while end < text.count && !at(end, closer) { end += 1 }
            guard end < text.count else { break }  // The parser reports the unclosed tag.
            var tag = String(String.UnicodeScalarView(text[open..<end])).trimmingCharacters(in: .whitespaces)
            for position in index..<end where text[position] == "\n" {
                line += 1
                lineStart = position + 1
            }
            index = end + closer.unicodeScalars.count
            var sigil: Character = " "
            if !triple, let first = tag.first, "#^/!>&%=<$".contains(first) {
                sigil = first
                tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            switch sigil {
            case "=":
                return problems  // Custom delimiters: this simple scanner stops checking.
            case "!", "%", "/", "$", "<":
                continue
            case ">":
                if !templates.contains(tag) {
                    problems.append(
                        Problem(
                            file: source.path, line: line, column: column,
                            message: "the partial '\(tag)' does not exist",
                            fix: "create \(tag).mustache in the template folder, or correct the name"))
                }
            default:
                let name = bareName(tag)
                if name != ".", !knownNames.contains(name) {
                    let suggestion =
                        YAMLReader.closest(to: name, in: Array(knownNames)).map { " (did you mean '\($0)'?)" } ?? ""
                    problems.append(
                        Problem(
                            file: source.path, line: line, column: column,
                            message: "the template uses '\(name)', which digest does not provide\(suggestion)",
                            fix: "the README lists every variable a template can use"))
                }
            }
        }
        return problems
    }

    /// The first tag that breaks the template's structure, said for the editor: a tag not closed with
    /// `}}`, a section closed that is not open (or closed with another name), a section never closed.
    static func structureProblem(_ source: TemplateSet.Source) -> Problem? {
        let text = Array(source.text.unicodeScalars)
        var index = 0
        var line = 1
        var lineStart = 0
        var open: [(name: String, line: Int, column: Int)] = []
        func at(_ offset: Int, _ literal: String) -> Bool {
            let scalars = Array(literal.unicodeScalars)
            guard offset + scalars.count <= text.count else { return false }
            return Array(text[offset..<offset + scalars.count]) == scalars
        }
        func problem(_ line: Int, _ column: Int, _ message: String, fix: String) -> Problem {
            Problem(file: source.path, line: line, column: column, message: message, fix: fix)
        }
        while index < text.count {
            if text[index] == "\n" {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            guard at(index, "{{") else {
                index += 1
                continue
            }
            let column = index - lineStart + 1
            let triple = at(index, "{{{")
            let start = index + (triple ? 3 : 2)
            let closer = triple ? "}}}" : "}}"
            var end = start
            if !triple, start < text.count, text[start] == "!" {
                // A comment may run over lines.
                while end < text.count && !at(end, closer) {
                    if text[end] == "\n" {
                        line += 1
                        lineStart = end + 1
                    }
                    end += 1
                }
            } else {
                while end < text.count && !at(end, closer) && !at(end, "{{") && text[end] != "\n" { end += 1 }
            }
            let raw = String(String.UnicodeScalarView(text[start..<end])).trimmingCharacters(in: .whitespaces)
            guard end < text.count, at(end, closer) else {
                let shown = raw.prefix(40)
                return problem(
                    line, column, "the tag '{{\(triple ? "{" : "")\(shown)' is not closed with \(closer)",
                    fix: "end it with \(closer) on the same line: {{\(triple ? "{" : "")\(shown)\(closer)")
            }
            index = end + closer.unicodeScalars.count
            guard !triple, let sigil = raw.first, "#^/=".contains(sigil) else { continue }
            let name = String(raw.dropFirst()).trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "=":
                return nil  // Custom delimiters: leave it to the parser's message.
            case "#", "^":
                open.append((name, line, column))
            default:
                guard let innermost = open.last else {
                    return problem(
                        line, column, "{{/\(name)}} closes the section '\(name)', which is not open",
                        fix: "open it with {{#\(name)}} before, or delete this tag")
                }
                guard innermost.name == name else {
                    return problem(
                        line, column,
                        "{{/\(name)}} closes '\(name)', but the section open here is '\(innermost.name)' (opened on line \(innermost.line))",
                        fix: "close '\(innermost.name)' first with {{/\(innermost.name)}}, or correct the name")
                }
                open.removeLast()
            }
        }
        guard let unclosed = open.last else { return nil }
        return problem(
            unclosed.line, unclosed.column,
            "the section '\(unclosed.name)' opened on line \(unclosed.line) is never closed",
            fix: "add {{/\(unclosed.name)}} where the section ends")
    }

    /// `uppercased(title)` → `title`; `footer.archiveURL` → `footer`.
    static func bareName(_ tag: String) -> String {
        var name = Substring(tag)
        while let open = name.firstIndex(of: "("), let close = name.lastIndex(of: ")"), open < close {
            name = name[name.index(after: open)..<close]
        }
        if name == "." { return "." }
        return String(name.split(separator: ".").first ?? name)
    }
}

extension EditionView {
    /// Every property name in the view model tree, found by reflecting a view with every field present.
    static let fieldNames: Set<String> = {
        var names: Set<String> = []
        func collect(_ value: Any) {
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional || mirror.displayStyle == .collection {
                for child in mirror.children { collect(child.value) }
                return
            }
            for child in mirror.children {
                if let label = child.label { names.insert(label) }
                collect(child.value)
            }
        }
        collect(
            EditionView.build(
                edition: .schemaSample, publication: .schemaSample, target: .text,
                unsubscribeURL: "https://example.com/u"))
        return names
    }()
}

extension Edition {
    /// An edition with one item of every kind and every optional field set.
    static var schemaSample: Edition {
        let image = Image(url: "https://example.com/i.jpg", alt: "alt")
        let date = EditionDate(year: 2017, month: 11, day: 18) ?? EditionDate(containing: .init(), in: .current)
        return Edition(
            date: date, issueNumber: 1, subject: "s", preheader: "p", note: "[n](https://example.com)",
            sections: [
                Section(
                    title: "t",
                    items: [
                        Item(
                            title: "a", url: "https://example.com/a", summary: "s", published: .init(), editorNote: "n",
                            isLead: true, content: .article(Article(author: "a", categories: ["c"], image: image))),
                        Item(
                            title: "p", url: "https://example.com/p",
                            content: .podcast(
                                PodcastEpisode(
                                    show: "s", audio: Enclosure(url: "https://example.com/a.mp3", type: "audio/mpeg"),
                                    duration: MediaDuration(seconds: 60), episodeNumber: 1, image: image))),
                        Item(
                            title: "v", url: "https://example.com/v",
                            content: .video(Video(duration: MediaDuration(seconds: 60), thumbnail: image))),
                    ])
            ])
    }
}

extension Publication {
    static var schemaSample: Publication {
        Publication(
            name: "n", domain: "example.com", sender: Mailbox(address: EmailAddress(known: "digest", "example.com")),
            timeZone: .gmt,
            smtp: SMTPSettings(url: "smtp://localhost"), postalAddress: "a\nb", unsubscribeURL: "https://example.com/u",
            archiveURL: "https://example.com/{date}")
    }
}
