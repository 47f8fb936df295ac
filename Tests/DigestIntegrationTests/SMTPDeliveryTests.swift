import DigestCore
import DigestCurl
import DigestMail
import DigestTestSupport
import Foundation
import Testing

/// Sends through libcurl to a real SMTP server (aiosmtpd) on loopback.
@Suite("SMTP delivery through libcurl", .serialized)
struct SMTPDeliveryTests {
    func builder() throws -> (Publication, DigestMessageBuilder, RenderedEdition) {
        let (publication, renderer, edition) = try Repository.sample()
        let rendered = try renderer.render(edition)
        return (
            publication,
            DigestMessageBuilder(publication: publication, rendered: rendered, identity: RandomMessageIdentity()),
            rendered
        )
    }

    func transport(_ server: SMTPTestServer) throws -> CurlSMTPTransport {
        try CurlSMTPTransport(
            configuration: .init(
                url: server.url, helo: "eaworldview.com", connectTimeout: 5, replyTimeout: 30, messageTimeout: 60))
    }

    @Test func sampleEditionReachesThreeReadersIntact() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let (_, builder, rendered) = try builder()
        let transport = try transport(server)
        let readers = ["ana@example.org", "bashar@example.net", "chen@example.com"].map { EmailAddress($0)! }
        let outcomes = try readers.map {
            transport.deliver(try builder.message(to: Reader(address: $0, name: "Reader"), date: Date()))
        }
        for outcome in outcomes {
            #expect(outcome.status == .accepted, "\(outcome)")
            #expect(outcome.replyCode == 250)
            #expect(outcome.reply.hasPrefix("250 2.0.0 Ok: queued as TEST"))
        }
        let received = try server.received()
        #expect(received.count == 3)
        #expect(received.map(\.recipients) == readers.map { [$0.description] })
        let parsed = try await ParsedMessage.parse(received.map(\.file))
        for (message, reader) in zip(parsed, readers) {
            #expect(message.defects.isEmpty, "\(message.defects)")
            #expect(message.subject == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
            #expect(message.to == "Reader <\(reader)>")
            #expect(message.partTypes == ["multipart/alternative", "text/plain", "text/html"])
            #expect(message.text == rendered.text())
            #expect(message.html == rendered.html)
        }
    }

    @Test func messageStoppedBeforeItsLastBytesNeverReachesTheServerAndTheNextOneDoes() throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let (_, builder, _) = try builder()
        let transport = try transport(server)
        let held = EmailAddress("held@example.org")!
        let next = EmailAddress("next@example.org")!
        var asked = 0
        /// Delivers to `reader`, answering `allow` when the transport asks before the last bytes.
        func deliver(to reader: EmailAddress, allow: Bool) throws -> DeliveryOutcome {
            transport.deliver(try builder.message(to: Reader(address: reader), date: Date())) {
                asked += 1
                return allow
            }
        }
        let withheld = try deliver(to: held, allow: false)
        #expect(asked == 1)
        #expect(withheld.status == .deferred)
        #expect(withheld.reply == DeliveryOutcome.withheld(held).reply)
        let delivered = try deliver(to: next, allow: true)
        #expect(asked == 2)
        #expect(delivered.status == .accepted, "\(delivered)")
        #expect(try server.received().map(\.recipients) == [[next.description]])
    }

    @Test func refusedRecipientIsReportedAndTheOthersStillGetTheMessage() throws {
        let server = try SMTPTestServer(reject: ["gone@example.org"], deferred: ["busy@example.org"])
        defer { server.stop() }
        let (_, builder, _) = try builder()
        let transport = try transport(server)
        let readers = ["first@example.org", "gone@example.org", "busy@example.org", "last@example.org"].map {
            EmailAddress($0)!
        }
        let outcomes = try readers.map { transport.deliver(try builder.message(to: Reader(address: $0), date: Date())) }
        #expect(outcomes.map(\.status) == [.accepted, .rejected, .deferred, .accepted])
        #expect(outcomes[1].replyCode == 550)
        #expect(outcomes[1].reply.contains("5.1.1 <gone@example.org>: Recipient address rejected"))
        #expect(outcomes[2].replyCode == 451)
        #expect(outcomes[2].reply.contains("4.3.0"))
        #expect(try server.received().map(\.recipients) == [["first@example.org"], ["last@example.org"]])
    }

    @Test func messageOver64KiBArrivesWhole() throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        var (publication, renderer, edition) = try Repository.sample()
        edition.sections[0].items[0].summary = String(repeating: "A long summary sentence with words. ", count: 4_000)
        let rendered = try renderer.render(edition)
        let message = try DigestMessageBuilder(
            publication: publication, rendered: rendered, identity: RandomMessageIdentity()
        )
        .message(to: Reader(address: EmailAddress("big@example.org")!), date: Date())
        #expect(message.data.count > 200_000)
        let outcome = try transport(server).deliver(message)
        #expect(outcome.status == .accepted)
        let received = try server.received()
        #expect(try Data(contentsOf: received[0].file) == Data(message.data))
    }

    @Test func unreachableServerIsDeferredNotAThrow() throws {
        // A port nothing listens on: bind one, then close it.
        let transport = try CurlSMTPTransport(
            configuration: .init(url: "smtp://127.0.0.1:1", helo: "eaworldview.com", connectTimeout: 2))
        let (_, builder, _) = try builder()
        let outcome = transport.deliver(
            try builder.message(to: Reader(address: EmailAddress("a@example.org")!), date: Date()))
        #expect(outcome.status == .deferred)
        #expect(outcome.replyCode == nil)
        #expect(!outcome.reply.isEmpty)
    }

    @Test func serverWithoutSTARTTLSGetsNothingWhenTLSIsRequired() throws {
        // aiosmtpd here has no certificate and offers no STARTTLS: with TLS required (as it is for any
        // relay not on this machine) digest must not send the message in clear.
        let server = try SMTPTestServer()
        defer { server.stop() }
        let transport = try CurlSMTPTransport(
            configuration: .init(url: server.url, helo: "eaworldview.com", tls: .required, connectTimeout: 3))
        let (_, builder, _) = try builder()
        let outcome = transport.deliver(
            try builder.message(to: Reader(address: EmailAddress("a@example.org")!), date: Date()))
        #expect(outcome.status == .deferred)
        #expect(outcome.reply.contains("STARTTLS"))
        #expect(try server.received().isEmpty)
    }

    @Test func onlyThisMachineCountsAsLoopback() {
        #expect(CurlSMTPTransport.isLoopback("smtp://localhost:25"))
        #expect(CurlSMTPTransport.isLoopback("smtp://127.0.0.1:2525"))
        #expect(CurlSMTPTransport.isLoopback("smtp://[::1]:25"))
        #expect(!CurlSMTPTransport.isLoopback("smtp://mail.example.com:587"))
        #expect(!CurlSMTPTransport.isLoopback("smtp://localhost.example.com:587"))
    }

    @Test func outcomeClassificationKeepsInDoubtApartFromFailures() {
        #expect(CurlSMTPTransport.outcomeStatus(code: 0, replyCode: 250, bodyComplete: true) == .accepted)
        #expect(CurlSMTPTransport.outcomeStatus(code: 55, replyCode: 550, bodyComplete: false) == .rejected)
        #expect(CurlSMTPTransport.outcomeStatus(code: 55, replyCode: 452, bodyComplete: false) == .deferred)
        #expect(CurlSMTPTransport.outcomeStatus(code: 8, replyCode: 554, bodyComplete: true) == .rejected)
        #expect(CurlSMTPTransport.outcomeStatus(code: 28, replyCode: 354, bodyComplete: true) == .inDoubt)
        #expect(CurlSMTPTransport.outcomeStatus(code: 56, replyCode: 354, bodyComplete: true) == .inDoubt)
        #expect(CurlSMTPTransport.outcomeStatus(code: 7, replyCode: 0, bodyComplete: false) == .deferred)
    }
}
