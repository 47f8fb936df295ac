import DigestCore
import DigestStore
import Foundation

/// The archive as an Atom feed (RFC 4287): one entry per edition sent or published, newest first.
enum ArchiveFeed {
    /// `base` is the server's own address as the reader reached it (`https://host`), used when the
    /// publication has no `archive_url`, so every link in the feed is absolute.
    static func xml(publication: Publication, editions: [Store.ArchivedEdition], base: String) -> String {
        func link(_ date: String) -> String {
            EditionDate(date).flatMap { publication.archiveURL(for: $0) } ?? "\(base)/editions/\(date)"
        }
        let updated = editions.map(\.frozenAt).max() ?? Date(timeIntervalSince1970: 0)
        var out = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="\(escape(publication.language))">
              <title>\(escape(publication.name))</title>
              <id>tag:\(escape(publication.domain)),2017:digest</id>
              <updated>\(Timestamp.format(updated))</updated>
              <link rel="self" type="application/atom+xml" href="\(escape(base))/feed.xml"/>
              <link rel="alternate" type="text/html" href="\(escape(base))/"/>
              <author><name>\(escape(publication.sender.name.isEmpty ? publication.name : publication.sender.name))</name></author>

            """
        for edition in editions {
            let title = edition.subject.isEmpty ? edition.date : edition.subject
            out += """
                  <entry>
                    <title>\(escape(title))</title>
                    <id>tag:\(escape(publication.domain)),\(edition.date):edition</id>
                    <link rel="alternate" type="text/html" href="\(escape(link(edition.date)))"/>
                    <updated>\(Timestamp.format(edition.frozenAt))</updated>
                    <summary>\(escape(edition.preheader))</summary>
                  </entry>

                """
        }
        return out + "</feed>\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
