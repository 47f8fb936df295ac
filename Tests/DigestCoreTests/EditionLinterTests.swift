import DigestCore
import DigestTestSupport
import Foundation
import Testing

@Suite("Linting an edition before it is sent")
struct EditionLinterTests {
    /// The findings for `edition`, with the HTML part's links and images as the templates make them.
    func findings(
        _ edition: Edition, html: HTMLFacts? = nil, links: [LinkCheck]? = nil, cutTitles: [String] = []
    ) throws -> [Finding] {
        let (publication, renderer, _) = try Repository.sample()
        let rendered = try renderer.render(edition)
        let images = edition.items.compactMap { item -> HTMLFacts.ImageTag? in
            switch item.content {
            case .article(let article): item.isLead ? article.image.map { .init(src: $0.url, alt: $0.alt) } : nil
            case .video(let video): video.thumbnail.map { .init(src: $0.url, alt: $0.alt) }
            case .podcast: nil
            }
        }
        let facts = html ?? HTMLFacts(links: rendered.links + [publication.unsubscribeURL], images: images)
        return EditionLinter.check(
            edition: edition, rendered: rendered, unsubscribeURL: publication.unsubscribeURL, html: facts,
            links: links, cutTitles: cutTitles)
    }

    @Test func anEditionWithNoItemsIsAnErrorNothingToSend() throws {
        var (_, _, edition) = try Repository.sample()
        edition.sections = []
        let found = try findings(edition)
        #expect(found.contains { $0.severity == .error && $0.message.hasPrefix("nothing to send") })
        // Sections without items are no better.
        edition.sections = [Section(title: "Syria", items: []), Section(title: "Listen", items: [])]
        #expect(try findings(edition).contains { $0.severity == .error && $0.message.hasPrefix("nothing to send") })
    }

    @Test func twoLeadsAreAnErrorNamingBoth() throws {
        var (_, _, edition) = try Repository.sample()
        edition.sections[2].items[0].isLead = true
        let found = try findings(edition).filter { $0.message.contains("marked as the lead") }
        #expect(found.count == 1)
        #expect(found.first?.severity == .error)
        let message = found.first?.message ?? ""
        #expect(message.contains("Syria, item 1 \"Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town\""))
        #expect(message.contains("Listen, item 1 \"Podcast: Lebanon is Caught Up in Saudi-Iran Confrontation\""))
    }

    @Test func aSubjectOrPreheaderNamingACutItemIsAWarning() throws {
        var (_, _, edition) = try Repository.sample()
        let raqqa = edition.sections[0].items.remove(at: 1)
        edition.preheader = "Al-Bukamal again · \(raqqa.title) · Brexit"
        let found = try findings(edition, cutTitles: [raqqa.title, "Something else entirely"])
        #expect(found.count == 1)
        #expect(found.first?.severity == .warning)
        #expect(found.first?.message == "the preheader names \"\(raqqa.title)\", an item you cut")
        edition.subject = "Today: " + raqqa.title.uppercased()
        #expect(try findings(edition, cutTitles: [raqqa.title]).map(\.message).first?.hasPrefix("the subject") == true)
        // A cut item that is back in the edition (gathered again, or added by hand) is not flagged.
        edition.sections[0].items.append(raqqa)
        #expect(try findings(edition, cutTitles: [raqqa.title]) == [])
    }

    @Test(arguments: ["sample", "kinds", "arabic", "forty"]) func editionsOfEveryShapeAreClean(name: String) throws {
        let (_, _, edition) = try Repository.edition(name)
        #expect(try findings(edition) == [])
    }

    @Test func anEmptySubjectIsAnErrorAndALongOneAWarning() throws {
        var (_, _, edition) = try Repository.sample()
        edition.subject = " "
        #expect(try findings(edition).map(\.severity) == [.error])
        #expect(try findings(edition).first?.message == "the subject is empty")
        edition.subject = String(repeating: "a", count: 78)
        #expect(try findings(edition) == [])
        edition.subject = String(repeating: "ب", count: 79)
        let long = try findings(edition)
        #expect(long.map(\.severity) == [.warning])
        #expect(long.first?.message.hasPrefix("the subject is 79 characters long") == true)
    }

