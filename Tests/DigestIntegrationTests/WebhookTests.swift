import DigestCore
import DigestMail
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// `digest serve --webhook ses --webhook postmark`: bounce and complaint events over real HTTP, the services'
/// documented sample payloads as fixtures, SNS signatures made by openssl.
@Suite("Bounce and complaint webhooks", .serialized)
struct WebhookTests {
    let cli = DigestBinary()
    static let readers = ["jane@example.com", "mary@example.com", "richard@example.com", "john@example.com"]
    static let password = "postmark-webhook-password-0123"
    /// The topic of the SNS documentation's examples, which the fixtures keep.
    static let topic = "arn:aws:sns:us-west-2:123456789012:MyTopic"

    func store(_ workspace: URL) throws -> SQLiteStore {
        try SQLiteStore(path: workspace.appendingPathComponent("digest.sqlite").path)
    }

    func events(_ workspace: URL) throws -> [BounceEvent] {
        let store = try store(workspace)
        return try Self.readers.flatMap { try store.bounceEvents(for: EmailAddress($0)!) }
    }

    /// A workspace with the readers, `bounce: domain: bounce.test`, and `digest serve` with both webhooks.
    func serve(_ signer: SNSTestSigner, arguments: [String] = []) async throws -> (URL, ServeProcess) {
        let workspace = try await cli.workspaceCopy(readers: Self.readers)
        let config = workspace.appendingPathComponent("publication.yaml")
        try (try String(contentsOf: config, encoding: .utf8) + "bounce:\n  domain: bounce.test\n").write(
            to: config, atomically: true, encoding: .utf8)
        let server = try cli.serve(
            workspace, ["--webhook", "ses", "--webhook", "postmark", "--sns-topic", Self.topic] + arguments,
            environment: ["DIGEST_SNS_CERT_FILE": signer.certificate.path, "DIGEST_WEBHOOK_PASSWORD": Self.password])
        return (workspace, server)
    }

    func post(_ server: ServeProcess, _ path: String, _ body: String, headers: [String: String] = [:]) async throws
        -> RawResponse
    {
        try await HTTPTestClient.request(
            port: server.port, "POST", path, body: body, contentType: "text/plain; charset=UTF-8", headers: headers)
    }

    static var basic: [String: String] {
        ["Authorization": "Basic " + Data("postmark:\(password)".utf8).base64EncodedString()]
    }

