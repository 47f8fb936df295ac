import DigestCore
import Foundation

/// A workspace with its publication, templates and one edition loaded and rendered: what preview,
/// render and send all start from.
struct LoadedEdition {
    let workspace: Workspace
    let publication: Publication
    let edition: Edition
    let renderer: EditionRenderer
    let rendered: RenderedEdition

    init(workspace path: String?, date: String?, environment: LiveEnvironment) throws {
        let workspace = try environment.workspace(path)
        let publication = try workspace.loadPublication()
        let templates = try workspace.loadTemplates(for: publication)
        let date = try environment.editionDate(date, publication: publication)
        let edition = try workspace.loadEdition(date)
        self.workspace = workspace
        self.publication = publication
        self.edition = edition
        self.renderer = EditionRenderer(publication: publication, templates: templates)
        self.rendered = try renderer.render(edition)
    }
}

extension LoadedEdition {
    /// Warns on standard error when Gmail would clip the HTML part (its end, unsubscribe link included,
    /// hidden behind "[Message clipped]").
    func warnIfClipped() {
        if let warning = GmailClipping.warning(html: rendered.html) {
            Console.error("warning: \(workspace.displayPath(workspace.editionFile(edition.date))): \(warning)")
        }
    }
}
