/// Counting clicks per story: each story's links in a rendered edition point to `digest serve`'s `/l/…`
/// address instead of the story. Done on the rendered parts, so templates need to know nothing of it.
public enum ClickTracking {
    /// The stories' own addresses in the edition's order: story `n` (from 1) is `storyLinks[n - 1]`.
    public static func storyLinks(_ edition: Edition) -> [String] {
        edition.items.map(\.url)
    }

    /// `rendered` with each story's address replaced by `link(n, url)`: every `href` to it in the HTML part,
    /// and its line in the text part's list of numbered links (`[3] URL`) and its entry in `links`. Other links (the note's, the footer's, a
    /// podcast's audio file) are left as they are.
    public static func rewrite(
        _ rendered: RenderedEdition, storyLinks: [String], link: (Int, String) -> String
    ) -> RenderedEdition {
        var result = rendered
        var replacements: [String: String] = [:]
        for (index, url) in storyLinks.enumerated() where replacements[url] == nil {
            replacements[url] = link(index + 1, url)
        }
        result.links = rendered.links.map { replacements[$0] ?? $0 }
        for (url, tracked) in replacements {
            result.markedText = result.markedText.replacingOccurrences(of: "] \(url)\n", with: "] \(tracked)\n")
        }
        for (url, tracked) in replacements {
            // The templates write the address escaped as Mustache escapes it (as HTMLEscape.attribute does).
            result.html = result.html.replacingOccurrences(
                of: "href=\"\(HTMLEscape.attribute(url))\"", with: "href=\"\(HTMLEscape.attribute(tracked))\"")
        }
        return result
    }
}
