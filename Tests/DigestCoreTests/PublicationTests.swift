import DigestCore
import DigestTestSupport
import Foundation
import Testing

@Suite("Publication config")
struct PublicationTests {
    @Test func sampleConfigLoads() throws {
        let publication = try Repository.sampleWorkspace.loadPublication()
        #expect(publication.name == "EA WorldView")
        #expect(publication.sender.address.description == "digest@eaworldview.com")
        #expect(publication.timeZone.identifier == "Europe/London")
        #expect(publication.smtp.url == "smtp://localhost:25")
        #expect(publication.archiveURL(for: Repository.sampleDate) == "https://eaworldview.com/digest/2017-11-18/")
    }

    func problems(_ text: String) -> [Problem] {
        do {
            _ = try Publication.decode(text, file: "publication.yaml")
            return []
        } catch let problems as Problems {
            return problems.all
        } catch {
            return [Problem(file: "?", message: "\(error)")]
        }
    }

    /// Not the YAML library's text with the whole file as "Context:", but the second key's place.
    @Test func aDuplicatedKeyIsNamedAtItsSecondPlaceWithTheFirstLine() throws {
        let sample = try String(contentsOf: Repository.sampleWorkspace.configFile, encoding: .utf8)
        let text = sample + "name: EA WorldView Again\n"
        let last = text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        let found = problems(text)
        #expect(found.count == 1)
        let first = try #require(sample.split(separator: "\n").firstIndex { $0.hasPrefix("name:") }) + 1
        #expect(
            found.first?.description
                == "publication.yaml:\(last):1: error: 'name' appears twice (first on line \(first))\n"
                + "  fix: keep one 'name:' in this mapping and delete the other (YAML allows each key once)")
        #expect(!(found.first?.description.contains("Context") ?? true))
    }

    @Test func aDuplicatedKeyInsideAMappingOrAListItemIsFoundThere() {
        let nested = problems(
            """
            name: Test
            sender:
              name: A
              address: a@example.com
              name: B
            time_zone: UTC
            """)
        #expect(nested.map(\.description).first?.hasPrefix("publication.yaml:5:3: error: 'name' appears twice (first on line 3)") == true)
        let inItem = problems(
            """
            name: Test
            feeds:
              - url: https://example.com/a
                section: A
              - url: https://example.com/b
                section: B
                url: https://example.com/c
            """)
        #expect(inItem.count == 1)
        #expect(inItem.first?.line == 7 && inItem.first?.column == 5)
        #expect(inItem.first?.message == "'url' appears twice (first on line 5)")
    }

    @Test func everyBadOrMissingFieldGetsItsOwnError() throws {
        let text = """
            name: Test
            domain: not a domain
            sender:
              address: nobody
            time_zone: Mars/Olympus
            smtp:
              url: http://mail.example.com
            unsubscribe_url: /unsubscribe
            """
        do {
            _ = try Publication.decode(text, file: "publication.yaml")
            Issue.record("a broken config must not load")
        } catch let problems as Problems {
            let messages = problems.all.map(\.message)
            #expect(messages.contains { $0.contains("'domain'") })
            #expect(messages.contains { $0.contains("'address' of 'sender'") })
            #expect(messages.contains { $0.contains("'time_zone'") })
            #expect(messages.contains { $0.contains("smtp://") })
            #expect(messages.contains { $0.contains("'unsubscribe_url'") })
            #expect(messages.contains { $0.contains("missing 'postal_address'") })
            #expect(problems.all.count == 6)
            #expect(problems.all.allSatisfy { $0.file == "publication.yaml" && $0.line != nil })
        }
    }

    @Test func smtpURLMustNotCarryCredentials() {
        #expect(
            SMTPSettings.problem(with: "smtp://user:secret@mail.example.com:587")?.contains("DIGEST_SMTP_PASSWORD")
                == true)
        #expect(SMTPSettings.problem(with: "smtps://mail.example.com:465") == nil)
    }
}

@Suite("Publication config: bulk mail and DKIM")
struct PublicationBulkMailTests {
    static let base = """
        name: Test
        domain: example.com
        sender: { name: Test, address: digest@example.com }
        time_zone: UTC
        smtp: { url: "smtp://localhost:25" }
        postal_address: "1 Street"
        unsubscribe_url: https://example.com/u
        """

    @Test func defaultsNameTheListAndMailboxAfterTheDomain() throws {
        let publication = try Publication.decode(Self.base, file: "publication.yaml")
        #expect(publication.listID == "example.com")
        #expect(publication.unsubscribeMailbox.description == "unsubscribe@example.com")
        #expect(publication.dkim == nil)
        #expect(publication.feedbackID == nil)
    }

