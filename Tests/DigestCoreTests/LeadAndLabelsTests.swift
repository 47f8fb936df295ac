import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// The lead leads (any kind, first, larger); the fixed words follow the publication's language; the
/// footer, the video's text part and mailed links read as an editor expects.
@Suite("The lead, the labels and the small things an editor notices")
struct LeadAndLabelsTests {
    /// The sample with its lead moved: `lead: true` on `section`'s item `item` only.
    func sample(leadAt section: Int, _ item: Int) throws -> (EditionRenderer, Edition) {
        var (_, renderer, edition) = try Repository.sample()
        for s in edition.sections.indices {
            for i in edition.sections[s].items.indices { edition.sections[s].items[i].isLead = false }
        }
        edition.sections[section].items[item].isLead = true
        return (renderer, edition)
    }

    @Test(arguments: [(0, 1), (2, 0), (3, 0)]) func theLeadOfAnyKindComesFirstAboveTheSections(
        section: Int, item: Int
    ) throws {
        let (renderer, edition) = try sample(leadAt: section, item)
        let lead = edition.sections[section].items[item]
        let rendered = try renderer.render(edition)
        let text = rendered.text(width: 200)
        let heading = try #require(text.range(of: "TOP STORY\n=========\n\n"))
        let title = try #require(text.range(of: lead.title))
        let firstSection = try #require(text.range(of: "\nSyria\n=====\n"))
        #expect(heading.upperBound == title.lowerBound)
        #expect(title.upperBound < firstSection.lowerBound)
        // Once only: it is taken out of its section.
        #expect(text.components(separatedBy: lead.title).count == 2)
        // In the HTML part, first and larger.
        let html = rendered.html
        let htmlTitle = try #require(html.range(of: ">\(lead.title.replacingOccurrences(of: "&", with: "&amp;"))</a>"))
        #expect(html[..<htmlTitle.lowerBound].contains(">Top story</p>"))
        #expect(!html[..<htmlTitle.lowerBound].contains("<h2"), "the lead comes before every section heading")
        let heading3 = try #require(html[..<htmlTitle.lowerBound].range(of: "<h3", options: .backwards))
        #expect(html[heading3.lowerBound..<htmlTitle.lowerBound].contains("font-size:26px"))
        // The terminal preview is the text part styled: the lead is there first, in bold.
        let preview = rendered.text(width: 200, painter: TextPainter(color: true, hyperlinks: false))
        #expect(preview.contains("\u{1B}[1mTOP STORY"))
        let previewTitle = try #require(preview.range(of: lead.title))
        #expect(previewTitle.lowerBound < (preview.range(of: "Syria\n")?.lowerBound ?? preview.endIndex))
    }

    @Test func aSectionThatHeldOnlyTheLeadIsNotShownEmpty() throws {
        let (renderer, edition) = try sample(leadAt: 3, 0)
        let text = try renderer.render(edition).text()
        #expect(!text.contains("\nWatch\n=====\n"))
        #expect(!text.contains("Nothing in this section today."))
    }

