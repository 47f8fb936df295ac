import DigestCore
import DigestTestSupport
import Foundation
import Testing

@Suite("Templates")
struct TemplateTests {
    /// The sample workspace's templates, with `changes` applied (name → new text, nil to delete).
    func sources(changing changes: [String: String?]) throws -> [TemplateSet.Source] {
        let folder = Repository.root.appendingPathComponent("Templates")
        var sources: [String: TemplateSet.Source] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".mustache") else { continue }
            let name = String(relative.dropLast(".mustache".count))
            let text = try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)
            sources[name] = TemplateSet.Source(name: name, path: "Templates/\(relative)", text: text)
        }
        for (name, text) in changes {
            sources[name] = text.map { TemplateSet.Source(name: name, path: "Templates/\(name).mustache", text: $0) }
        }
        return Array(sources.values)
    }

    func problems(changing changes: [String: String?]) throws -> [Problem] {
        do {
            _ = try TemplateSet(sources: try sources(changing: changes))
            return []
        } catch let problems as Problems {
            return problems.all
        }
    }

    @Test func sampleTemplatesLoadCleanly() throws {
        #expect(try problems(changing: [:]).isEmpty)
    }

    @Test func unknownVariableIsAnErrorWithFileLineAndColumn() throws {
        let found = try problems(changing: ["partials/text/video": "{{%CONTENT_TYPE: TEXT}}\n{{title}}\n  {{sumary}}\n"]
        )
        #expect(found.count == 1)
        #expect(found[0].file == "Templates/partials/text/video.mustache")
        #expect(found[0].line == 3)
        #expect(found[0].column == 3)
        #expect(found[0].message.contains("'sumary'") && found[0].message.contains("did you mean 'summary'"))
    }

    @Test func missingPartialIsAnError() throws {
        let found = try problems(changing: ["partials/html/video": nil])
        // Once for each place that includes it: the lead and the sections.
        #expect(found.count == 2)
        let text = try String(
            contentsOf: Repository.root.appendingPathComponent("Templates/digest.html.mustache"), encoding: .utf8)
        for problem in found {
            #expect(problem.file == "Templates/digest.html.mustache")
            #expect(problem.message == "the partial 'partials/html/video' does not exist")
            // Its line and column point at the tag.
            let line = try #require(problem.line)
            let column = try #require(problem.column)
            let shown = text.split(separator: "\n", omittingEmptySubsequences: false)[line - 1]
            #expect(shown.dropFirst(column - 1).hasPrefix("{{> partials/html/video}}"))
        }
    }

    @Test func syntaxErrorNamesTheTemplate() throws {
        let found = try problems(changing: ["partials/text/article": "{{#title}}\nno end\n"])
        #expect(
            found.contains {
                $0.file == "Templates/partials/text/article.mustache"
                    && $0.message == "the section 'title' opened on line 1 is never closed" && $0.line == 1
                    && $0.column == 1 && $0.fix == "add {{/title}} where the section ends"
            })
    }

    /// The parser notices a missing `{{/sections}}` at the end of the file, one line past its last; the
    /// editor is told which section and where it opened.
    @Test func aMissingSectionEndNamesTheSectionAndTheLineItOpened() throws {
        let text = try String(
            contentsOf: Repository.root.appendingPathComponent("Templates/digest.txt.mustache"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let opened = try #require(lines.firstIndex { $0.contains("{{#sections}}") }) + 1
        let column = try #require(lines[opened - 1].range(of: "{{#sections}}")).lowerBound.utf16Offset(
            in: lines[opened - 1]) + 1
        let found = try problems(changing: ["digest.txt": text.replacingOccurrences(of: "{{/sections}}", with: "")])
        #expect(found.count == 1)
        #expect(found.first?.file == "Templates/digest.txt.mustache")
        #expect(found.first?.message == "the section 'sections' opened on line \(opened) is never closed")
        #expect(found.first?.line == opened && found.first?.column == column)
        #expect(found.first?.line ?? 0 <= lines.count)
    }

    @Test func anUnclosedTagIsOneErrorAtTheTag() throws {
        let text = "{{%CONTENT_TYPE: TEXT}}\n{{title}}\n{{subject}\n{{summary}}\n"
        let found = try problems(changing: ["partials/text/article": text])
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.message == "the tag '{{subject}' is not closed with }}")
        #expect(found.first?.line == 3 && found.first?.column == 1)
    }

    @Test func aSectionClosedWithAnotherNameSaysWhichIsOpen() throws {
        let text = "{{%CONTENT_TYPE: TEXT}}\n{{#title}}\n{{summary}}\n{{/summary}}\n"
        let found = try problems(changing: ["partials/text/article": text])
        #expect(found.count == 1, "\(found)")
        #expect(
            found.first?.message
                == "{{/summary}} closes 'summary', but the section open here is 'title' (opened on line 2)")
        #expect(found.first?.line == 4)
    }

    @Test func missingRequiredTemplateIsAnError() throws {
        let found = try problems(changing: ["digest.txt": nil])
        #expect(found.contains { $0.message == "the template 'digest.txt' is missing" })
    }
}
