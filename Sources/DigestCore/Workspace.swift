import Foundation

/// A publication's folder: `publication.yaml`, `Templates/` and `Editions/`. The only part of the core
/// that touches the disk.
public struct Workspace: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public var configFile: URL { root.appendingPathComponent("publication.yaml") }
    public var editionsFolder: URL { root.appendingPathComponent("Editions") }

    public func editionFolder(_ date: EditionDate) -> URL {
        editionsFolder.appendingPathComponent(date.description)
    }

    public func editionFile(_ date: EditionDate) -> URL {
        editionFolder(date).appendingPathComponent("edition.yaml")
    }

    /// A path as the editor would type it: relative to the workspace when inside it.
    public func displayPath(_ url: URL) -> String {
        let base = root.standardizedFileURL.path
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }

    public func loadPublication() throws -> Publication {
        let text = try read(
            configFile, what: "the publication config",
            fix: "run digest from the workspace folder (the one with publication.yaml), or pass --workspace")
        return try Publication.decode(text, file: displayPath(configFile))
    }

    public func loadEdition(_ date: EditionDate) throws -> Edition {
        let file = editionFile(date)
        guard FileManager.default.fileExists(atPath: file.path) else {
            let latest = editionDates().last
            throw Problem(
                file: displayPath(file),
                message: "there is no edition for \(date).\(latest.map { " The latest edition is \($0)." } ?? "")",
                fix: latest.map { "give the date of an edition (such as \($0)), or run digest gather \(date)" }
                    ?? "run digest gather \(date) to make it from the feeds")
        }
        let edition = try EditionFile.decode(try read(file, what: "the edition", fix: nil), file: displayPath(file))
        if edition.date != date {
            throw Problem(
                file: displayPath(file),
                message: "the file says date: \(edition.date) but lies in the folder of \(date)",
                fix: "correct 'date' or move the file to Editions/\(edition.date)/")
        }
        return edition
    }

    /// The dates of the editions in `Editions/`, oldest first.
    public func editionDates() -> [EditionDate] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: editionsFolder.path)) ?? []
        return names.compactMap(EditionDate.init).filter {
            FileManager.default.fileExists(atPath: editionFile($0).path)
        }.sorted()
    }

    /// A path from publication.yaml: absolute, or relative to the workspace.
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }

    /// The folder the publication's templates are read from: the one `templates:` names, else `Templates/`.
    public func templatesFolder(for publication: Publication) -> URL {
        resolve(publication.templates ?? "Templates")
    }

    /// Whether the workspace renders with the templates built into digest: publication.yaml names no
    /// template folder and there is no `Templates/`.
    public func usesBuiltInTemplates(_ publication: Publication) -> Bool {
        publication.templates == nil && !isFolder(templatesFolder(for: publication))
    }

    /// Every `*.mustache` file under the template folder, named by its path without the extension
    /// (`partials/html/article`); the built-in templates when the workspace has none of its own.
    public func loadTemplates(for publication: Publication) throws -> TemplateSet {
        if usesBuiltInTemplates(publication) { return try TemplateSet.builtIn() }
        let folder = templatesFolder(for: publication)
        guard isFolder(folder) else {
            throw Problem(
                file: displayPath(folder), message: "the template folder does not exist",
                fix:
                    "set 'templates' in publication.yaml to the folder with digest.html.mustache and digest.txt.mustache, "
                    + "or remove the line to use the templates built into digest (digest templates eject copies them out)"
            )
        }
        var sources: [TemplateSet.Source] = []
        let base = folder.standardizedFileURL.path
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".mustache") else { continue }
            let url = URL(fileURLWithPath: base).appendingPathComponent(relative)
            let text = try read(url, what: "a template", fix: nil)
            sources.append(
                TemplateSet.Source(
                    name: String(relative.dropLast(".mustache".count)), path: displayPath(url), text: text))
        }
        return try TemplateSet(sources: sources.sorted { $0.name < $1.name })
    }

    private func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func read(_ url: URL, what: String, fix: String?) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw Problem(file: displayPath(url), message: "cannot read \(what)", fix: fix)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(file: displayPath(url), message: "\(what) is not UTF-8 text", fix: "save the file as UTF-8")
        }
        return text
    }
}