    @Test func dkimFeedbackAndListSettingsAreRead() throws {
        let text =
            Self.base + """

                list_id: daily.example.com
                unsubscribe_mailbox: leave@example.com
                feedback_id: "digest:example:daily:ea"
                dkim:
                  signatures:
                    - { selector: rsa2026, key_file: keys/rsa2026.pem }
                    - { selector: ed2026, key_file: keys/ed2026.pem }
                """
        let publication = try Publication.decode(text, file: "publication.yaml")
        #expect(publication.listID == "daily.example.com")
        #expect(publication.unsubscribeMailbox.description == "leave@example.com")
        #expect(publication.feedbackID == "digest:example:daily:ea")
        #expect(
            publication.dkim
                == DKIMSettings(
                    domain: "example.com",
                    signatures: [
                        .init(selector: "rsa2026", keyFile: "keys/rsa2026.pem"),
                        .init(selector: "ed2026", keyFile: "keys/ed2026.pem"),
                    ]))
    }

    @Test func badDKIMSettingsAreNamed() {
        let text =
            Self.base
            + "\ndkim:\n  signatures:\n    - { selector: \"bad selector\", key_file: k.pem }\n    - { selector: ok }\n"
        #expect(throws: Problems.self) { try Publication.decode(text, file: "publication.yaml") }
        do {
            _ = try Publication.decode(text, file: "publication.yaml")
        } catch let problems as Problems {
            #expect(problems.all.contains { $0.message.contains("'selector'") && $0.line == 10 })
            #expect(problems.all.contains { $0.message.contains("missing 'key_file'") })
        } catch {}
    }

    @Test func theRelaysSPFIncludeIsReadAndMustBeADomain() throws {
        let text = Self.base.replacingOccurrences(
            of: "smtp: { url: \"smtp://localhost:25\" }",
            with: "smtp: { url: \"smtp://smtp.relay.example:587\", spf_include: _spf.relay.example }")
        #expect(try Publication.decode(text, file: "publication.yaml").smtp.spfInclude == "_spf.relay.example")
        let bad = text.replacingOccurrences(of: "_spf.relay.example", with: "\"include:_spf.relay.example\"")
        do {
            _ = try Publication.decode(bad, file: "publication.yaml")
            Issue.record("a bad spf_include was accepted")
        } catch let problems as Problems {
            #expect(
                problems.all.map(\.message) == [
                    "'spf_include' of 'smtp' must be a domain such as _spf.relay.example, not 'include:_spf.relay.example'"
                ])
        }
    }

    @Test func overlongUnsubscribeURLIsRefused() {
        let text = Self.base.replacingOccurrences(
            of: "https://example.com/u", with: "https://example.com/" + String(repeating: "u", count: 400))
        #expect(throws: Problems.self) { try Publication.decode(text, file: "publication.yaml") }
    }
}

@Suite("Publication config: the bounce mailbox")
struct PublicationBounceMailboxTests {
    func decode(_ bounce: String) throws -> Publication {
        try Publication.decode(PublicationBulkMailTests.base + "\nbounce:\n" + bounce, file: "publication.yaml")
    }

    func problems(_ bounce: String) -> [String] {
        do {
            _ = try decode(bounce)
            return []
        } catch let problems as Problems {
            return problems.all.map(\.message)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func anIMAPSMailboxWithItsDefaultsIsRead() throws {
        let bounce = try #require(
            try decode("  domain: bounce.example.com\n  mailbox: imaps://bounces@mail.example.com/INBOX\n").bounce)
        let mailbox = try #require(bounce.mailbox)
        #expect(mailbox.isPOP3 == false && mailbox.implicitTLS)
        #expect(mailbox.port == 993 && mailbox.user == "bounces" && mailbox.folder == "INBOX")
        #expect(mailbox.server == "imaps://mail.example.com:993")
        #expect(bounce.after == .keep && bounce.softLimit == 3 && bounce.softDays == 15 && bounce.caFile == nil)
    }

    @Test func aPOP3MailboxWithDeleteAndItsOwnLimitsIsRead() throws {
        let bounce = try #require(
            try decode(
                "  domain: bounce.example.com\n  mailbox: pop3s://b%40x@pop.example.com\n  after: delete\n"
                    + "  soft_limit: 5\n  soft_days: 30\n  ca_file: ca.pem\n"
            ).bounce)
        #expect(bounce.mailbox?.isPOP3 == true && bounce.mailbox?.port == 995)
        #expect(bounce.after == .delete && bounce.softLimit == 5 && bounce.softDays == 30 && bounce.caFile == "ca.pem")
        #expect(try decode("  domain: b.example.com\n  mailbox: imap://u@h/Bounces\n  after: move:Done\n").bounce?.after
            == .move("Done"))
    }

    @Test func aPasswordInTheURLIsRefusedWithTheVariableToUse() {
        let messages = problems("  domain: bounce.example.com\n  mailbox: imaps://bounces:hunter2@mail.example.com/\n")
        #expect(messages.count == 1)
        #expect(messages.first?.contains("DIGEST_BOUNCE_PASSWORD") == true)
    }

    @Test func badMailboxSettingsAreNamed() {
        #expect(problems("  domain: b.example.com\n  mailbox: https://mail.example.com/\n").first?.contains("imaps://") == true)
        #expect(problems("  domain: b.example.com\n  mailbox: imaps://mail.example.com/\n").first?.contains("no user") == true)
        #expect(problems("  domain: b.example.com\n  mailbox: imaps://u@h/\n  after: archive\n").first?.contains("keep, delete or move:FOLDER") == true)
        #expect(problems("  domain: b.example.com\n  mailbox: pop3s://u@h\n  after: move:Done\n").first?.contains("POP3") == true)
        #expect(problems("  domain: b.example.com\n  mailbox: imaps://u@h/\n  soft_limit: 0\n").count == 1)
    }
}