    @Test func theFooterNamesTheDigestWithItsCadenceAndNeverAddsSAfterS() throws {
        let sample = try Repository.sample()
        var publication = sample.0
        let edition = sample.2
        let templates = try Repository.sampleWorkspace.loadTemplates(for: publication)
        func reason(_ publication: Publication) throws -> String {
            let text = try EditionRenderer(publication: publication, templates: templates).render(edition).text(
                width: 300)
            return text.split(separator: "\n").first { $0.hasPrefix("You receive") }.map(String.init) ?? ""
        }
        #expect(try reason(publication) == "You receive this because you subscribed to EA WorldView's daily digest.")
        publication.name = "Swift Weekly Notes"
        publication.cadence = "weekly"
        #expect(
            try reason(publication)
                == "You receive this because you subscribed to the weekly digest of Swift Weekly Notes.")
        publication.name = "EA WorldView"
        publication.cadence = nil
        #expect(try reason(publication) == "You receive this because you subscribed to EA WorldView's digest.")
    }

    @Test func aVideosTextPartDoesNotRepeatItsLink() throws {
        let (_, renderer, edition) = try Repository.sample()
        let text = try renderer.render(edition).text()
        #expect(!text.contains("Watch:"))
        let video = try #require(edition.items.first { $0.kind == .video })
        let rendered = try renderer.render(edition)
        let number = try #require(rendered.links.firstIndex(of: video.url)) + 1
        #expect(text.components(separatedBy: "[\(number)]").count == 3, "once after the title, once under Links")
    }

    @Test func trackingParametersAreNotMailedToReaders() throws {
        var (_, renderer, edition) = try Repository.sample()
        edition.sections[1].items[0].url =
            "https://eaworldview.com/2017/11/iran/?utm_source=rss&utm_medium=rss&p=7&fbclid=abc#comments"
        let rendered = try renderer.render(edition)
        #expect(!rendered.html.contains("utm_"))
        #expect(!rendered.html.contains("fbclid"))
        #expect(rendered.html.contains("href=\"https://eaworldview.com/2017/11/iran/?p=7#comments\""))
        #expect(rendered.links.contains("https://eaworldview.com/2017/11/iran/?p=7#comments"))
        #expect(!rendered.text().contains("utm_"))
        #expect(TrackingParameters.strip("https://a.example/x?utm_source=a") == "https://a.example/x")
        #expect(TrackingParameters.strip("https://a.example/x?a=1&b=2") == "https://a.example/x?a=1&b=2")
    }

    @Test func theLabelsFollowThePublicationsLanguageAndItsOverrides() throws {
        var (publication, _, edition) = try Repository.sample()
        let templates = try Repository.sampleWorkspace.loadTemplates(for: publication)
        func render(_ publication: Publication) throws -> RenderedEdition {
            try EditionRenderer(publication: publication, templates: templates).render(edition)
        }
        edition.sections[0].items[1].editorNote = "Worth reading."
        let words: [String: [String]] = [
            "ar": ["بقلم", "أبرز خبر", "ملاحظة المحرر", "استمع", "31 دقيقة", "إلغاء الاشتراك"],
            "fr": ["Par Scott Lucas", "À LA UNE", "Note de la rédaction", "Écouter", "N° 412"],
            "de": ["Von Scott Lucas", "TOPTHEMA", "Anmerkung der Redaktion", "Anhören", "Nr. 412"],
            "es": ["Por Scott Lucas", "LO MÁS DESTACADO", "Nota del editor", "Escuchar", "N.º 412"],
        ]
        for (language, expected) in words {
            publication.language = language
            let text = try render(publication).text(width: 300)
            for word in expected { #expect(text.contains(word), "\(language): \(word)") }
            #expect(!text.contains("Editor's note"), "\(language)")
        }
        publication.language = "en-GB"
        publication.labelOverrides = ["top_story": "Today's lead", "listen": "Hear it"]
        let rendered = try render(publication)
        #expect(rendered.text().contains("TODAY'S LEAD\n============\n"))
        #expect(rendered.html.contains(">Today&#39;s lead</p>") || rendered.html.contains(">Today's lead</p>"))
        #expect(rendered.text().contains("Hear it: ["))
    }

    @Test func labelsUnderPublicationYAMLAreCheckedByName() throws {
        let text = try String(
            contentsOf: Repository.root.appendingPathComponent("publication.yaml"), encoding: .utf8)
        let good = text + "labels:\n  top_story: Today's lead\n"
        #expect(try Publication.decode(good, file: "publication.yaml").labels["top_story"] == "Today's lead")
        let bad = text + "labels:\n  top_stroy: Today's lead\n"
        #expect(throws: Problems.self) { try Publication.decode(bad, file: "publication.yaml") }
        do {
            _ = try Publication.decode(bad, file: "publication.yaml")
        } catch let problems as Problems {
            #expect("\(problems)".contains("did you mean 'top_story'"))
        }
        let cadence = text.replacingOccurrences(of: "cadence: daily", with: "cadence: hourly")
        #expect(throws: Problems.self) { try Publication.decode(cadence, file: "publication.yaml") }
    }
}
