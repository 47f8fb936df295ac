import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// `EditionFile.edit`: gather and add change the editor's file in place, not a new rendering of it.
@Suite("Editing the edition file in place")
struct EditionFileEditTests {
    /// A file as an editor leaves it: comments, a plain section title, a block list, a folded summary,
    /// blank lines, sections in their own order and a key order of their own.
    static let handWritten = """
        # The editor's source for the digest of Saturday 18 November 2017.
        date: 2017-11-18
        subject: Syria Daily
        # TODO: ask for a quote before sending
        preheader: Al-Bukamal again, and Brexit.
        note: |
          Good morning.

          Second paragraph.
        sections:

          # Watch goes first today.
          - title: Watch
            items:
              - kind: video
                title: 'VideoCast: Brexit'
                url: https://example.org/video/
                summary: >-
                  A conversation on how the referendum scrambled
                  party loyalties.
                source: {feed: "https://example.org/video.xml", guid: v1, fingerprint: "x"}

          - title: Syria
            items:
              - kind: article
                lead: true
                url: https://example.org/syria/
                title: Syria
                categories:
                  - Syria
                  - Russia
                summary: >-
                  Pro-Assad forces are back at al-Bukamal,
                  after an ambush.
                source:
                  feed: https://example.org/feed/
                  guid: s1
                  fingerprint: FINGERPRINT
              # The Raqqa piece can wait until tomorrow.
        removed:
          - old-1
        gathered:
          - v1
          - s1
          - old-1

        """

    static func item(_ title: String, guid: String, feed: String = "https://example.org/feed/") -> Item {
        Item(
            title: title, url: "https://example.org/\(guid)/", summary: "About \(title).",
            source: ItemSource(feed: feed, guid: guid, fingerprint: "f-\(guid)"), content: .article(Article()))
    }

    /// The hand-written file with `FINGERPRINT` set to what gather would have written, so the Syria item
    /// counts as untouched.
    static func file() throws -> (String, Edition) {
        let probe = try EditionFile.decode(handWritten, file: "edition.yaml")
        let syria = probe.sections[1].items[0]
        let print = Self.fingerprint(title: syria.title, summary: syria.summary)
        let text = handWritten.replacingOccurrences(of: "FINGERPRINT", with: print)
        return (text, try EditionFile.decode(text, file: "edition.yaml"))
    }

    /// The merger's fingerprint (FNV-1a), repeated here so this suite needs only DigestCore.
    static func fingerprint(title: String, summary: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (title + "\n" + summary).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// Whether `lines` appear in `text`'s lines in the same order (others may come between them).
    static func keepsInOrder(_ lines: [Substring], in text: String) -> Bool {
        var remaining = lines[...]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where remaining.first == line {
            remaining = remaining.dropFirst()
        }
        return remaining.isEmpty
    }

    @Test func newItemsAndSectionsAreInsertedAndEveryOtherLineStays() throws {
        let (text, old) = try Self.file()
        var new = old
        new.sections[1].items.append(Self.item("Raqqa After the SDF", guid: "s2"))
        new.sections.append(Section(title: "Listen", items: [Self.item("Podcast: Lebanon", guid: "p1")]))
        new.gatheredItemIDs += ["s2", "p1"]
        let edited = try #require(EditionFile.edit(text, to: new))
        // Only insertions: every line of the editor's file is still there, in order, byte for byte.
        #expect(Self.keepsInOrder(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(), in: edited))
        #expect(try EditionFile.decode(edited, file: "e") == EditionFile.decode(EditionFile.encode(new), file: "e"))
        // The new item sits after the Syria item, before the editor's comment that follows it.
        let lines = edited.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let raqqa = try #require(lines.firstIndex(of: "        title: \"Raqqa After the SDF\""))
        let comment = try #require(lines.firstIndex(of: "      # The Raqqa piece can wait until tomorrow."))
        let fingerprintLine = try #require(lines.firstIndex { $0.hasPrefix("          fingerprint: ") })
        #expect(fingerprintLine < raqqa && raqqa < comment)
        #expect(lines.contains("  - title: \"Listen\""))
        #expect(edited.hasSuffix("  - old-1\n  - \"s2\"\n  - \"p1\"\n"))
    }

    @Test func anUpdatedFieldIsReplacedWhereItStands() throws {
        let (text, old) = try Self.file()
        var new = old
        new.sections[1].items[0].title = "Syria: the Regime Tries Again"
        new.sections[1].items[0].source?.fingerprint = "abc"
        let edited = try #require(EditionFile.edit(text, to: new))
        let before = text.split(separator: "\n", omittingEmptySubsequences: false)
        let after = edited.split(separator: "\n", omittingEmptySubsequences: false)
        // The title line is replaced where it stands; the source mapping's four lines become one.
        let titleLine = try #require(before.firstIndex(of: "        title: Syria"))
        #expect(after[titleLine] == "        title: \"Syria: the Regime Tries Again\"")
        #expect(before.count - after.count == 3)
        let sourceLine = try #require(before.firstIndex(of: "        source:"))
        let untouched = before.enumerated().filter {
            $0.offset != titleLine && !(sourceLine..<sourceLine + 4).contains($0.offset)
        }
        #expect(Self.keepsInOrder(untouched.map(\.element).dropLast(), in: edited))
        #expect(after[sourceLine].hasPrefix("        source: { feed: \"https://example.org/feed/\", guid: \"s1\""))
    }

    @Test func newEntriesOfRemovedAndGatheredGoAfterTheLastWithTheSameDash() throws {
        let (text, old) = try Self.file()
        var new = old
        new.removedItemIDs.append("s9")
        new.gatheredItemIDs.append("s9")
        let edited = try #require(EditionFile.edit(text, to: new))
        #expect(edited.contains("removed:\n  - old-1\n  - \"s9\"\ngathered:\n"))
        #expect(edited.hasSuffix("  - old-1\n  - \"s9\"\n"))
    }

    @Test func aPreheaderFingerprintGoesRightAfterThePreheader() throws {
        let (text, old) = try Self.file()
        var new = old
        new.preheader = "Raqqa · Lebanon"
        new.preheaderFingerprint = "123"
        let edited = try #require(EditionFile.edit(text, to: new))
        #expect(
            edited.contains(
                "# TODO: ask for a quote before sending\npreheader: \"Raqqa · Lebanon\"\npreheader_fingerprint: \"123\"\nnote: |\n"
            ))
    }

