import DigestTestSupport
import Foundation
import Testing

/// `digest dns check` against the test DNS server, run as the editor would.
@Suite("digest dns check", .serialized)
struct DNSCommandTests {
    /// A workspace sending as `digest@DOMAIN` through relay.good.test, signing with the 2048-bit test key.
    func workspace(domain: String, selector: String = "s1") throws -> URL {
        let folder = try Repository.temporaryFolder("dns-workspace")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("keys"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Repository.root.appendingPathComponent("Tests/DigestDNSTests/Fixtures/rsa2048.pem"),
            to: folder.appendingPathComponent("keys/\(selector).pem"))
        let yaml = """
            name: Test Digest
            domain: \(domain)
            sender:
              name: Test Digest
              address: digest@\(domain)
            time_zone: Europe/London
            smtp:
              url: smtp://relay.good.test:587
            postal_address: 1 Example Street
            unsubscribe_url: https://www.good.test/unsubscribe
            dkim:
              signatures:
                - selector: \(selector)
                  key_file: keys/\(selector).pem

            """
        try yaml.write(to: folder.appendingPathComponent("publication.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    func digest(_ arguments: [String]) async throws -> ProcessResult {
        try await DigestBinary().digest(arguments)
    }

    @Test func aReadyPublicationSaysReadyAndExitsZero() async throws {
        let server = try DNSTestServer(zone: try DNSTestZone.records())
        defer { server.stop() }
        let folder = try workspace(domain: "good.test")
        let result = try await digest(["dns", "check", "--resolver", server.address, "--workspace", folder.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout == """
                good.test
                  ok      DKIM: the key at s1._domainkey.good.test (rsa, 2048 bits) matches keys/s1.pem
                  ok      SPF: the SPF record of good.test authorises the relay relay.good.test (0 of 10 lookups)
                  ok      DMARC: DMARC for good.test: p=quarantine, adkim=r, aspf=r
                  ok      alignment: DKIM d=good.test and the bounce domain good.test align with From good.test (DKIM relaxed, SPF relaxed)
                  ok      MX: bounces to good.test go to 10 mx.good.test
                www.good.test
                  ok      unsubscribe: the unsubscribe host www.good.test resolves (192.0.2.80)
                ready

                """)
    }

    @Test func checkWithDNSRunsTheSameChecksFirstAndStopsOnMissingRecords() async throws {
        let server = try DNSTestServer(zone: try DNSTestZone.records())
        defer { server.stop() }
        for (domain, status) in [("good.test", Int32(0)), ("broken.test", Int32(65))] {
            let folder = try workspace(domain: domain)
            for name in ["Templates", "Editions"] {
                try FileManager.default.copyItem(
                    at: Repository.root.appendingPathComponent(name), to: folder.appendingPathComponent(name))
            }
            let result = try await digest([
                "check", "2017-11-18", "--offline", "--dns", "--resolver", server.address, "--workspace", folder.path,
            ])
            #expect(result.status == status, "\(domain): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.hasPrefix(domain + "\n"), "\(result.stdout)")
            #expect(result.stdout.contains("Checking Editions/2017-11-18/edition.yaml"))
            if status != 0 { #expect(result.stderr.contains("the publication's DNS has records to publish")) }
        }
    }

    @Test func aBrokenPublicationListsTheRecordsToPublishAndExits65() async throws {
        let server = try DNSTestServer(zone: try DNSTestZone.records())
        defer { server.stop() }
        let folder = try workspace(domain: "open.test")
        let result = try await digest(["dns", "check", "--resolver", server.address, "--workspace", folder.path])
        #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "open.test")
        #expect(lines.contains("      publish: open.test. 3600 IN TXT \"v=spf1 ip4:192.0.2.10 ~all\""))
        #expect(lines.contains { $0.hasPrefix("  error   SPF: the SPF record of open.test ends +all") })
        #expect(lines.contains { $0.hasPrefix("  warning DMARC: the DMARC policy of open.test is p=none") })
        #expect(lines.last == "1 record to publish")

        let json = try await digest([
            "dns", "check", "--resolver", server.address, "--workspace", folder.path, "--json",
        ])
        #expect(json.status == 65)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["ready"] as? Bool == false)
        let findings = object?["findings"] as? [[String: Any]] ?? []
        let spf = findings.first { $0["check"] as? String == "SPF" }
        #expect((spf?["record"] as? [String: Any])?["value"] as? String == "v=spf1 ip4:192.0.2.10 ~all")
    }

    @Test func aResolverThatDoesNotAnswerExitsOne() async throws {
        // A UDP port nothing listens on: the lookups are refused at once, every check says it could not run.
        let folder = try workspace(domain: "good.test")
        let result = try await digest([
            "dns", "check", "--resolver", "127.0.0.1:9", "--timeout", "1", "--workspace", folder.path,
        ])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("could not look up s1._domainkey.good.test"))
    }
}
