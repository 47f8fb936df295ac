import DigestMail
import Foundation

/// Tests/Support/dns_server.py: a real DNS server (dnslib) on a loopback port, UDP and TCP, serving the
/// records of a zone written by the test. UDP answers over 512 bytes come back truncated.
public final class DNSTestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// `zone`: one record a line in zone-file syntax (`name. 300 IN TXT "v=spf1 -all"`).
    public init(zone: [String]) throws {
        let folder = try Repository.temporaryFolder("dns-zone")
        let file = folder.appendingPathComponent("zone.txt")
        try (zone.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let script = Repository.root.appendingPathComponent("Tests/Support/dns_server.py").path
        (process, port) = try PythonServer.start(
            [script, "--zone", file.path], what: "the test DNS server (is dnslib installed?)")
    }

    deinit {
        stop()
    }

    public func stop() {
        PythonServer.stop(process)
    }

    /// `127.0.0.1:PORT`, for --resolver.
    public var address: String { "127.0.0.1:\(port)" }

    /// A TXT record in zone syntax, its value cut into strings of at most 255 characters.
    public static func txt(_ name: String, _ value: String) -> String {
        var strings: [String] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            strings.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        if strings.isEmpty { strings = ["\"\""] }
        return "\(name). 300 IN TXT \(strings.joined(separator: " "))"
    }
}

/// The test zone of the DNS checks: good.test is ready to send; broken.test (signing with rsa2048.pem) has
/// a mismatched and a revoked DKIM key, an SPF record of 11 lookups and no DMARC; open.test has +all and p=none;
/// bounces.mailer.test is a bounce domain that does not align with good.test.
public enum DNSTestZone {
    /// The keys: `good` (RSA 2048, selector s1), `big` (RSA 4096, selector big).
    /// Loaded once each: BoringSSL, built without optimisation in debug, takes about a second to check a
    /// 4096-bit key.
    public static func key(_ file: String, selector: String, domain: String) throws -> DKIMKey {
        let name = "\(file) \(selector) \(domain)"
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let key = cache[name] { return key }
        let pem = try String(
            contentsOf: Repository.root.appendingPathComponent("Tests/DigestDNSTests/Fixtures/\(file)"), encoding: .utf8
        )
        let key = try DKIMKey(selector: selector, domain: domain, pem: pem)
        cache[name] = key
        return key
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: DKIMKey] = [:]

    public static func records() throws -> [String] {
        let good = try key("rsa2048.pem", selector: "s1", domain: "good.test")
        let big = try key("rsa4096.pem", selector: "big", domain: "good.test")
        // Another key than the one broken.test signs with (rsa2048.pem): the 4096-bit one.
        let other = big
        let hosts = (1...8).map { "a:h\($0).broken.test" }.joined(separator: " ")
        return [
            DNSTestServer.txt("s1._domainkey.good.test", good.dnsRecordValue),
            DNSTestServer.txt("big._domainkey.good.test", big.dnsRecordValue),
            DNSTestServer.txt("good.test", "v=spf1 ip4:192.0.2.10 ~all"),
            DNSTestServer.txt("good.test", "google-site-verification=abc"),
            "relay.good.test. 300 IN A 192.0.2.10",
            DNSTestServer.txt("_dmarc.good.test", "v=DMARC1; p=quarantine; rua=mailto:dmarc@good.test"),
            "good.test. 300 IN MX 10 mx.good.test.",
            "www.good.test. 300 IN A 192.0.2.80",
            DNSTestServer.txt("mismatch._domainkey.broken.test", other.dnsRecordValue),
            DNSTestServer.txt("revoked._domainkey.broken.test", "v=DKIM1; k=rsa; p="),
            DNSTestServer.txt("broken.test", "v=spf1 a mx include:more.broken.test ip4:192.0.2.10 ~all"),
            DNSTestServer.txt("more.broken.test", "v=spf1 \(hosts) -all"),
            "broken.test. 300 IN MX 10 mx.broken.test.",
            DNSTestServer.txt("s1._domainkey.open.test", good.dnsRecordValue),
            DNSTestServer.txt("open.test", "v=spf1 ip4:192.0.2.10 +all"),
            DNSTestServer.txt("_dmarc.open.test", "v=DMARC1; p=none; rua=mailto:d@open.test"),
            "open.test. 300 IN MX 10 mx.open.test.",
            DNSTestServer.txt("bounces.mailer.test", "v=spf1 ip4:192.0.2.10 ~all"),
            "bounces.mailer.test. 300 IN MX 10 mx.mailer.test.",
        ]
    }
}