    @Test func anEmptyEditionGetsItsFirstSectionsAndItems() throws {
        let text = "# mine\ndate: 2017-11-18\nsubject: Quiet day  # still\nsections: []\nremoved: []\ngathered: []\n"
        var new = try EditionFile.decode(text, file: "e")
        new.sections = [Section(title: "Syria", items: [Self.item("One", guid: "a")])]
        new.gatheredItemIDs = ["a"]
        let edited = try #require(EditionFile.edit(text, to: new))
        #expect(
            edited.hasPrefix("# mine\ndate: 2017-11-18\nsubject: Quiet day  # still\nsections:\n  - title: \"Syria\"\n")
        )
        #expect(try EditionFile.decode(edited, file: "e") == EditionFile.decode(EditionFile.encode(new), file: "e"))
        // A section whose items are `[]` gets its first item too.
        var more = try EditionFile.decode(edited, file: "e")
        more.sections.append(Section(title: "Empty", items: []))
        let withEmpty = try #require(EditionFile.edit(edited, to: more))
        var filled = try EditionFile.decode(withEmpty, file: "e")
        filled.sections[1].items = [Self.item("Two", guid: "b")]
        let last = try #require(EditionFile.edit(withEmpty, to: filled))
        #expect(try EditionFile.decode(last, file: "e") == filled)
        #expect(last.hasPrefix(withEmpty.components(separatedBy: "  - title: \"Empty\"")[0]))
    }

    @Test func aChangeGatherNeverMakesIsRefused() throws {
        let (text, old) = try Self.file()
        var renamed = old
        renamed.sections[0].title = "Video"
        #expect(EditionFile.edit(text, to: renamed) == nil)
        var moved = old
        moved.sections.swapAt(0, 1)
        #expect(EditionFile.edit(text, to: moved) == nil)
        #expect(EditionFile.edit("date: [", to: old) == nil)
    }

    /// Random gathers over the hand-written file: each splice means exactly what a full rewrite means,
    /// and every comment and blank line of the editor's stays, in order.
    @Test func randomMergesKeepTheEditorsLinesAndMeanWhatARewriteMeans() throws {
        let (original, _) = try Self.file()
        for seed in 1...150 {
            var random = SeededGenerator(seed: UInt64(seed))
            var text = original
            var counter = 0
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                var edition = try EditionFile.decode(text, file: "e")
                let onlyInsertions = Bool.random(using: &random)
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    counter += 1
                    let guid = "r\(seed)-\(counter)"
                    let title = RandomEdition.titles.randomElement(using: &random) ?? "t"
                    switch Int.random(in: 0..<(onlyInsertions ? 3 : 6), using: &random) {
                    case 0:
                        let index = Int.random(in: 0..<edition.sections.count, using: &random)
                        edition.sections[index].items.append(Self.item(title, guid: guid))
                        edition.gatheredItemIDs.append(guid)
                    case 1:
                        edition.sections.append(Section(title: "S\(counter)", items: [Self.item(title, guid: guid)]))
                        edition.gatheredItemIDs.append(guid)
                    case 2:
                        edition.removedItemIDs.append(guid)
                    case 3:
                        let section = Int.random(in: 0..<edition.sections.count, using: &random)
                        guard !edition.sections[section].items.isEmpty else { continue }
                        edition.sections[section].items[0].summary = RandomEdition.summary(&random)
                        edition.sections[section].items[0].published = Date(timeIntervalSince1970: 1_511_000_000)
                    case 4:
                        edition.preheader = title
                        edition.preheaderFingerprint = "\(counter)"
                    default:
                        let section = Int.random(in: 0..<edition.sections.count, using: &random)
                        guard let last = edition.sections[section].items.indices.last else { continue }
                        edition.sections[section].items[last].title = title
                        edition.sections[section].items[last].isLead = true
                    }
                }
                let edited = try #require(EditionFile.edit(text, to: edition), "seed \(seed)")
                #expect(
                    try EditionFile.decode(edited, file: "e")
                        == EditionFile.decode(EditionFile.encode(edition), file: "e"),
                    "seed \(seed)")
                let before = text.split(separator: "\n", omittingEmptySubsequences: false)
                if onlyInsertions {
                    #expect(Self.keepsInOrder(before.dropLast(), in: edited), "seed \(seed)")
                } else {
                    let editorsLines = before.filter {
                        let trimmed = $0.drop { $0 == " " }
                        return trimmed.isEmpty || trimmed.hasPrefix("#")
                    }
                    #expect(Self.keepsInOrder(editorsLines.dropLast(), in: edited), "seed \(seed)")
                }
                text = edited
            }
        }
    }
}
