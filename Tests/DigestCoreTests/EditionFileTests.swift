import DigestCore
import DigestTestSupport
import Foundation
import Testing

@Suite("Edition files")
struct EditionFileTests {
    @Test func sampleEditionLoadsWithEverySectionKind() throws {
        let (_, _, edition) = try Repository.sample()
        #expect(edition.date.description == "2017-11-18")
        #expect(edition.issueNumber == 412)
        #expect(edition.sections.map(\.title) == ["Syria", "Middle East", "Listen", "Watch"])
        #expect(Set(edition.items.map(\.kind)) == Set(Item.Kind.allCases))
        let lead = try #require(edition.items.first)
        #expect(lead.isLead)
        #expect(lead.title == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
        guard case .podcast(let episode) = edition.sections[2].items[0].content else {
            Issue.record("the Listen section should hold a podcast episode")
            return
        }
        #expect(episode.duration == MediaDuration(seconds: 31 * 60 + 12))
        #expect(episode.episodeNumber == 58)
        #expect(episode.audio?.length == 29_958_144)
    }

    static let valid = """
        date: 2017-11-18
        subject: Test
        sections:
          - title: Today
            items:
              - kind: article
                title: One
                url: https://example.com/one
        """

    func problems(_ text: String) -> [Problem] {
        do {
            _ = try EditionFile.decode(text, file: "Editions/2017-11-18/edition.yaml")
            return []
        } catch let problems as Problems {
            return problems.all
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test func validMinimalEditionDecodes() throws {
        let edition = try EditionFile.decode(Self.valid, file: "edition.yaml")
        #expect(edition.items.count == 1)
        #expect(edition.items[0].kind == .article)
    }

    @Test func misspeltKindNamesFileLineColumnAndSuggestsTheRightWord() {
        let found = problems(Self.valid.replacingOccurrences(of: "kind: article", with: "kind: artcle"))
        #expect(found.count == 1)
        let problem = found[0]
        #expect(problem.file == "Editions/2017-11-18/edition.yaml")
        #expect(problem.line == 6)
        #expect(problem.column == 15)
        #expect(problem.message.contains("'artcle'"))
        #expect(problem.message.contains("did you mean 'article'"))
        #expect(problem.description.hasPrefix("Editions/2017-11-18/edition.yaml:6:15: error:"))
    }

    @Test func unknownFieldIsAnErrorNotSilentlyIgnored() {
        let found = problems(Self.valid.replacingOccurrences(of: "subject: Test", with: "subjet: Test"))
        #expect(
            found.contains {
                $0.message.contains("unknown field 'subjet'") && $0.message.contains("'subject'") && $0.line == 2
            })
        #expect(found.contains { $0.message.contains("missing 'subject'") })
    }

    @Test func everyProblemInTheFileIsReportedInOnePass() {
        let text = Self.valid
            .replacingOccurrences(of: "url: https://example.com/one", with: "url: example.com/one")
            .replacingOccurrences(of: "date: 2017-11-18", with: "date: 2017-02-30")
        let found = problems(text)
        #expect(found.count == 2)
        #expect(found.contains { $0.line == 1 && $0.message.contains("YYYY-MM-DD") })
        #expect(found.contains { $0.line == 8 && $0.message.contains("http://") })
    }

    @Test func yamlSyntaxErrorHasLineAndColumn() {
        let found = problems("date: 2017-11-18\nsubject: [unclosed\nsections: []\n")
        #expect(found.count == 1)
        #expect(found[0].message.hasPrefix("YAML syntax"))
        #expect(found[0].line != nil && found[0].column != nil)
    }

    @Test(arguments: [
        ("duration: \"61:99\"", "'duration'"),
        ("published: yesterday", "not a date and time"),
        ("lead: maybe", "true or false"),
    ])
    func badFieldValuesAreNamed(line: String, expected: String) {
        let text = Self.valid + "\n        " + line
        let found = problems(
            text.replacingOccurrences(
                of: "kind: article", with: line.hasPrefix("duration") ? "kind: video" : "kind: article"))
        #expect(found.count == 1)
        #expect(found.first?.message.contains(expected) == true, "\(found)")
        #expect(found.first?.line == 9)
    }

    @Test func podcastWithoutShowIsAnError() {
        let found = problems(Self.valid.replacingOccurrences(of: "kind: article", with: "kind: podcast"))
        #expect(found.contains { $0.message.contains("missing 'show'") })
    }

    @Test func emptyFileIsAnError() {
        #expect(problems("").first?.message == "the file is empty")
    }
}

@Suite("Values")
struct ValueTests {
    @Test(arguments: [("1872", 1872), ("31:12", 1872), ("0:31:12", 1872), ("1:02:03", 3723)])
    func durationsReadEveryItunesForm(text: String, seconds: Int) {
        #expect(MediaDuration(text)?.seconds == seconds)
    }