    @Test func anSESHardBounceMarksTheReaderBouncedOnceAndNamesTheRunOfItsReturnPath() async throws {
        let signer = try await SNSTestSigner()
        let (workspace, server) = try await serve(signer)
        defer { server.stop() }
        // The documented example, sent with the return path of reader jane in run 2017-11-18.
        let jane = try #require(try store(workspace).subscriber(EmailAddress("jane@example.com")!))
        let verp = BounceAddress(
            domain: "bounce.test",
            signer: try #require(BounceSigner(secret: Array(DigestBinary.serveKey.utf8), listID: "eaworldview.com")))
        let janeID = try #require(jane.id)
        let returnPath = try #require(verp.address(for: BounceToken(run: "2017-11-18", subscriberID: janeID)))
        let message = try SNSTestSigner.fixture("ses-bounce.json").replacingOccurrences(
            of: "\"source\":\"john@example.com\"", with: "\"source\":\"\(returnPath)\"")
        let body = try await signer.signed(try SNSTestSigner.notification(carrying: message))
        let first = try await post(server, "/webhooks/ses", body)
        #expect(first.status == 200, "\(first.raw)\n\(server.errorLog)")
        #expect(try cli.status(of: "jane@example.com", in: workspace) == "bounced")
        // SNS delivers at least once: the same notification again changes nothing.
        let again = try await post(server, "/webhooks/ses", body)
        #expect(again.status == 200)
        let recorded = try events(workspace)
        #expect(recorded.count == 1)
        let event = try #require(recorded.first)
        #expect(event.kind == .hard && event.status == "5.1.1" && event.reason == "mailbox-unknown")
        #expect(event.source == "ses" && event.run == "2017-11-18")
        #expect(event.reportKey == "ses:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000")
        #expect(try cli.status(of: "mary@example.com", in: workspace) == "active")
        #expect(server.log.contains("webhooks/ses: message"))
        #expect(!server.log.contains("jane@example.com"), "the log holds no addresses")
    }

    @Test func anSESComplaintSignedWithSHA256MarksTheReaderComplainedAndATransientBounceOnlyCounts() async throws {
        let signer = try await SNSTestSigner()
        let (workspace, server) = try await serve(signer)
        defer { server.stop() }
        let complaint = try await signer.signed(
            SNSTestSigner.notification(carrying: SNSTestSigner.fixture("ses-complaint.json")), version: "2")
        #expect(try await post(server, "/webhooks/ses", complaint).status == 200)
        #expect(try cli.status(of: "richard@example.com", in: workspace) == "complained")
        let transient = try await signer.signed(
            SNSTestSigner.notification(carrying: SNSTestSigner.fixture("ses-bounce-transient.json")))
        #expect(try await post(server, "/webhooks/ses", transient).status == 200)
        #expect(try cli.status(of: "mary@example.com", in: workspace) == "active")
        let kinds = try events(workspace).map { "\($0.address) \($0.kind) \($0.reason)" }.sorted()
        #expect(kinds == ["mary@example.com soft mailbox-full", "richard@example.com complaint abuse"])
        // A notification that is no SES report (the SNS documentation's "Hello world!", with a Subject).
        let hello = try await signer.signed(SNSTestSigner.object("sns-notification.json"))
        #expect(try await post(server, "/webhooks/ses", hello).status == 200)
        #expect(try events(workspace).count == 2)
    }

    @Test func tamperedUnsignedAndForeignCertificateNotificationsAre403AndRecordNothing() async throws {
        let signer = try await SNSTestSigner()
        let (workspace, server) = try await serve(signer)
        defer { server.stop() }
        let notification = try SNSTestSigner.notification(carrying: SNSTestSigner.fixture("ses-bounce.json"))
        let signed = try await signer.signed(notification)
        // Tampered: another reader put in the signed message.
        let tampered = signed.replacingOccurrences(of: "jane@example.com", with: "mary@example.com")
        #expect(tampered != signed)
        var unsigned = notification
        unsigned["SigningCertURL"] = SNSTestSigner.certificateURL
        unsigned["SignatureVersion"] = "1"
        let foreignHost = try await signer.signed(notification, certificateURL: "https://sns.evil.example.com/cert.pem")
        let plainHTTP = try await signer.signed(
            notification, certificateURL: "http://sns.us-west-2.amazonaws.com/SimpleNotificationService-1.pem")
        let lookalike = try await signer.signed(
            notification, certificateURL: "https://sns.us-west-2.amazonaws.com.evil.example/cert.pem")
        var otherTopic = notification
        otherTopic["TopicArn"] = "arn:aws:sns:us-west-2:123456789012:SomeoneElses"
        let otherTopicSigned = try await signer.signed(otherTopic)
        let badVersion = try await signer.signed(notification, version: "3")
        for body in [
            tampered, String(decoding: try JSONSerialization.data(withJSONObject: unsigned), as: UTF8.self),
            foreignHost, plainHTTP, lookalike, otherTopicSigned, badVersion,
        ] {
            let answer = try await post(server, "/webhooks/ses", body)
            #expect(answer.status == 403, "\(answer.raw)")
        }
        #expect(try await post(server, "/webhooks/ses", "not json").status == 400)
        #expect(try await HTTPTestClient.request(port: server.port, "GET", "/webhooks/ses").status == 405)
        #expect(try events(workspace).isEmpty)
        #expect(try cli.status(of: "jane@example.com", in: workspace) == "active")
        #expect(try cli.status(of: "mary@example.com", in: workspace) == "active")
        #expect(server.log.contains("the signature does not verify"))
        #expect(server.log.contains("is not Amazon SNS's"))
        // The genuine message still works.
        #expect(try await post(server, "/webhooks/ses", signed).status == 200)
        #expect(try cli.status(of: "jane@example.com", in: workspace) == "bounced")
    }

    @Test func aSubscriptionConfirmationIsLoggedForTheEditorToVisitNotFetched() async throws {
        let signer = try await SNSTestSigner()
        let (workspace, server) = try await serve(signer)
        defer { server.stop() }
        let confirmation = try SNSTestSigner.object("sns-subscription-confirmation.json")
        let answer = try await post(server, "/webhooks/ses", try await signer.signed(confirmation))
        #expect(answer.status == 200, "\(answer.raw)")
        let url = try #require(confirmation["SubscribeURL"] as? String)
        #expect(server.log.contains("visit \(url) once"), "\(server.log)")
        #expect(try events(workspace).isEmpty)
        // Unsigned, it is refused like any other message.
        var forged = confirmation
        forged["SubscribeURL"] = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=forged"
        let forgedAnswer = try await post(
            server, "/webhooks/ses", String(decoding: try JSONSerialization.data(withJSONObject: forged), as: UTF8.self)
        )
        #expect(forgedAnswer.status == 403)
        #expect(!server.log.contains("Token=forged"))
    }

    @Test func postmarkBouncesAndComplaintsNeedThePasswordAndAreRecordedOnce() async throws {
        let signer = try await SNSTestSigner()
        let (workspace, server) = try await serve(signer)
        defer { server.stop() }
        let bounce = try SNSTestSigner.fixture("postmark-bounce.json")
        // No password, a wrong one, another scheme: 401 and nothing recorded.
        let none = try await post(server, "/webhooks/postmark", bounce)
        #expect(none.status == 401)
        #expect(none.headers["www-authenticate"]?.hasPrefix("Basic") == true)
        let wrong = ["Authorization": "Basic " + Data("postmark:not-the-password".utf8).base64EncodedString()]
        #expect(try await post(server, "/webhooks/postmark", bounce, headers: wrong).status == 401)
        #expect(
            try await post(server, "/webhooks/postmark", bounce, headers: ["Authorization": "Bearer \(Self.password)"])
                .status == 401)
        #expect(try events(workspace).isEmpty)
        #expect(try cli.status(of: "john@example.com", in: workspace) == "active")

        #expect(try await post(server, "/webhooks/postmark", bounce, headers: Self.basic).status == 200)
        #expect(try await post(server, "/webhooks/postmark", bounce, headers: Self.basic).status == 200)
        #expect(try cli.status(of: "john@example.com", in: workspace) == "bounced")
        let complaint = try SNSTestSigner.fixture("postmark-spam-complaint.json")
        #expect(try await post(server, "/webhooks/postmark", complaint, headers: Self.basic).status == 200)
        #expect(try cli.status(of: "jane@example.com", in: workspace) == "complained")
        let soft = try SNSTestSigner.fixture("postmark-soft-bounce.json")
        #expect(try await post(server, "/webhooks/postmark", soft, headers: Self.basic).status == 200)
        #expect(try cli.status(of: "mary@example.com", in: workspace) == "active")
        let recorded = try events(workspace).map { "\($0.reportKey) \($0.address) \($0.kind) \($0.status)" }.sorted()
        #expect(
            recorded == [
                "postmark:42 jane@example.com complaint ",
                "postmark:4323372036854775807 john@example.com hard ",
                "postmark:4323372036854775808 mary@example.com soft 4.2.2",
            ])
        // A delivery event is answered and ignored.
        let delivery = #"{"RecordType":"Delivery","ServerID":23,"MessageID":"x","Recipient":"mary@example.com"}"#
        #expect(try await post(server, "/webhooks/postmark", delivery, headers: Self.basic).status == 200)
        #expect(try events(workspace).count == 3)
    }

    @Test func withoutWebhookFlagsTheRoutesDoNotExist() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers)
        let server = try cli.serve(workspace)
        defer { server.stop() }
        let answer = try await post(server, "/webhooks/ses", try SNSTestSigner.fixture("sns-notification.json"))
        #expect(answer.status == 404)
        #expect(try await post(server, "/webhooks/postmark", "{}", headers: Self.basic).status == 404)
    }

    @Test func postmarkWithoutAPasswordOrSESWithoutItsTopicRefusesToStart() async throws {
        let workspace = try await cli.workspaceCopy(readers: Self.readers)
        let postmark = try await cli.digest(["serve", "--port", "0", "--webhook", "postmark"], in: workspace)
        #expect(postmark.status != 0)
        #expect(postmark.stderr.contains("DIGEST_WEBHOOK_PASSWORD"), "\(postmark.stderr)")
        let ses = try await cli.digest(["serve", "--port", "0", "--webhook", "ses"], in: workspace)
        #expect(ses.status == 64)
        #expect(ses.stderr.contains("--webhook ses needs --sns-topic ARN"), "\(ses.stderr)")
    }
}
