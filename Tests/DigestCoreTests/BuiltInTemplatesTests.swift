import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// The templates built into the binary are a generated copy of Templates/ (scripts/embed-templates).
@Suite("Built-in templates")
struct BuiltInTemplatesTests {
    @Test func theBuiltInTemplatesAreExactlyTheRepositorysTemplates() throws {
        let folder = Repository.root.appendingPathComponent("Templates")
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".mustache") else { continue }
            files[relative] = try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)
        }
        let builtIn = Dictionary(BuiltInTemplates.files.map { ($0.path, $0.text) }) { first, _ in first }
        let fix = "Sources/DigestCore/BuiltInTemplates.swift differs from Templates/: run scripts/embed-templates"
        #expect(Set(builtIn.keys) == Set(files.keys), "\(fix)")
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            #expect(builtIn[path] == text, "\(path): \(fix)")
        }
        #expect(BuiltInTemplates.files.count == builtIn.count, "a template is listed twice")
    }

    @Test func theBuiltInTemplatesLoadCleanly() throws {
        let templates = try TemplateSet.builtIn()
        #expect(Set(TemplateSet.required).isSubset(of: Set(templates.sources.keys)))
    }
}