    @Test(arguments: ["", "1:2:3:4", "12:75", "abc", "-5"])
    func badDurationsAreRejected(text: String) {
        #expect(MediaDuration(text) == nil)
    }

    @Test func durationsPrintForReaders() {
        #expect(MediaDuration(seconds: 1872).spoken == "31 min")
        #expect(MediaDuration(seconds: 3723).spoken == "1 h 2 min")
        #expect(MediaDuration(seconds: 3723).description == "1:02:03")
    }

    @Test func timestampsParseWithZonesAndFractions() throws {
        let utc = try #require(Timestamp.parse("2017-11-18T09:30:00Z"))
        #expect(Timestamp.parse("2017-11-18T10:30:00+01:00") == utc)
        #expect(Timestamp.parse("2017-11-18 04:30:00 -05:00") == utc)
        #expect(Timestamp.parse("2017-11-18T09:30:00.250Z") == utc.addingTimeInterval(0.25))
        #expect(Timestamp.format(utc) == "2017-11-18T09:30:00Z")
        #expect(Timestamp.parse("2017-11-18T09:30:00") == nil)
        #expect(Timestamp.parse("2017-13-18T09:30:00Z") == nil)
    }

    @Test func editionDatesKnowTheirWeekdayAndDayBoundaryInTheZone() throws {
        let date = try #require(EditionDate("2017-11-18"))
        #expect(date.longText == "Saturday 18 November 2017")
        #expect(EditionDate("2024-02-29")?.longText == "Thursday 29 February 2024")
        #expect(EditionDate("2023-02-29") == nil)
        // 23:30 UTC on the 17th is already the 18th in Beirut (UTC+2).
        let instant = try #require(Timestamp.parse("2017-11-17T23:30:00Z"))
        let beirut = try #require(TimeZone(identifier: "Asia/Beirut"))
        #expect(EditionDate(containing: instant, in: beirut).description == "2017-11-18")
        #expect(EditionDate(containing: instant, in: .gmt).description == "2017-11-17")
    }

    @Test(arguments: ["a@example.com", "first.last+tag@sub.example.org", "x@localhost"])
    func validAddressesAreAccepted(text: String) {
        #expect(EmailAddress(text) != nil)
    }

    @Test(arguments: [
        "", "no-at-sign", "a@b", "a b@example.com", "a@example.com\r\nRCPT TO:<evil@x.com>", "<a@example.com>",
        "a..b@example.com", "a@-example.com", "ä@example.com", "a@example.com\n",
    ])
    func addressesThatCouldInjectOrBounceAreRefused(text: String) {
        #expect(EmailAddress(text) == nil)
    }

    @Test func addressDomainIsComparedWithoutCase() {
        #expect(EmailAddress("Reader@Example.COM") == EmailAddress("Reader@example.com"))
        #expect(EmailAddress("reader@example.com") != EmailAddress("Reader@example.com"))
    }
}
