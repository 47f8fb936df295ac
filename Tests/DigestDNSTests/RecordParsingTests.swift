import DigestMail
import DigestTestSupport
import Foundation
import Testing

@testable import DigestDNS

@Suite("DNS record parsing")
struct RecordParsingTests {
    @Test func dkimRecordStringsAreJoinedAndTagsRead() throws {
        let answer = DNSAnswer(records: [.txt(["v=DKIM1; k=rsa; ", "p=AAEC", "Aw=="])])
        let record = try DKIMKeyRecord.parse(answer.texts[0])
        #expect(record.keyType == "rsa")
        #expect(record.publicKey == [0, 1, 2, 3])
        #expect(!record.isRevoked)
    }

    @Test func dkimRecordDefaultsToRSAAndReadsFlagsWithFoldingWhitespace() throws {
        let record = try DKIMKeyRecord.parse(" p = AAEC Aw== ;\r\n t=y:s ; h=sha256 ")
        #expect(record.keyType == "rsa")
        #expect(record.publicKey == [0, 1, 2, 3])
        #expect(record.isTesting)
        #expect(record.hashes == ["sha256"])
    }

    @Test func emptyPMeansRevoked() throws {
        #expect(try DKIMKeyRecord.parse("v=DKIM1; k=ed25519; p=").isRevoked)
    }

    @Test(arguments: [
        ("v=DKIM1; k=rsa", "there is no p= (the public key)"),
        ("v=DKIM2; p=AAEC", "v= must be DKIM1, not 'DKIM2'"),
        ("k=rsa; v=DKIM1; p=AAEC", "v=DKIM1 must come first"),
        ("v=DKIM1; p=AAEC; p=AAEC", "the tag p= appears twice"),
        ("v=DKIM1; p=!!!", "p= is not base64"),
        ("v=DKIM1; garbage; p=AAEC", "'garbage' is not tag=value"),
    ])
    func brokenDKIMRecordsSayWhy(text: String, reason: String) {
        #expect(throws: RecordSyntaxError(reason)) { try DKIMKeyRecord.parse(text) }
    }

    @Test func publishedKeyMatchesOnlyItsOwnPrivateKey() throws {
        let key = try DNSTestZone.key("rsa2048.pem", selector: "s", domain: "example.org")
        let other = try DNSTestZone.key("rsa4096.pem", selector: "s", domain: "example.org")
        let record = try DKIMKeyRecord.parse(key.dnsRecordValue)
        #expect(key.matchesPublishedKey(record.publicKey))
        #expect(!other.matchesPublishedKey(record.publicKey))
        #expect(DKIMKey.publishedRSABits(record.publicKey) == 2048)
        let ed = try DKIMKey.generate(.ed25519SHA256, selector: "e", domain: "example.org")
        #expect(ed.matchesPublishedKey(try DKIMKeyRecord.parse(ed.dnsRecordValue).publicKey))
        #expect(!key.matchesPublishedKey(try DKIMKeyRecord.parse(ed.dnsRecordValue).publicKey))
    }

    /// A `p=` from DNS is anybody's bytes: truncated or corrupted at any place, it is "not this key", never a
    /// crash. (Read through swift-crypto's DER initializer, such bytes freed a key twice: an abort.) The bare
    /// PKCS#1 form verifiers accept matches too.
    @Test func truncatedOrCorruptedPublishedKeysNeverCrashAndNeverMatch() throws {
        let key = try DNSTestZone.key("rsa2048.pem", selector: "s", domain: "example.org")
        let published = try DKIMKeyRecord.parse(key.dnsRecordValue).publicKey
        // SubjectPublicKeyInfo of a 2048-bit key: a 24-byte outline, then the RSAPublicKey.
        let pkcs1 = Array(published.dropFirst(24))
        #expect(pkcs1.first == 0x30)
        #expect(key.matchesPublishedKey(pkcs1))
        #expect(DKIMKey.publishedRSABits(pkcs1) == 2048)
        for length in 0..<published.count {
            let cut = Array(published.prefix(length))
            #expect(!key.matchesPublishedKey(cut))
            _ = DKIMKey.publishedRSABits(cut)
        }
        for index in 0..<published.count {
            var flipped = published
            flipped[index] ^= 0xA5
            _ = key.matchesPublishedKey(flipped)
            _ = DKIMKey.publishedRSABits(flipped)
        }
    }

