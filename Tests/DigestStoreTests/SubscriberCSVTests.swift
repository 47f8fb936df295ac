import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

@Suite("Subscriber CSV import")
struct SubscriberCSVTests {
    func parse(_ text: String, status: Subscriber.Status? = nil) throws -> SubscriberCSV.Result {
        try SubscriberCSV.parse(Data(text.utf8), status: status)
    }

    @Test func mailchimpExportWithBOMSemicolonsAndQuotedCommas() throws {
        let text =
            "\u{FEFF}Email Address;First Name;Last Name;Status;City\r\n"
            + "ana@Example.ORG;Ana;Haddad;subscribed;\"Beirut; Lebanon\"\r\n"
            + "\"bo@example.net\";\"Bo, Jr.\";;cleaned;\r\n"
            + "cy@example.com;\"Multi\nline\";Name;unsubscribed;Paris\r\n"
        let result = try parse(text)
        #expect(result.rejected.isEmpty)
        #expect(result.rows.map(\.address.description) == ["ana@example.org", "bo@example.net", "cy@example.com"])
        #expect(result.rows.map(\.name) == ["Ana Haddad", "Bo, Jr.", "Multi line Name"])
        #expect(result.rows.map(\.status) == [.active, .bounced, .unsubscribed])
        #expect(result.rows[0].attributesJSON == #"{"City":"Beirut; Lebanon"}"#)
        #expect(result.rows.map(\.line) == [2, 3, 4])
    }

    @Test func badRowsAreListedWithTheirLineNumbersAndTheRestKept() throws {
        let text = """
            email,name,status
            good@example.org,Good,active
            not-an-address,Bad,active
            "evil@example.org\r\nRCPT TO:<x@y>",Evil,active
            odd@example.org,Odd,maybe
            ,,
            last@example.org,Last,subscribed
            empty@example.org,Empty,
            """
        let result = try parse(text)
        #expect(result.rows.map(\.address.description) == ["good@example.org", "last@example.org"])
        // An empty status is unknown, never active.
        #expect(result.rejected.map(\.line) == [3, 4, 6, 9])
        #expect(result.rejected[1].reason.contains("control character"))
        #expect(result.rejected[0].reason.contains("has no '@'"))
        #expect(result.rejected[2].reason.contains("unknown status 'maybe'"))
    }

    @Test func duplicatesAreMergedAndALeavingStatusWins() throws {
        // The domain is compared without case; the part before the @ is not (RFC 5321).
        let result = try parse(
            "email,name,status\na@example.org,,active\na@EXAMPLE.org,Ann,unsubscribed\nA@example.org,,active\n")
        #expect(result.rows.map(\.address.description) == ["a@example.org", "A@example.org"])
        #expect(result.duplicates == 1)
        #expect(result.rows[0].name == "Ann")
        #expect(result.rows[0].status == .unsubscribed)
    }

    @Test func internationalDomainsAreStoredInTheirASCIIForm() throws {
        let result = try parse("email\nzoe@bücher.example\nzoë@example.org\n", status: .active)
        #expect(result.rows.map(\.address.description) == ["zoe@xn--bcher-kva.example"])
        #expect(result.rejected.first?.reason.contains("before the @") == true)
        #expect(Punycode.encode("münchen") == "mnchen-3ya")
        #expect(Punycode.asciiDomain("例え.テスト") == "xn--r8jz45g.xn--zckzah")
    }

    @Test func fileWithoutAnEmailColumnIsRefusedWhole() {
        #expect(throws: SubscriberCSV.FileError.self) { try parse("name,status\nAna,active\n") }
        #expect(throws: SubscriberCSV.FileError.self) { try SubscriberCSV.parse(Data([0xFF, 0xFE, 0x00])) }
    }

    @Test(arguments: StoreKind.allCases) func exportedCSVImportsBackToTheSameList(_ kind: StoreKind) async throws {
        let store = try await kind.make("csv")
        let rows = try parse(
            "email,name,status\na@example.org,\"Haddad, Ana\",active\nb@example.org,\"Say \"\"hi\"\"\",bounced\n"
        ).rows
        _ = try store.importRows(rows, source: "test", now: Date())
        var text = SubscriberCSV.header()
        try store.forEachSubscriber(status: nil) { text += SubscriberCSV.line($0) }
        let again = try parse(text)
        #expect(again.rows.map(\.name) == ["Haddad, Ana", "Say \"hi\""])
        #expect(again.rows.map(\.status) == [.active, .bounced])
    }

    @Test(arguments: StoreKind.allCases) func hundredThousandRowsImportInOneTransaction(_ kind: StoreKind) async throws
    {
        var text = "email,name\n"
        for index in 0..<100_000 { text += "reader\(index)@example.org,Reader \(index)\n" }
        let result = try parse(text, status: .active)
        #expect(result.rows.count == 100_000)
        let store = try await kind.make("csv")
        let counts = try store.importRows(result.rows, source: "big", now: Date())
        #expect(counts.added == 100_000)
        #expect(try store.counts()[.active] == 100_000)
        // Again: nothing new, nothing changed.
        #expect(try store.importRows(result.rows, source: "big", now: Date()) == ImportCounts(unchanged: 100_000))
    }

    @Test(arguments: StoreKind.allCases) func importNeverReactivatesAReaderWhoLeft(_ kind: StoreKind) async throws {
        let store = try await kind.make("csv")
        _ = try store.importRows(try parse("email,status\na@example.org,unsubscribed\n").rows, source: "1", now: Date())
        let counts = try store.importRows(
            try parse("email,status\na@example.org,active\n").rows, source: "2", now: Date())
        #expect(counts == ImportCounts(unchanged: 1))
        #expect(try store.subscriber(EmailAddress("a@example.org")!)?.status == .unsubscribed)
    }
}
