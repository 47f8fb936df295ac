import DigestTestSupport
import Foundation
import Testing

/// `digest bounces inspect`, run as the editor would on a saved message.
@Suite("digest bounces inspect")
struct BouncesCommandTests {
    static let fixtures = Repository.root.appendingPathComponent("Tests/DigestBouncesTests/Fixtures")

    @Test func aGermanPostfixBounceIsAHardBounceOfItsRecipientInTheDocumentedSchema() async throws {
        let result = try await DigestBinary().digest([
            "bounces", "inspect", Self.fixtures.appendingPathComponent("german-postfix-plain.eml").path, "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        struct Inspected: Decodable {
            var kind: String
            var reports: [Report]
            struct Report: Decodable {
                var recipient: String
                var status: String
                var reply_code: String
                var diagnostic: String
                var `class`: String
                var reason: String
            }
        }
        let inspected = try JSONDecoder().decode(Inspected.self, from: Data(result.stdout.utf8))
        #expect(inspected.kind == "bounce")
        #expect(inspected.reports.count == 1)
        #expect(inspected.reports.first?.status == "5.1.1")
        #expect(inspected.reports.first?.reply_code == "550")
        #expect(inspected.reports.first?.class == "hard")
        #expect(inspected.reports.first?.reason == "mailbox-unknown")
    }

    @Test func aComplaintReadsAsOneInText() async throws {
        let result = try await DigestBinary().digest([
            "bounces", "inspect", Self.fixtures.appendingPathComponent("arf-comcast.eml").path,
        ])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("complaint (arf)"))
        #expect(result.stdout.contains("aj.gray@comcast.example  complaint, abuse"))
    }

    @Test func aMissingFileSaysWhatToGive() async throws {
        let result = try await DigestBinary().digest(["bounces", "inspect", "/nonexistent.eml"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("cannot read /nonexistent.eml"))
    }
}