    @Test func spfMechanismsQualifiersAndModifiers() throws {
        let record = try SPFRecord.parse(
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.org/28//64 -include:_spf.example.net "
                + "?exists:x.example.org ptr ~all redirect=_spf.example.org exp=explain.example.org unknown=1")
        #expect(
            record.directives.map(\.mechanism) == [
                .ip4("192.0.2.0", prefix: 24), .ip6("2001:db8::", prefix: 32), .a(nil, v4: nil, v6: nil),
                .mx("mail.example.org", v4: 28, v6: 64), .include("_spf.example.net"), .exists("x.example.org"),
                .ptr(nil), .all,
            ])
        #expect(record.directives.map(\.qualifier.rawValue) == ["+", "+", "+", "+", "-", "?", "+", "~"])
        #expect(record.redirect == "_spf.example.org")
        #expect(record.explanation == "explain.example.org")
        #expect(record.allQualifier == .softfail)
    }

    @Test(arguments: [
        ("v=spf1 include", "'include' needs a domain (include:example.com)"),
        ("v=spf1 ip4:300.1.1.1 -all", "'ip4:300.1.1.1': '300.1.1.1' is not an IPv4 address"),
        ("v=spf1 ip4:192.0.2.1/33", "'ip4:192.0.2.1/33' has a bad prefix length"),
        ("v=spf1 foo:bar", "'foo:bar' is not an SPF mechanism"),
        ("v=spf1 redirect=a.org redirect=b.org", "redirect= appears twice"),
        ("v=spf1 allx", "'allx' is not an SPF mechanism"),
    ])
    func brokenSPFRecordsSayWhy(text: String, reason: String) {
        #expect(throws: RecordSyntaxError(reason)) { try SPFRecord.parse(text) }
    }

    @Test func spfFixesKeepTheRestOfTheRecord() throws {
        let record = try SPFRecord.parse("v=spf1 include:_spf.example.net ?all")
        #expect(record.adding("ip4:192.0.2.7") == "v=spf1 include:_spf.example.net ip4:192.0.2.7 ?all")
        #expect(record.replacingAll(with: "~all") == "v=spf1 include:_spf.example.net ~all")
        #expect(try SPFRecord.parse("v=spf1 a").replacingAll(with: "~all") == "v=spf1 a ~all")
        #expect(!SPFRecord.isSPF("v=spf10 -all"))
    }

    @Test func dmarcTagsAndDefaults() throws {
        let record = try DMARCRecord.parse(
            "v=DMARC1; p=quarantine; sp=reject; adkim=s; rua=mailto:d@example.org; pct=50")
        #expect(record.policy == .quarantine)
        #expect(record.subdomainPolicy == .reject)
        #expect(record.dkimAlignment == .strict)
        #expect(record.spfAlignment == .relaxed)
        #expect(record.reportAddresses == ["mailto:d@example.org"])
        #expect(record.percent == 50)
        // Without p= but with rua=, receivers read p=none (RFC 7489 §6.6.3).
        #expect(try DMARCRecord.parse("v=DMARC1; rua=mailto:d@example.org").policy == DMARCRecord.Policy.none)
        #expect(throws: RecordSyntaxError("p= must be none, quarantine or reject, not 'block'")) {
            try DMARCRecord.parse("v=DMARC1; p=block")
        }
        #expect(throws: RecordSyntaxError("a DMARC record starts with v=DMARC1")) {
            try DMARCRecord.parse("p=none; v=DMARC1")
        }
    }

    @Test func organisationalDomainsAndAlignment() {
        #expect(OrganizationalDomain.of("news.example.org") == "example.org")
        #expect(OrganizationalDomain.of("a.b.example.co.uk") == "example.co.uk")
        #expect(OrganizationalDomain.of("Example.COM.") == "example.com")
        #expect(OrganizationalDomain.aligned("bounce.example.org", with: "example.org", mode: .relaxed))
        #expect(!OrganizationalDomain.aligned("bounce.example.org", with: "example.org", mode: .strict))
        #expect(!OrganizationalDomain.aligned("example.co.uk", with: "other.co.uk", mode: .relaxed))
    }

    @Test func wireAnswersWithCompressedNamesAndSeveralTXTStrings() throws {
        let question = try DNSWire.query(id: 0x1234, name: "example.org", type: .mx)
        // Header: answer, RD+RA, one question, three answers; then the question and the answers, whose
        // names point back at the question's (offset 12).
        var reply: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0] + Array(question[12...])
        reply += [0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10, 4] + Array("mail".utf8) + [0xC0, 12]
        reply += [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6, 2] + Array("ab".utf8) + [2] + Array("cd".utf8)
        reply +=
            [0xC0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11)
            + [1]
        let parsed = try DNSWire.parse(reply)
        #expect(parsed.id == 0x1234)
        #expect(!parsed.truncated)
        #expect(parsed.answer.exchangers.map(\.host) == ["mail.example.org"])
        #expect(parsed.answer.texts == ["abcd"])
        #expect(parsed.answer.addresses == ["2001:db8::1"])
        #expect(throws: DNSFailure.self) { try DNSWire.parse(Array(reply.prefix(40))) }
    }

    @Test func resolverAddresses() {
        #expect(DNSServer("127.0.0.1:5353") == DNSServer(host: "127.0.0.1", port: 5353))
        #expect(DNSServer("10.0.0.1") == DNSServer(host: "10.0.0.1", port: 53))
        #expect(DNSServer("[::1]:5300") == DNSServer(host: "::1", port: 5300))
        #expect(DNSServer("::1") == DNSServer(host: "::1", port: 53))
        #expect(DNSServer("dns.example.org:53") == nil)
        #expect(DNSServer("127.0.0.1:0") == nil)
        #expect(
            DNSServer.fromResolvConf("# comment\nnameserver 10.255.255.53\noptions ndots:1\nnameserver ::1\n")
                == [DNSServer(host: "10.255.255.53"), DNSServer(host: "::1")])
    }
}
