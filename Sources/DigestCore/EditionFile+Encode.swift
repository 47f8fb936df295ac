import Foundation

extension EditionFile {
    /// The edition as YAML, in the same shape `decode` reads: what `gather` writes. Text values are
    /// double-quoted (nothing an editor or feed writes can change the file's structure); the note is a
    /// literal block so it stays easy to edit.
    public static func encode(_ edition: Edition) -> String {
        var out = "# The editor's source for the digest of \(edition.date.longText).\n"
        out +=
            "# Reorder sections and items freely; 'lead: true' marks the top story. digest gather keeps your edits.\n"
        out += "date: \(edition.date)\n"
        if let issue = edition.issueNumber { out += "issue: \(issue)\n" }
        out += "subject: \(quote(edition.subject))\n"
        out += "preheader: \(quote(edition.preheader))\n"
        out += "note: \(block(edition.note, indent: "  "))\n"
        out += "sections:\n"
        for section in edition.sections {
            out += "  - title: \(quote(section.title))\n"
            if section.items.isEmpty {
                out += "    items: []\n"
                continue
            }
            out += "    items:\n"
            for item in section.items { out += encode(item) }
        }
        out += "removed: \(list(edition.removedItemIDs))"
        out += "gathered: \(list(edition.gatheredItemIDs))"
        return out
    }

    static func encode(_ item: Item) -> String {
        let pad = "        "
        var out = "      - kind: \(item.kind.rawValue)\n"
        if item.isLead { out += "\(pad)lead: true\n" }
        out += "\(pad)title: \(quote(item.title))\n"
        out += "\(pad)url: \(quote(item.url))\n"
        switch item.content {
        case .article(let article):
            if !article.author.isEmpty { out += "\(pad)author: \(quote(article.author))\n" }
            if !article.categories.isEmpty {
                out += "\(pad)categories: [\(article.categories.map(quote).joined(separator: ", "))]\n"
            }
            if let image = article.image {
                out += "\(pad)image: { url: \(quote(image.url)), alt: \(quote(image.alt)) }\n"
            }
        case .podcast(let episode):
            out += "\(pad)show: \(quote(episode.show))\n"
            if let number = episode.episodeNumber { out += "\(pad)episode: \(number)\n" }
            if let duration = episode.duration { out += "\(pad)duration: \"\(duration)\"\n" }
            if let audio = episode.audio {
                out += "\(pad)audio: { url: \(quote(audio.url)), type: \(quote(audio.type))"
                out += audio.length.map { ", length: \($0) }\n" } ?? " }\n"
            }
            if let image = episode.image {
                out += "\(pad)image: { url: \(quote(image.url)), alt: \(quote(image.alt)) }\n"
            }
        case .video(let video):
            if let duration = video.duration { out += "\(pad)duration: \"\(duration)\"\n" }
            if let thumbnail = video.thumbnail {
                out += "\(pad)thumbnail: { url: \(quote(thumbnail.url)), alt: \(quote(thumbnail.alt)) }\n"
            }
        }
        if let published = item.published { out += "\(pad)published: \(Timestamp.format(published))\n" }
        if !item.editorNote.isEmpty { out += "\(pad)note: \(quote(item.editorNote))\n" }
        out += "\(pad)summary: \(quote(item.summary))\n"
        if let source = item.source {
            out += "\(pad)source: { feed: \(quote(source.feed)), guid: \(quote(source.guid))"
            out += source.fingerprint.map { ", fingerprint: \(quote($0)) }\n" } ?? " }\n"
        }
        return out
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
