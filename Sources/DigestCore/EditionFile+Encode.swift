import Foundation

extension EditionFile {
    /// The edition as YAML, in the same shape `decode` reads: what `gather` writes. Text values are
    /// double-quoted (nothing an editor or feed writes can change the file's structure); the note is a
    /// literal block so it stays easy to edit.
    public static func encode(_ edition: Edition) -> String {
        var out = "# The editor's source for the digest of \(edition.date.longText).\n"
        out +=
            "# Reorder sections and items freely; 'lead: true' marks the top story. digest gather keeps your edits.\n"
        for (key, value) in headFields(edition) { out += "\(key): \(value)\n" }
        out += "sections:\n"
        for section in edition.sections { out += encode(section) }
        out += "removed: \(list(edition.removedItemIDs))"
        out += "gathered: \(list(edition.gatheredItemIDs))"
        return out
    }

    /// The edition's fields before its sections, each as `key` and the text after `key: `, in the order
    /// `encode` writes them (a multi-line value's later lines are indented for a key at column 1).
    static func headFields(_ edition: Edition) -> [(String, String)] {
        var fields = [("date", edition.date.description)]
        if let issue = edition.issueNumber { fields.append(("issue", "\(issue)")) }
        fields.append(("subject", quote(edition.subject)))
        fields.append(("preheader", quote(edition.preheader)))
        if let mark = edition.preheaderFingerprint { fields.append(("preheader_fingerprint", quote(mark))) }
        fields.append(("note", block(edition.note, indent: "  ")))
        return fields
    }

    /// One section as a list entry under `sections:`, its dash two spaces in.
    static func encode(_ section: Section) -> String {
        var out = "  - title: \(quote(section.title))\n"
        if section.items.isEmpty { return out + "    items: []\n" }
        out += "    items:\n"
        for item in section.items { out += encode(item) }
        return out
    }

    /// One item as a list entry under `items:`, its dash six spaces in.
    static func encode(_ item: Item) -> String {
        let fields = itemFields(item)
        var out = ""
        for (index, (key, value)) in fields.enumerated() {
            out += (index == 0 ? "      - " : "        ") + "\(key): \(value)\n"
        }
        return out
    }

    /// The item's fields as `key` and the one-line text after `key: `, in the order `encode` writes them.
    static func itemFields(_ item: Item) -> [(String, String)] {
        var fields = [("kind", item.kind.rawValue)]
        if item.isLead { fields.append(("lead", "true")) }
        fields.append(("title", quote(item.title)))
        fields.append(("url", quote(item.url)))
        func image(_ image: Image) -> String { "{ url: \(quote(image.url)), alt: \(quote(image.alt)) }" }
        switch item.content {
        case .article(let article):
            if !article.author.isEmpty { fields.append(("author", quote(article.author))) }
            if !article.categories.isEmpty {
                fields.append(("categories", "[\(article.categories.map(quote).joined(separator: ", "))]"))
            }
            if let picture = article.image { fields.append(("image", image(picture))) }
        case .podcast(let episode):
            fields.append(("show", quote(episode.show)))
            if let number = episode.episodeNumber { fields.append(("episode", "\(number)")) }
            if let duration = episode.duration { fields.append(("duration", "\"\(duration)\"")) }
            if let audio = episode.audio {
                fields.append(
                    (
                        "audio",
                        "{ url: \(quote(audio.url)), type: \(quote(audio.type))"
                            + (audio.length.map { ", length: \($0) }" } ?? " }")
                    ))
            }
            if let picture = episode.image { fields.append(("image", image(picture))) }
        case .video(let video):
            if let duration = video.duration { fields.append(("duration", "\"\(duration)\"")) }
            if let thumbnail = video.thumbnail { fields.append(("thumbnail", image(thumbnail))) }
        }
        if let published = item.published { fields.append(("published", Timestamp.format(published))) }
        if !item.editorNote.isEmpty { fields.append(("note", quote(item.editorNote))) }
        fields.append(("summary", quote(item.summary)))
        if let source = item.source {
            fields.append(
                (
                    "source",
                    "{ feed: \(quote(source.feed)), guid: \(quote(source.guid))"
                        + (source.fingerprint.map { ", fingerprint: \(quote($0)) }" } ?? " }")
                ))
        }
        return fields
    }

    static func list(_ values: [String]) -> String {
        values.isEmpty ? "[]\n" : "\n" + values.map { "  - \(quote($0))\n" }.joined()
    }

    /// A YAML double-quoted scalar: every character that could end or bend the value escaped.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{85}": out += "\\N"
            case "\u{2028}": out += "\\L"
            case "\u{2029}": out += "\\P"
            default:
                if (0xE000...0xE00F).contains(scalar.value) {
                    continue  // digest's own placeholder marks never belong in a file
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Multi-line text as a literal block (`|`), when that keeps it exact; else quoted.
    static func block(_ text: String, indent: String) -> String {
        guard !text.isEmpty else { return "\"\"" }
        let safe =
            !text.hasPrefix(" ") && !text.contains("\r") && !text.contains("\t")
            && !text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }
        guard safe, text.contains("\n") else { return quote(text) }
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let chomp = text.hasSuffix("\n") ? "" : "-"
        return "|\(chomp)\n"
            + body.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : indent + $0 }.joined(separator: "\n")
    }
}