    @Test func aMissingPreheaderIsAWarning() throws {
        var (_, _, edition) = try Repository.sample()
        edition.preheader = ""
        let found = try findings(edition)
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.subject == "edition")
        #expect(found.first?.fix.contains("preheader:") == true)
    }

    @Test func itemsWithoutSummaryOrURLAreNamedBySectionAndPosition() throws {
        var (_, _, edition) = try Repository.sample()
        edition.sections[0].items[1].summary = ""
        edition.sections[1].items[0].url = ""
        let found = try findings(edition)
        #expect(
            found.contains(
                Finding(
                    .warning, "Syria, item 2 \"Raqqa After the SDF: Who Rebuilds a City Nobody Controls?\"",
                    "the item has no summary", fix: "write a summary: of a sentence or two, or cut the item")))
        #expect(
            found.contains {
                $0.severity == .error && $0.message == "the item has no URL"
                    && $0.subject
                        == "Middle East, item 1 \"Iran Daily: Rouhani Courts Europe as Washington Hardens Its Line\""
            })
    }

    @Test(arguments: [
        "https://EAWORLDVIEW.com/2017/11/raqqa-after-sdf-who-rebuilds",
        "https://eaworldview.com/2017/11/raqqa-after-sdf-who-rebuilds/#top",
    ])
    func theSameLinkTwiceIsAWarning(variant: String) throws {
        var (_, _, edition) = try Repository.sample()
        edition.sections[1].items[0].url = variant
        let found = try findings(edition).filter { $0.message.hasPrefix("links to") }
        #expect(found.count == 1)
        #expect(found.first?.severity == .warning)
        #expect(
            found.first?.message.hasSuffix(
                "as Syria, item 2 \"Raqqa After the SDF: Who Rebuilds a City Nobody Controls?\" does") == true)
    }

    @Test func imagesWithoutAltTextAreErrors() throws {
        var (_, _, edition) = try Repository.sample()
        if case .video(var video) = edition.sections[3].items[0].content {
            video.thumbnail?.alt = ""
            edition.sections[3].items[0].content = .video(video)
        }
        var found = try findings(edition)
        #expect(found.count == 1)
        #expect(found.first?.severity == .error)
        #expect(found.first?.subject == "Watch, item 1 \"VideoCast: How Has Brexit Reshaped UK Politics?\"")
        (_, _, edition) = try Repository.sample()
        let (publication, renderer, _) = try Repository.sample()
        let rendered = try renderer.render(edition)
        found = EditionLinter.check(
            edition: edition, rendered: rendered, unsubscribeURL: publication.unsubscribeURL,
            html: HTMLFacts(
                links: rendered.links + [publication.unsubscribeURL],
                images: [.init(src: "https://example.org/logo.png", alt: nil)]), links: nil)
        #expect(found.map(\.subject) == ["template"])
        #expect(found.first?.message == "the HTML part has an image without alt text: https://example.org/logo.png")
    }

    @Test func partsThatDisagreeOnLinksAreErrors() throws {
        let (publication, renderer, edition) = try Repository.sample()
        let rendered = try renderer.render(edition)
        let htmlLinks = rendered.links.dropFirst(2) + [publication.unsubscribeURL, "https://example.org/only-in-html"]
        let found = try findings(edition, html: HTMLFacts(links: Array(htmlLinks), images: []))
        #expect(found.allSatisfy { $0.severity == .error })
        #expect(
            found.map(\.message) == [
                "the HTML part links to https://example.org/only-in-html, the text part does not",
                "the text part links to \(rendered.links[0]), the HTML part does not",
                "the text part links to \(rendered.links[1]), the HTML part does not",
            ])
        #expect(found[2].subject.hasPrefix("Syria, item 1"))
    }

    @Test func anHTMLPartOverTheClippingLimitIsAnErrorAndNearItAWarning() throws {
        var edition = try Repository.oversizedEdition()
        let over = try findings(edition).filter { $0.message.hasPrefix("the HTML part is") }
        #expect(over.map(\.severity) == [.error])
        #expect(over.first?.message.contains("over Gmail's 102.0 KB clipping limit") == true)
        edition.sections = Array(edition.sections.prefix(12))
        let near = try findings(edition).filter { $0.message.hasPrefix("the HTML part is") }
        #expect(near.map(\.severity) == [.warning], "\(near)")
    }

    @Test func linksThatDoNotAnswerAreErrorsAndDoubtfulOnesWarnings() throws {
        let (publication, _, edition) = try Repository.sample()
        let lead = edition.sections[0].items[0].url
        let found = try findings(
            edition,
            links: [
                LinkCheck(
                    url: lead, outcome: .broken("the server answered HTTP 404"), status: 404, neededGET: true,
                    seconds: 0.1),
                LinkCheck(
                    url: publication.unsubscribeURL, outcome: .doubtful("no answer within the time limit"), status: 0,
                    neededGET: false, seconds: 5),
                LinkCheck(
                    url: "https://eaworldview.com/2017/11/iran-daily-rouhani-courts-europe/", outcome: .answers,
                    status: 200, neededGET: false, seconds: 0.1),
            ])
        #expect(found.count == 2)
        #expect(found[0].severity == .error)
        #expect(found[0].subject.hasPrefix("Syria, item 1 \"Syria Daily"))
        #expect(found[0].message == "\(lead) does not answer: the server answered HTTP 404")
        #expect(found[1].severity == .warning)
        #expect(found[1].subject == "footer (the unsubscribe link)")
    }

    @Test func onlyWebLinksOfBothPartsAreChecked() throws {
        let (_, renderer, edition) = try Repository.sample()
        let rendered = try renderer.render(edition)
        let urls = EditionLinter.checkableLinks(
            rendered: rendered,
            html: HTMLFacts(
                links: ["mailto:editors@eaworldview.com", rendered.links[0], "https://example.org/x"], images: []))
        #expect(urls == rendered.links + ["https://example.org/x"])
    }
}
