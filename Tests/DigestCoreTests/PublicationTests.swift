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
