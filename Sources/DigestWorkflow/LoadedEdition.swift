import DigestCore
import Foundation

/// A workspace with its publication, templates and one edition loaded and rendered: what preview,
/// render and send all start from.
public struct LoadedEdition: Sendable {
    public let workspace: Workspace
    public let publication: Publication
    public let edition: Edition
    public let renderer: EditionRenderer
    public let rendered: RenderedEdition

    public init(workspace path: String?, date: String?, environment: DigestEnvironment) throws {
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
    /// The edition file as the editor would type its path.
    public var displayPath: String { workspace.displayPath(workspace.editionFile(edition.date)) }

    /// A warning when Gmail would clip the HTML part (its end, unsubscribe link included, hidden behind
    /// "[Message clipped]"); nil when it fits.
    public var clippingWarning: String? {
        GmailClipping.warning(html: rendered.html).map { "warning: \(displayPath): \($0)" }
    }
}
