import DigestCore
import DigestMail
import DigestTestSupport
import Foundation
import Testing

@testable import DigestDNS

/// The resolver and the checks against a real DNS server on loopback (Tests/Support/dns_server.py).
@Suite("DNS checks against a real DNS server", .serialized)
final class DNSServerTests {
    let server: DNSTestServer
    let client: DNSClient

    init() throws {
        server = try DNSTestServer(zone: try DNSTestZone.records())
        client = DNSClient(servers: [DNSServer(host: "127.0.0.1", port: UInt16(server.port))], timeout: 2)
    }

    deinit {
        server.stop()
    }

    func signing(_ file: String, _ selector: String, _ domain: String) throws -> DNSCheckSetup.SigningKey {
        DNSCheckSetup.SigningKey(
            key: try DNSTestZone.key(file, selector: selector, domain: domain), file: "keys/\(selector).pem")
    }

    func setup(_ domain: String, keys: [DNSCheckSetup.SigningKey], bounce: String? = nil) -> DNSCheckSetup {
        DNSCheckSetup(
            fromDomain: domain, signingKeys: keys, bounceDomain: bounce ?? domain, relayHost: "relay.good.test",
            unsubscribeURL: "https://www.good.test/unsubscribe")
    }

    func stats() async throws -> String {
        let client = self.client
        return try await offThePool { try client.query("stats.test", .txt).texts.joined() }
    }

