import DigestCore
import DigestServe
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// The SNS verifier and the SES webhook in-process: which certificate addresses are Amazon's, a certificate
/// reader that never traps on junk, fetched certificates kept, and subscriptions confirmed only when asked.
@Suite("SNS signatures")
struct SNSVerifierTests {
    @Test func onlyHTTPSAddressesOfSNSInARegionArePlacesForACertificate() {
        let good = [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-3250158c6506d40628374fcf0ccaf1b2.pem",
        ]
        let bad = [
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns.amazonaws.com/cert.pem",
            "https://sqs.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com/cert.txt",
            "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
            "https://user@sns.us-east-1.amazonaws.com/cert.pem",
            "https://sns.us-east-1.amazonaws.com/cert.pem?x=1",
            "https://sns.US_EAST.amazonaws.com/cert.pem",
            "https://sns..amazonaws.com/cert.pem",
            "file:///etc/ssl/cert.pem",
            "",
        ]
        for url in good { #expect(SNSVerifier.isAmazonCertificateURL(url), "\(url)") }
        for url in bad { #expect(!SNSVerifier.isAmazonCertificateURL(url), "\(url)") }
    }

    @Test func theKeyIsReadFromACertificateAndJunkNeverTraps() async throws {
        let signer = try await SNSTestSigner()
        let pem = try String(contentsOf: signer.certificate, encoding: .utf8)
        #expect(throws: Never.self) { try SNSVerifier.publicKey(certificatePEM: pem) }
        // Every truncation and 2,000 random corruptions of the DER: an error, never a trap.
        let base64 = pem.components(separatedBy: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: base64))
        func wrap(_ bytes: [UInt8]) -> String {
            "-----BEGIN CERTIFICATE-----\n\(Data(bytes).base64EncodedString())\n-----END CERTIFICATE-----\n"
        }
        for length in stride(from: 0, to: der.count, by: 7) {
            #expect(throws: (any Error).self) {
                try SNSVerifier.publicKey(certificatePEM: wrap(Array(der.prefix(length))))
            }
        }
        var generator = SeededGenerator(seed: 16)
        for _ in 0..<2_000 {
            var bytes = Array(der)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? SNSVerifier.publicKey(certificatePEM: wrap(bytes))
        }
        #expect(throws: (any Error).self) { try SNSVerifier.publicKey(certificatePEM: "no certificate here") }
    }

    @Test func aCertificateWithAnECOrAShortRSAKeyIsRefused() async throws {
        let folder = try Repository.temporaryFolder("sns-keys")
        for (name, key) in [
            ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]), ("rsa1024", ["-newkey", "rsa:1024"]),
        ] {
            let certificate = folder.appendingPathComponent("\(name).pem")
            let made = try await Subprocess.run(
                "/usr/bin/openssl",
                ["req", "-x509"] + key + [
                    "-nodes", "-keyout", folder.appendingPathComponent("\(name)-key.pem").path, "-out",
                    certificate.path,
                    "-subj", "/CN=sns.amazonaws.com", "-days", "1",
                ])
            #expect(made.status == 0, "\(made.stderr)")
            let pem = try String(contentsOf: certificate, encoding: .utf8)
            #expect(throws: SNSRejection.self) { try SNSVerifier.publicKey(certificatePEM: pem) }
        }
    }

    @Test func aFetchedCertificateIsKeptAndAFailedFetchRefusesTheMessage() async throws {
        let signer = try await SNSTestSigner()
        let pem = Array(try Data(contentsOf: signer.certificate))
        let fetches = Counter()
        let verifier = try SNSVerifier(fetch: { url in
            fetches.add()
            guard url == SNSTestSigner.certificateURL else { throw SetupFailure(message: "no such certificate") }
            return pem
        })
        for version in ["1", "2", "1"] {
            let body = try await signer.signed(
                SNSTestSigner.notification(carrying: SNSTestSigner.fixture("ses-complaint.json")), version: version)
            let message = try #require(SNSMessage(json: Array(body.utf8)))
            #expect(try (await verifier.verify(message)).get() == ())
        }
        #expect(fetches.value == 1)
        let elsewhere = try await signer.signed(
            SNSTestSigner.notification(carrying: "{}"),
            certificateURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-other.pem")
        let result = await verifier.verify(try #require(SNSMessage(json: Array(elsewhere.utf8))))
        #expect(throws: SNSRejection.self) { try result.get() }
        #expect(fetches.value == 2)
    }

    @Test func withConfirmationOnASignedSubscriptionIsVisitedOnceAndNothingIsRecorded() async throws {
        let signer = try await SNSTestSigner()
        let folder = try Repository.temporaryFolder("sns-confirm")
        let store = try SQLiteStore(path: folder.appendingPathComponent("digest.sqlite").path)
        let visited = Shared<[String]>([])
        let lines = Shared<[String]>([])
        var settings = BounceWebhooks.Settings(
            ses: try SNSVerifier(
                trustedCertificate: String(contentsOf: signer.certificate, encoding: .utf8), fetch: nil))
        settings.confirmSubscriptions = true
        let webhooks = BounceWebhooks(
            settings: settings, store: store, visit: { url in visited.withLock { $0.append(url) } }, now: { Date() },
            log: { line in lines.withLock { $0.append(line) } })
        let confirmation = try SNSTestSigner.object("sns-subscription-confirmation.json")
        let body = try await signer.signed(confirmation)
        let answer = await webhooks.ses(
            HTTPRequest(method: "POST", target: "/webhooks/ses", path: "/webhooks/ses", body: Array(body.utf8)))
        #expect(answer.status == 200)
        #expect(visited.withLock { $0 } == [try #require(confirmation["SubscribeURL"] as? String)])
        #expect(lines.withLock { $0 }.contains { $0.contains("confirmed the subscription") })
        // A subscribe address anywhere but SNS is logged, never visited.
        var elsewhere = confirmation
        elsewhere["SubscribeURL"] = "https://evil.example/?Action=ConfirmSubscription"
        let other = await webhooks.ses(
            HTTPRequest(
                method: "POST", target: "/webhooks/ses", path: "/webhooks/ses",
                body: Array(try await signer.signed(elsewhere).utf8)))
        #expect(other.status == 200)
        #expect(visited.withLock { $0.count } == 1)
    }
}

/// A count shared with a `@Sendable` closure.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// A value behind a lock, for the closures of these tests.
final class Shared<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
