import DigestMail
import DigestTestSupport
import Foundation
import Testing

@testable import DigestDNS

/// The checks on recorded answers: no network.
@Suite("DNS checks on recorded answers")
struct CheckerTests {
    static let key = Result { try DNSTestZone.key("rsa2048.pem", selector: "s1", domain: "example.org") }

    func setup(
        keys: [DKIMKey]? = nil, bounce: String = "example.org", relay: String? = "relay.example.net"
    ) throws -> DNSCheckSetup {
        let signing = try (keys ?? [Self.key.get()]).map {
            DNSCheckSetup.SigningKey(key: $0, file: "keys/\($0.selector).pem")
        }
        return DNSCheckSetup(
            fromDomain: "example.org", signingKeys: signing, bounceDomain: bounce, relayHost: relay,
            unsubscribeURL: "https://www.example.org/unsubscribe")
    }

    func goodAnswers() throws -> [String: DNSAnswer] {
        let key = try Self.key.get()
        return [
            "s1._domainkey.example.org TXT": DNSAnswer(records: [.txt([key.dnsRecordValue])]),
            "example.org TXT": DNSAnswer(records: [
                .txt(["google-site-verification=abc"]), .txt(["v=spf1 include:_spf.example.net -all"]),
            ]),
            "_spf.example.net TXT": DNSAnswer(records: [.txt(["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"])]),
            "relay.example.net A": DNSAnswer(records: [.a("192.0.2.25")]),
            "relay.example.net AAAA": DNSAnswer(records: [.aaaa("2001:db8::25")]),
            "_dmarc.example.org TXT": DNSAnswer(records: [.txt(["v=DMARC1; p=reject; rua=mailto:d@example.org"])]),
            "example.org MX": DNSAnswer(records: [.mx(preference: 10, host: "mx.example.org")]),
            "www.example.org A": DNSAnswer(records: [.a("192.0.2.80")]),
        ]
    }