    @Test func aPublicationWithEverythingPublishedIsReadyAnd4096BitKeysComeOverTCP() async throws {
        let before = try await stats()
        let findings = await DNSChecker.check(
            setup(
                "good.test",
                keys: [try signing("rsa2048.pem", "s1", "good.test"), try signing("rsa4096.pem", "big", "good.test")]),
            lookup: client)
        #expect(findings.allSatisfy { $0.severity == .ok }, "\(DNSReport(findings).text)")
        #expect(
            findings.map(\.message).contains(
                "the key at big._domainkey.good.test (rsa, 4096 bits) matches keys/big.pem"))
        #expect(DNSReport(findings).summary == "ready")
        // The 4096-bit key's record passes 512 bytes: its UDP answer was truncated and asked again over TCP.
        let tcpBefore = Int(before.split(separator: " ")[1].dropFirst(4)) ?? -1
        let tcpAfter = Int(try await stats().split(separator: " ")[1].dropFirst(4)) ?? -1
        #expect(tcpAfter == tcpBefore + 1)
    }

    @Test func mismatchedAndRevokedKeysElevenLookupsAndNoDMARCAreErrorsWithTheirRecords() async throws {
        let mismatch = try signing("rsa2048.pem", "mismatch", "broken.test")
        let revoked = try signing("rsa2048.pem", "revoked", "broken.test")
        let findings = await DNSChecker.check(setup("broken.test", keys: [mismatch, revoked]), lookup: client)
        let errors = findings.filter { $0.severity == .error }
        #expect(
            errors.map(\.message) == [
                "the key published at mismatch._domainkey.broken.test is not the one digest signs with "
                    + "(keys/mismatch.pem): every signature fails",
                "the key at revoked._domainkey.broken.test is revoked (p= is empty): every signature with selector "
                    + "revoked fails; publish the key of keys/revoked.pem, or sign with another selector",
                "the SPF record of broken.test needs 11 DNS lookups (include:more.broken.test 9); over 10 is a "
                    + "permanent error (RFC 7208 §4.6.4): remove includes you no longer use, or replace one with the "
                    + "ip4:/ip6: ranges it lists",
                "broken.test has no DMARC record (none at _dmarc.broken.test)",
            ])
        #expect(
            errors[0].record
                == RecordToPublish(
                    name: "mismatch._domainkey.broken.test", type: "TXT", value: mismatch.key.dnsRecordValue))
        #expect(errors[1].record?.name == "revoked._domainkey.broken.test")
        #expect(errors[2].record == nil)
        #expect(
            errors[3].record
                == RecordToPublish(
                    name: "_dmarc.broken.test", type: "TXT",
                    value: "v=DMARC1; p=none; rua=mailto:dmarc-reports@broken.test"))
        #expect(DNSReport(findings).summary == "3 records to publish, 1 other problem to fix")
    }

    @Test func plusAllIsAnErrorAndPNoneAWarning() async throws {
        let findings = await DNSChecker.check(
            setup("open.test", keys: [try signing("rsa2048.pem", "s1", "open.test")]), lookup: client)
        let spf = try #require(findings.first { $0.check == "SPF" })
        #expect(spf.severity == .error)
        #expect(
            spf.message
                == "the SPF record of open.test ends +all: every server on the internet may send as open.test")
        #expect(spf.record?.zoneLine == "open.test. 3600 IN TXT \"v=spf1 ip4:192.0.2.10 ~all\"")
        let dmarc = try #require(findings.first { $0.check == "DMARC" })
        #expect(dmarc.severity == .warning)
        #expect(dmarc.record?.value == "v=DMARC1; p=quarantine; rua=mailto:d@open.test")
        #expect(findings.filter { $0.severity == .error }.count == 1)
    }

    @Test func aBounceDomainOutsideFromsDomainIsAnAlignmentWarning() async throws {
        let findings = await DNSChecker.check(
            setup("good.test", keys: [try signing("rsa2048.pem", "s1", "good.test")], bounce: "bounces.mailer.test"),
            lookup: client)
        #expect(
            findings.filter { $0.severity != .ok }.map(\.message) == [
                "the bounce domain bounces.mailer.test does not align with From good.test (aspf=r, relaxed): SPF cannot "
                    + "make DMARC pass; DMARC rests on DKIM alone; use a bounce address under good.test"
            ])
        #expect(
            findings.contains {
                $0.check == "MX" && $0.message == "bounces to bounces.mailer.test go to 10 mx.mailer.test"
            })
    }

    @Test func aServerThatDoesNotAnswerTimesOut() async throws {
        let quick = DNSClient(
            servers: [DNSServer(host: "127.0.0.1", port: UInt16(server.port))], timeout: 0.3, attempts: 2)
        // Timed on the blocking thread itself: under a loaded CI machine, getting back onto the cooperative
        // pool can take seconds more.
        let (outcome, seconds) = try await offThePool {
            let started = Date()
            let outcome = Result { try quick.query("x.silent.test", .txt) }
            return (outcome, Date().timeIntervalSince(started))
        }
        #expect(throws: DNSFailure("the DNS server 127.0.0.1:\(server.port) did not answer in 0.3 s")) {
            try outcome.get()
        }
        // Two tries of 0.3 s each, and no hang.
        #expect(seconds >= 0.6 && seconds < 5, "\(seconds) s")
        let missing = try await offThePool { try quick.query("nothing.good.test", .txt) }
        #expect(missing.code == .nameError)
    }

    @Test func aMessageSignedByDigestVerifiesWithDkimpyUsingTheRecordsTheCheckCallsGood() async throws {
        let keys = [
            try DNSTestZone.key("rsa2048.pem", selector: "s1", domain: "good.test"),
            try DNSTestZone.key("rsa4096.pem", selector: "big", domain: "good.test"),
        ]
        let headers: [(name: String, value: String)] = [
            ("From", "Good Digest <digest@good.test>"), ("To", "reader@example.org"), ("Subject", "Today"),
            ("Date", "Sat, 18 Nov 2017 07:00:00 +0000"), ("Message-ID", "<1@good.test>"), ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
        ]
        let body = Array("Hello, reader.\r\n".utf8)
        let signatures = try DKIMSigner(keys: keys).signatures(headers: headers, body: body, timestamp: 1_511_000_000)
        let message = signatures + Array(headers.map { "\($0.name): \($0.value)\r\n" }.joined().utf8) + [13, 10] + body
        let file = try Repository.temporaryFolder("dns-dkim").appendingPathComponent("signed.eml")
        try Data(message).write(to: file)
        let client = self.client
        var records: [String] = []
        for key in keys {
            let name = "\(key.selector)._domainkey.good.test"
            let texts = try await offThePool { try client.query(name, .txt).texts }
            records.append("\(name)=\(texts[0])")
        }
        let findings = await DNSChecker.check(
            setup("good.test", keys: keys.map { .init(key: $0, file: "keys/\($0.selector).pem") }), lookup: client)
        #expect(findings.filter { $0.check == "DKIM" }.map(\.severity) == [.ok, .ok])
        #expect(try await DKIMVerification.verify([file], records: records) == [[true, true]])
    }
}
