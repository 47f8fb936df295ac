import DigestBounces
import Foundation
import Testing

/// The fixture corpus: bounces, complaints, automatic replies and other mail in the shapes the RFCs and the
/// MTAs document, each with what digest must read from it, in `Fixtures/expected.json`.
enum Corpus {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Expected: Decodable, Sendable, CustomTestStringConvertible {
        struct Report: Decodable, Sendable, Equatable {
            var recipient: String
            var status: String
            var `class`: String
            var reason: String
        }
        var file: String
        var kind: String
        var reports: [Report]
        var testDescription: String { file }
    }

    static let expected: [Expected] = {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("expected.json")),
            let list = try? JSONDecoder().decode([Expected].self, from: data)
        else { return [] }
        return list
    }()

    static func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(file)))
    }
}

@Suite struct CorpusTests {
    @Test func theCorpusHasAtLeastSixtyMessagesAndEveryFileIsInTheManifest() throws {
        #expect(Corpus.expected.count >= 60)
        let files = try FileManager.default.contentsOfDirectory(atPath: Corpus.folder.path).filter {
            $0.hasSuffix(".eml")
        }
        #expect(Set(files) == Set(Corpus.expected.map(\.file)))
    }

    @Test(arguments: Corpus.expected)
    func eachMessageReadsAsItsManifestSays(_ expected: Corpus.Expected) throws {
        let message = BounceReader.inspect(try Corpus.bytes(expected.file))
        #expect(message.kind.rawValue == expected.kind)
        let reports = message.reports.map {
            Corpus.Expected.Report(
                recipient: $0.recipient, status: $0.status, class: $0.bounceClass.rawValue, reason: $0.reason)
        }
        #expect(reports == expected.reports)
    }

    @Test func aDSNQuotesTheOriginalMessagesHeadersAndTheVERPAddress() throws {
        let message = BounceReader.inspect(try Corpus.bytes("postfix-user-unknown.eml"))
        #expect(message.original.returnPath == "bounces+r20261130s0004k7q2xa@bounce.news.example.org")
        #expect(message.original.to == "ana.lopez@example.com")
        #expect(message.original.messageID == "<2026-11-30.4@news.example.org>")
        #expect(message.deliveredTo == "bounces+r20261130s0004k7q2xa@bounce.news.example.org")
        #expect(message.reports.first?.replyCode == "550")
        #expect(message.reports.first?.diagnostic.hasPrefix("550 5.1.1 <ana.lopez@example.com>") == true)
    }

    @Test func aComplaintWithoutReturnPathTakesOriginalMailFrom() throws {
        let message = BounceReader.inspect(try Corpus.bytes("arf-yahoo-cfl.eml"))
        #expect(message.original.returnPath == "bounces+r20261130s0064k7q2xa@bounce.news.example.org")
        #expect(message.format == "arf")
    }

    @Test func aPlainTextNoticeQuotesTheOriginalAfterItsMarker() throws {
        let message = BounceReader.inspect(try Corpus.bytes("qmail-no-mailbox.eml"))
        #expect(message.format == "qmail")
        #expect(message.original.to == "mm.clark@example.com")
        #expect(message.original.returnPath == "bounces+r20261130s0046k7q2xa@bounce.news.example.org")
    }

    @Test func theJSONHasTheDocumentedSnakeCaseKeys() throws {
        let message = BounceReader.inspect(try Corpus.bytes("gmail-user-unknown.eml"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(message), as: UTF8.self)
        for key in [
            "\"kind\":\"bounce\"", "\"reports\":[", "\"recipient\":\"k.osei@gmail.com\"", "\"status\":\"5.1.1\"",
            "\"reply_code\":\"550\"", "\"class\":\"hard\"", "\"reason\":\"mailbox-unknown\"", "\"diagnostic\":",
            "\"return_path\":", "\"message_id\":", "\"delivered_to\":", "\"format\":\"dsn\"",
        ] {
            #expect(json.contains(key), "\(key) missing from \(json)")
        }
    }
}

@Suite struct ClassificationRuleTests {
    @Test(arguments: [
        ("5.7.1", "550", "Message rejected as spam", BounceClass.none, "spam"),
        ("5.7.26", "550", "Unauthenticated email is not accepted due to domain's DMARC policy", .none, "policy"),
        ("4.7.1", "450", "Temporary policy rejection", .soft, "policy"),
        ("4.2.0", "450", "Greylisted, please try again later", .soft, "greylisted"),
        ("5.2.2", "552", "Mailbox full", .soft, "mailbox-full"),
        ("5.1.1", "550", "No such user", .hard, "mailbox-unknown"),
        ("5.0.0", "550", "Something nobody understands", .soft, "unknown"),
    ])
    func refusalsOfTheMessageNeverRemoveAReaderByThemselves(
        _ status: String, _ code: String, _ text: String, _ expectedClass: BounceClass, _ reason: String
    ) {
        let (bounceClass, found) = FailureClassifier.classify(
            status: status, replyCode: code, diagnostic: text, permanent: true)
        #expect(bounceClass == expectedClass)
        #expect(found == reason)
    }
}