    @Test func aCompleteSetUpIsReady() throws {
        let findings = DNSChecker.findings(try setup(), lookup: RecordedDNS(try goodAnswers()))
        #expect(findings.allSatisfy { $0.severity == .ok }, "\(findings)")
        #expect(findings.map(\.check) == ["DKIM", "SPF", "DMARC", "alignment", "MX", "unsubscribe"])
        let report = DNSReport(findings)
        #expect(report.isReady)
        #expect(report.text.hasSuffix("\nready\n"))
        #expect(
            report.text.hasPrefix("example.org\n  ok      DKIM: the key at s1._domainkey.example.org (rsa, 2048 bits)"))
    }

    @Test func theRelaysMissingAddressIsAddedBeforeAll() throws {
        var answers = try goodAnswers()
        answers["example.org TXT"] = DNSAnswer(records: [.txt(["v=spf1 mx ~all"])])
        let findings = DNSChecker.findings(try setup(), lookup: RecordedDNS(answers))
        let spf = try #require(findings.first { $0.check == "SPF" })
        #expect(spf.severity == .error)
        #expect(
            spf.message.hasPrefix(
                "the SPF record of example.org does not authorise the relay relay.example.net (192.0.2.25: softfail, "
                    + "2001:db8::25: softfail)"))
        #expect(spf.record?.value == "v=spf1 mx ip4:192.0.2.25 ip6:2001:db8::25 ~all")
        #expect(spf.record?.zoneLine == "example.org. 3600 IN TXT \"v=spf1 mx ip4:192.0.2.25 ip6:2001:db8::25 ~all\"")
    }

    @Test func theConfiguredIncludeIsLookedForThroughIncludes() throws {
        var answers = try goodAnswers()
        answers["example.org TXT"] = DNSAnswer(records: [.txt(["v=spf1 include:_spf.example.org ~all"])])
        answers["_spf.example.org TXT"] = DNSAnswer(records: [.txt(["v=spf1 include:mailgun.org ~all"])])
        answers["mailgun.org TXT"] = DNSAnswer(records: [.txt(["v=spf1 ip4:198.51.100.0/24 ~all"])])
        var configured = try setup()
        configured.spfInclude = "mailgun.org"
        let found = DNSChecker.spf(configured, lookup: RecordedDNS(answers))
        #expect(found.map(\.severity) == [.ok])
        configured.spfInclude = "sendgrid.net"
        let missing = DNSChecker.spf(configured, lookup: RecordedDNS(answers))
        #expect(missing.first?.record?.value == "v=spf1 include:_spf.example.org include:sendgrid.net ~all")
    }

    @Test func aDMARCRecordIsTakenFromTheOrganisationalDomain() throws {
        var answers = try goodAnswers()
        answers["_dmarc.example.org TXT"] = DNSAnswer(records: [
            .txt(["v=DMARC1; p=reject; sp=none; rua=mailto:d@example.org"])
        ])
        let key = try DNSTestZone.key("rsa2048.pem", selector: "s1", domain: "news.example.org")
        var configured = try setup(keys: [key])
        configured.fromDomain = "news.example.org"
        let (findings, record) = DNSChecker.dmarc(configured, lookup: RecordedDNS(answers))
        #expect(record?.policy == .reject)
        #expect(findings.first?.severity == .warning)
        #expect(
            findings.first?.record
                == RecordToPublish(
                    name: "_dmarc.example.org", type: "TXT",
                    value: "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.org"))
        #expect(
            findings.first?.message
                == "the DMARC policy of news.example.org is p=none (from the organisational domain's record "
                + "_dmarc.example.org): receivers take no action on mail that fails, so anyone can send as news.example.org"
        )
    }

    @Test func strictAlignmentWantsTheExactDomain() throws {
        let dmarc = try DMARCRecord.parse("v=DMARC1; p=reject; aspf=s; rua=mailto:d@example.org")
        let findings = DNSChecker.alignment(try setup(bounce: "bounce.example.org"), dmarc: dmarc)
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings[0].message.contains("(aspf=s, strict)"))
        #expect(findings[0].message.contains("DMARC rests on DKIM alone"))
    }

    @Test func neitherAlignedIsAnErrorWithTheKeyToPublishUnderFrom() throws {
        let key = try DNSTestZone.key("rsa2048.pem", selector: "s1", domain: "esp.example.net")
        let findings = DNSChecker.alignment(try setup(keys: [key], bounce: "bounces.example.net"), dmarc: nil)
        #expect(findings.map(\.severity) == [.error, .error])
        #expect(findings[1].record?.name == "s1._domainkey.example.org")
        #expect(findings[1].record?.value == key.dnsRecordValue)
    }

    @Test func anUnansweredLookupIsReportedAsNotChecked() throws {
        let lookup = RecordedDNS(try goodAnswers(), failures: ["_dmarc.example.org TXT"])
        let report = DNSReport(DNSChecker.findings(try setup(), lookup: lookup))
        #expect(report.onlyLookupsFailed)
        #expect(
            report.errors.map(\.message) == [
                "could not look up _dmarc.example.org: the DNS server did not answer in 3.0 s"
            ])
        #expect(report.summary == "1 other problem to fix")
    }

    @Test func ed25519AloneIsAWarningAndANullMXAnError() throws {
        let ed = try DKIMKey.generate(.ed25519SHA256, selector: "e1", domain: "example.org")
        var answers = try goodAnswers()
        answers["e1._domainkey.example.org TXT"] = DNSAnswer(records: [.txt([ed.dnsRecordValue])])
        answers["example.org MX"] = DNSAnswer(records: [.mx(preference: 0, host: "")])
        let findings = DNSChecker.findings(try setup(keys: [ed]), lookup: RecordedDNS(answers))
        #expect(findings.contains { $0.severity == .warning && $0.message.hasPrefix("digest signs only with Ed25519") })
        #expect(findings.contains { $0.severity == .error && $0.check == "MX" && $0.message.contains("null MX") })
    }

    @Test func aLocalRelayCannotBeCheckedAndSaysSo() throws {
        let findings = DNSChecker.spf(try setup(relay: "localhost"), lookup: RecordedDNS(try goodAnswers()))
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings[0].message.hasPrefix("the relay is on this machine (localhost)"))
    }
}

@Suite("SPF evaluation on recorded answers")
struct SPFEvaluationTests {
    static let answers: [String: DNSAnswer] = [
        "example.org TXT": DNSAnswer(records: [.txt(["v=spf1 mx a:web.example.org/24 include:_a.example.org ~all"])]),
        "_a.example.org TXT": DNSAnswer(records: [.txt(["v=spf1 include:_b.example.org redirect=_c.example.org"])]),
        "_b.example.org TXT": DNSAnswer(records: [.txt(["v=spf1 ip6:2001:db8:1::/48 -all"])]),
        "_c.example.org TXT": DNSAnswer(records: [.txt(["v=spf1 exists:ok.example.org include:gone.example.org -all"])]
        ),
        "example.org MX": DNSAnswer(records: [.mx(preference: 10, host: "mx.example.org")]),
        "mx.example.org A": DNSAnswer(records: [.a("198.51.100.5")]),
        "web.example.org A": DNSAnswer(records: [.a("203.0.113.77")]),
    ]

    @Test func lookupsAreCountedThroughIncludesAndRedirects() throws {
        let record = try SPFRecord.parse(try #require(Self.answers["example.org TXT"]?.texts.first))
        let count = SPFEvaluator.countLookups(record, lookup: RecordedDNS(Self.answers))
        // mx, a, include:_a (include:_b, redirect=_c (exists, include:gone)).
        #expect(count.total == 7)
        #expect(count.parts.map(\.term) == ["include:_a.example.org"])
        #expect(count.parts.map(\.count) == [5])
        #expect(count.broken == ["gone.example.org"])
    }

    @Test(arguments: [
        ("198.51.100.5", SPFEvaluator.Result.pass),  // mx
        ("203.0.113.200", .pass),  // a:web.example.org/24
        ("2001:db8:1::9", .pass),  // include:_b
        ("192.0.2.1", .permerror),  // on to redirect=_c: exists does not match, include:gone has no record
    ])
    func relayAddressesAreEvaluatedAsAReceiverWould(address: String, expected: SPFEvaluator.Result) {
        var evaluator = SPFEvaluator(lookup: RecordedDNS(Self.answers))
        #expect(evaluator.check(address, domain: "example.org") == expected)
    }

    @Test func cidrMatching() {
        #expect(CIDR.contains(network: "192.0.2.0", prefix: 25, address: "192.0.2.127"))
        #expect(!CIDR.contains(network: "192.0.2.0", prefix: 25, address: "192.0.2.128"))
        #expect(CIDR.contains(network: "2001:db8::", prefix: 33, address: "2001:db8:7fff::1"))
        #expect(!CIDR.contains(network: "2001:db8::", prefix: 33, address: "2001:db8:8000::1"))
        #expect(!CIDR.contains(network: "192.0.2.0", prefix: 24, address: "2001:db8::1"))
        #expect(CIDR.contains(network: "0.0.0.0", prefix: 0, address: "203.0.113.9"))
    }
}

/// Counts the questions it is asked, and answers none.
final class DeadResolver: DNSLookup, @unchecked Sendable {
    private let lock = NSLock()
    private var asked = 0

    var questions: Int {
        lock.lock()
        defer { lock.unlock() }
        return asked
    }

    func query(_ name: String, _ type: DNSType) throws -> DNSAnswer {
        lock.lock()
        asked += 1
        lock.unlock()
        throw DNSFailure("the DNS server 192.0.2.53:53 did not answer in 3.0 s")
    }
}

@Suite("DNS checks with a dead resolver")
struct DeadResolverTests {
    @Test func theChecksStopAskingAfterThreeFailuresInARow() throws {
        let dead = DeadResolver()
        let key = try DNSTestZone.key("rsa2048.pem", selector: "s1", domain: "example.org")
        let setup = DNSCheckSetup(
            fromDomain: "example.org", signingKeys: [.init(key: key, file: "keys/s1.pem")],
            bounceDomain: "example.org", relayHost: "relay.example.net",
            unsubscribeURL: "https://www.example.org/u")
        let report = DNSReport(DNSChecker.findings(setup, lookup: dead))
        #expect(dead.questions == 3)
        #expect(report.onlyLookupsFailed)
        #expect(
            report.errors.last?.message
                == "could not look up www.example.org A: not asked: the resolver failed the lookups before "
                + "(the DNS server 192.0.2.53:53 did not answer in 3.0 s)")
    }
}
