import DigestMail
import Foundation

/// What the checks need to know about the publication.
public struct DNSCheckSetup: Sendable {
    /// A key digest signs with, and the file it came from (for the messages).
    public struct SigningKey: Sendable {
        public var key: DKIMKey
        public var file: String

        public init(key: DKIMKey, file: String) {
            self.key = key
            self.file = file
        }
    }

    /// The From address's domain.
    public var fromDomain: String
    public var signingKeys: [SigningKey]
    /// The envelope sender's domain (MAIL FROM), where bounces go and SPF is checked.
    public var bounceDomain: String
    /// The SMTP relay's host, from `smtp.url`.
    public var relayHost: String?
    /// The SPF include the relay's documentation asks for (`smtp.spf_include`).
    public var spfInclude: String?
    /// The `List-Unsubscribe` URL.
    public var unsubscribeURL: String?

    public init(
        fromDomain: String, signingKeys: [SigningKey], bounceDomain: String, relayHost: String?,
        spfInclude: String? = nil, unsubscribeURL: String? = nil
    ) {
        self.fromDomain = fromDomain.lowercased()
        self.signingKeys = signingKeys
        self.bounceDomain = bounceDomain.lowercased()
        self.relayHost = relayHost
        self.spfInclude = spfInclude
        self.unsubscribeURL = unsubscribeURL
    }
}

/// A DNS record for the editor to publish, exactly.
public struct RecordToPublish: Equatable, Sendable, Encodable {
    public var name: String
    public var type: String
    public var value: String

    public init(name: String, type: String, value: String) {
        self.name = name
        self.type = type
        self.value = value
    }

    /// The zone-file line: TXT values in quoted strings of at most 255 characters.
    public var zoneLine: String {
        guard type == "TXT" else { return "\(name). 3600 IN \(type) \(value)" }
        var strings: [String] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            strings.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return "\(name). 3600 IN TXT \(strings.joined(separator: " "))"
    }
}

/// One result of the checks.
public struct DNSFinding: Equatable, Sendable {
    public enum Severity: String, Sendable, Comparable, Encodable {
        case error, warning, ok

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.error, .warning, .ok]
            return order.firstIndex(of: lhs) ?? 0 < order.firstIndex(of: rhs) ?? 0
        }
    }

    public var severity: Severity
    /// The domain the finding is about (the From, DKIM or bounce domain); findings are grouped by it.
    public var domain: String
    /// DKIM, SPF, DMARC, alignment, MX or unsubscribe.
    public var check: String
    /// What is wrong (or right).
    public var message: String
    /// Why it matters: which receiver does what.
    public var why: String?
    public var record: RecordToPublish?
    /// The lookup itself failed (timeout, SERVFAIL): the check could not run.
    public var lookupFailed = false

    public init(
        _ severity: Severity, domain: String, check: String, _ message: String, why: String? = nil,
        record: RecordToPublish? = nil, lookupFailed: Bool = false
    ) {
        self.severity = severity
        self.domain = domain
        self.check = check
        self.message = message
        self.why = why
        self.record = record
        self.lookupFailed = lookupFailed
    }
}

/// A lookup that stops asking once the resolver has failed three times in a row: a dead resolver would
/// otherwise cost every one of the dozen lookups its timeouts and retries (a minute or more).
final class GivingUp: DNSLookup, @unchecked Sendable {
    let lookup: any DNSLookup
    private let lock = NSLock()
    private var failuresInARow = 0
    private var lastFailure: DNSFailure?

    init(_ lookup: any DNSLookup) {
        self.lookup = lookup
    }

    func query(_ name: String, _ type: DNSType) throws -> DNSAnswer {
        lock.lock()
        let skip = failuresInARow >= 3 ? lastFailure : nil
        lock.unlock()
        if let skip { throw DNSFailure("not asked: the resolver failed the lookups before (\(skip))") }
        do {
            let answer = try lookup.query(name, type)
            lock.lock()
            failuresInARow = 0
            lock.unlock()
            return answer
        } catch let failure as DNSFailure {
            lock.lock()
            failuresInARow += 1
            lastFailure = failure
            lock.unlock()
            throw failure
        }
    }
}

/// The receivers' rules the findings cite.
enum Why {
    static let dkim =
        "Since February 2024 Gmail and Yahoo require DKIM of bulk senders: Gmail defers (4.7.30) then refuses "
        + "(550 5.7.30) unsigned or failing mail, Yahoo sends it to spam or refuses it; Outlook.com requires it too "
        + "(550 5.7.515)"
    static let spf =
        "Receivers check the relay's address against the envelope sender's domain: Gmail requires SPF of every "
        + "sender since February 2024 and refuses mail that fails it (550 5.7.27), Yahoo and Outlook.com likewise"
    static let dmarc =
        "Gmail and Yahoo require a DMARC record of bulk senders since February 2024 (Gmail: 4.7.40, then "
        + "550 5.7.40 or 5.7.26); without one a forger's mail looks as good as yours"
    static let alignment =
        "DMARC passes only when SPF or DKIM passes for a domain aligned with From; Gmail refuses bulk mail with "
        + "neither aligned (550 5.7.32, or 5.7.26 under quarantine/reject)"
    static let mx =
        "Bounces (DSNs) come back to the envelope sender's domain; many receivers refuse mail whose sender domain "
        + "cannot receive mail (Postfix's reject_unknown_sender_domain: 550 5.1.8 Sender address rejected)"
    static let unsubscribe =
        "Gmail and Yahoo require one-click unsubscribe (RFC 8058) of bulk senders: the receiver POSTs to this URL; "
        + "if it does not resolve, readers' unsubscribes fail and turn into spam reports"
}

/// Runs the checks. Blocking lookups; `check(_:lookup:)` runs them on a thread of their own.
public enum DNSChecker {
    /// The findings, off Swift's cooperative pool (each lookup blocks for up to its timeout).
    public static func check(_ setup: DNSCheckSetup, lookup: any DNSLookup) async -> [DNSFinding] {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: findings(setup, lookup: lookup)) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    public static func findings(_ setup: DNSCheckSetup, lookup given: any DNSLookup) -> [DNSFinding] {
        let lookup = GivingUp(given)
        var findings: [DNSFinding] = []
        findings += dkim(setup, lookup: lookup)
        findings += spf(setup, lookup: lookup)
        let (dmarcFindings, dmarc) = self.dmarc(setup, lookup: lookup)
        findings += dmarcFindings
        findings += alignment(setup, dmarc: dmarc)
        findings += mx(setup, lookup: lookup)
        findings += unsubscribe(setup, lookup: lookup)
        return findings
    }

    static func failed(_ domain: String, _ check: String, _ name: String, _ failure: DNSFailure) -> DNSFinding {
        DNSFinding(
            .error, domain: domain, check: check, "could not look up \(name): \(failure)",
            why: "the check did not run; try again, or name a resolver with --resolver HOST:PORT", lookupFailed: true)
    }

    // MARK: DKIM

    static func dkim(_ setup: DNSCheckSetup, lookup: any DNSLookup) -> [DNSFinding] {
        guard !setup.signingKeys.isEmpty else {
            return [
                DNSFinding(
                    .error, domain: setup.fromDomain, check: "DKIM",
                    "digest does not sign: publication.yaml has no dkim: section; run digest dkim keygen "
                        + "--selector digest1 and add it", why: Why.dkim)
            ]
        }
        var findings: [DNSFinding] = []
        for signing in setup.signingKeys {
            let key = signing.key
            let name = "\(key.selector)._domainkey.\(key.domain)"
            let publish = RecordToPublish(name: name, type: "TXT", value: key.dnsRecordValue)
            func finding(_ severity: DNSFinding.Severity, _ message: String, why: String? = Why.dkim) -> DNSFinding {
                DNSFinding(
                    severity, domain: key.domain, check: "DKIM", message, why: why,
                    record: severity == .ok ? nil : publish)
            }
            let answer: DNSAnswer
            do {
                answer = try lookup.query(name, .txt)
            } catch {
                findings.append(failed(key.domain, "DKIM", name, error as? DNSFailure ?? DNSFailure("\(error)")))
                continue
            }
            let texts = answer.texts.filter { $0.contains("p=") || $0.hasPrefix("v=DKIM1") }
            guard let text = texts.first else {
                findings.append(finding(.error, "no DKIM key at \(name): receivers cannot verify digest's signature"))
                continue
            }
            guard texts.count == 1 else {
                findings.append(
                    finding(
                        .error,
                        "\(name) has \(texts.count) DKIM records; verifiers take one of them, so signatures fail "
                            + "at random: keep only this one"))
                continue
            }
            let record: DKIMKeyRecord
            do {
                record = try DKIMKeyRecord.parse(text)
            } catch {
                findings.append(finding(.error, "the record at \(name) is not a DKIM key record: \(error)"))
                continue
            }
            if record.isRevoked {
                findings.append(
                    finding(
                        .error,
                        "the key at \(name) is revoked (p= is empty): every signature with selector "
                            + "\(key.selector) fails; publish the key of \(signing.file), or sign with another "
                            + "selector"))
                continue
            }
            guard record.keyType == key.recordKeyType else {
                findings.append(
                    finding(
                        .error,
                        "the key at \(name) is k=\(record.keyType) but \(signing.file) is an \(key.recordKeyType) key"
                    ))
                continue
            }
            guard key.matchesPublishedKey(record.publicKey) else {
                findings.append(
                    finding(
                        .error,
                        "the key published at \(name) is not the one digest signs with (\(signing.file)): "
                            + "every signature fails"))
                continue
            }
            if !record.hashes.isEmpty && !record.hashes.contains("sha256") {
                findings.append(
                    finding(
                        .error, "the record at \(name) allows h=\(record.hashes.joined(separator: ":")), not sha256"))
                continue
            }
            if !record.services.isEmpty && !record.services.contains("*") && !record.services.contains("email") {
                findings.append(finding(.error, "the record at \(name) is not for email (s=)"))
                continue
            }
            if record.isTesting {
                findings.append(
                    finding(
                        .warning, "the key at \(name) is in testing mode (t=y)",
                        why: "receivers may treat a failing signature as no signature at all; drop t=y once "
                            + "messages verify"))
                continue
            }
            let size = key.rsaBits.map { "rsa, \($0) bits" } ?? "ed25519"
            findings.append(finding(.ok, "the key at \(name) (\(size)) matches \(signing.file)", why: nil))
        }
        if !setup.signingKeys.contains(where: { $0.key.rsaBits != nil }) {
            findings.append(
                DNSFinding(
                    .warning, domain: setup.signingKeys[0].key.domain, check: "DKIM",
                    "digest signs only with Ed25519: add an RSA key (digest dkim keygen --algorithm rsa)",
                    why: "Gmail, Yahoo and Outlook.com do not verify Ed25519 signatures (RFC 8463): to them the "
                        + "mail is unsigned"))
        }
        return findings
    }

    // MARK: SPF

    /// What the bounce domain's SPF must contain for the relay, and the addresses it resolved to.
    static func relayTerms(_ setup: DNSCheckSetup, lookup: any DNSLookup) -> (terms: [String], addresses: [String])? {
        if let include = setup.spfInclude { return (["include:\(include)"], []) }
        guard let host = setup.relayHost?.lowercased(), !host.isEmpty else { return nil }
        var addresses: [String] = []
        if DNSServer.family(of: host) != nil {
            addresses = [host]
        } else {
            for type in [DNSType.a, .aaaa] {
                addresses += (try? lookup.query(host, type))?.addresses ?? []
            }
        }
        let terms = addresses.map { $0.contains(":") ? "ip6:\($0)" : "ip4:\($0)" }
        return (terms, addresses)
    }

    static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || lower.hasSuffix(".localhost") || lower.hasPrefix("127.") || lower == "::1"
    }

    static func spf(_ setup: DNSCheckSetup, lookup: any DNSLookup) -> [DNSFinding] {
        var findings: [DNSFinding] = []
        let bounce = setup.bounceDomain
        let relay = relayTerms(setup, lookup: lookup)
        let local = setup.spfInclude == nil && setup.relayHost.map(isLoopback) == true
        func newRecord() -> RecordToPublish? {
            guard let relay, !relay.terms.isEmpty, !local else { return nil }
            return RecordToPublish(
                name: bounce, type: "TXT", value: "v=spf1 \(relay.terms.joined(separator: " ")) ~all")
        }
        for domain in [bounce] + (setup.fromDomain == bounce ? [] : [setup.fromDomain]) {
            let isBounce = domain == bounce
            let role = isBounce ? "the bounce domain \(domain)" : "the From domain \(domain)"
            switch SPFEvaluator.fetch(domain, lookup: lookup) {
            case .failed(let failure):
                findings.append(failed(domain, "SPF", "\(domain) TXT", failure))
                continue
            case .none:
                findings.append(
                    isBounce
                        ? DNSFinding(
                            .error, domain: domain, check: "SPF", "\(role) has no SPF record", why: Why.spf,
                            record: newRecord())
                        : DNSFinding(
                            .warning, domain: domain, check: "SPF",
                            "\(role) has no SPF record (digest's mail is checked against the bounce domain \(bounce))",
                            why: "receivers that check From's domain too find no policy; publish one listing "
                                + "the servers that send as \(domain)"))
                continue
            case .multiple(let texts):
                findings.append(
                    DNSFinding(
                        .error, domain: domain, check: "SPF",
                        "\(domain) has \(texts.count) SPF records; receivers treat that as a permanent error: "
                            + "merge them into one", why: Why.spf))
                continue
            case .invalid(let text, let error):
                findings.append(
                    DNSFinding(
                        .error, domain: domain, check: "SPF",
                        "the SPF record of \(domain) ('\(text)') cannot be read: \(error); receivers treat it as a "
                            + "permanent error", why: Why.spf))
                continue
            case .record(let record):
                let count = SPFEvaluator.countLookups(record, lookup: lookup)
                var problem = false
                if count.total > 10 {
                    problem = true
                    let parts = count.parts.map { "\($0.term) \($0.count)" }.joined(separator: ", ")
                    findings.append(
                        DNSFinding(
                            .error, domain: domain, check: "SPF",
                            "the SPF record of \(domain) needs \(count.total) DNS lookups (\(parts)); over 10 is a "
                                + "permanent error (RFC 7208 §4.6.4): remove includes you no longer use, or "
                                + "replace one with the ip4:/ip6: ranges it lists", why: Why.spf))
                }
                for target in count.broken {
                    problem = true
                    findings.append(
                        DNSFinding(
                            .error, domain: domain, check: "SPF",
                            "the SPF record of \(domain) includes \(target), which has no usable SPF record: a "
                                + "permanent error at receivers", why: Why.spf))
                }
                switch record.allQualifier {
                case .pass:
                    problem = true
                    findings.append(
                        DNSFinding(
                            .error, domain: domain, check: "SPF",
                            "the SPF record of \(domain) ends +all: every server on the internet may send as "
                                + "\(domain)",
                            why: "SPF then proves nothing; spam filters score +all as a forger's record and "
                                + "DMARC gains nothing from SPF",
                            record: RecordToPublish(name: domain, type: "TXT", value: record.replacingAll(with: "~all"))
                        ))
                case .neutral:
                    problem = true
                    findings.append(
                        DNSFinding(
                            .warning, domain: domain, check: "SPF",
                            "the SPF record of \(domain) ends ?all: mail from any other server is 'neutral', not "
                                + "failing",
                            why: "receivers treat ?all like no policy, so forged mail is not marked down",
                            record: RecordToPublish(name: domain, type: "TXT", value: record.replacingAll(with: "~all"))
                        ))
                case nil where record.redirect == nil:
                    problem = true
                    findings.append(
                        DNSFinding(
                            .warning, domain: domain, check: "SPF",
                            "the SPF record of \(domain) has no all term: mail from other servers is 'neutral'",
                            why: "receivers treat that like no policy",
                            record: RecordToPublish(name: domain, type: "TXT", value: record.replacingAll(with: "~all"))
                        ))
                default:
                    break
                }
                guard isBounce else {
                    if !problem {
                        findings.append(
                            DNSFinding(
                                .ok, domain: domain, check: "SPF",
                                "the SPF record of \(domain) is valid (\(count.total) of 10 lookups)"))
                    }
                    continue
                }
                if let include = setup.spfInclude {
                    if SPFEvaluator.includes(record, include, lookup: lookup) {
                        if !problem {
                            findings.append(
                                DNSFinding(
                                    .ok, domain: domain, check: "SPF",
                                    "the SPF record of \(domain) includes \(include) (\(count.total) of 10 lookups)"))
                        }
                    } else {
                        findings.append(
                            DNSFinding(
                                .error, domain: domain, check: "SPF",
                                "the SPF record of \(domain) does not include \(include) (smtp.spf_include)",
                                why: Why.spf,
                                record: RecordToPublish(
                                    name: domain, type: "TXT", value: record.adding("include:\(include)"))))
                    }
                    continue
                }
                guard let host = setup.relayHost, let relay else { continue }
                if local {
                    findings.append(
                        DNSFinding(
                            .warning, domain: domain, check: "SPF",
                            "the relay is on this machine (\(host)): digest cannot tell the public address it sends "
                                + "from; make sure the SPF record of \(domain) lists it, or set smtp.spf_include",
                            why: Why.spf))
                    continue
                }
                guard !relay.addresses.isEmpty else {
                    findings.append(
                        DNSFinding(
                            .error, domain: domain, check: "SPF",
                            "the relay \(host) has no address in DNS: cannot tell whether SPF authorises it; set "
                                + "smtp.spf_include to the include its documentation gives", why: Why.spf))
                    continue
                }
                var missing: [String] = []
                var results: [String] = []
                var unusable: SPFEvaluator.Result?
                for address in relay.addresses {
                    var evaluator = SPFEvaluator(lookup: lookup)
                    let result = evaluator.check(address, domain: domain)
                    if result == .permerror || result == .temperror { unusable = result }
                    if result != .pass {
                        missing.append(address.contains(":") ? "ip6:\(address)" : "ip4:\(address)")
                        results.append("\(address): \(result.rawValue)")
                    }
                }
                if let unusable {
                    // A permanent error is reported above (lookups, includes); a temporary one is a lookup
                    // that got no answer. Either way adding the relay would not help.
                    if unusable == .temperror || !problem {
                        findings.append(
                            DNSFinding(
                                .error, domain: domain, check: "SPF",
                                "the SPF record of \(domain) gives \(unusable.rawValue) for the relay \(host) "
                                    + "(\(results.joined(separator: ", "))): "
                                    + (unusable == .temperror
                                        ? "a lookup it needs got no answer; try again"
                                        : "receivers cannot evaluate it"),
                                why: Why.spf, lookupFailed: unusable == .temperror))
                    }
                } else if missing.isEmpty {
                    if !problem {
                        findings.append(
                            DNSFinding(
                                .ok, domain: domain, check: "SPF",
                                "the SPF record of \(domain) authorises the relay \(host) (\(count.total) of 10 "
                                    + "lookups)"))
                    }
                } else {
                    var value = record.text
                    for term in missing { value = (try? SPFRecord.parse(value))?.adding(term) ?? value }
                    findings.append(
                        DNSFinding(
                            .error, domain: domain, check: "SPF",
                            "the SPF record of \(domain) does not authorise the relay \(host) "
                                + "(\(results.joined(separator: ", "))); if the relay sends from other addresses than "
                                + "\(host)'s, set smtp.spf_include to the include its documentation gives",
                            why: Why.spf, record: RecordToPublish(name: domain, type: "TXT", value: value)))
                }
            }
        }
        return findings
    }

    // MARK: DMARC

    static func dmarc(_ setup: DNSCheckSetup, lookup: any DNSLookup) -> ([DNSFinding], DMARCRecord?) {
        let from = setup.fromDomain
        let organizational = OrganizationalDomain.of(from)
        let suggested = RecordToPublish(
            name: "_dmarc.\(from)", type: "TXT", value: "v=DMARC1; p=none; rua=mailto:dmarc-reports@\(from)")
        var names = ["_dmarc.\(from)"]
        if organizational != from { names.append("_dmarc.\(organizational)") }
        for name in names {
            let answer: DNSAnswer
            do {
                answer = try lookup.query(name, .txt)
            } catch {
                return ([failed(from, "DMARC", name, error as? DNSFailure ?? DNSFailure("\(error)"))], nil)
            }
            let texts = answer.texts.filter(DMARCRecord.isDMARC)
            if texts.isEmpty { continue }
            guard texts.count == 1 else {
                return (
                    [
                        DNSFinding(
                            .error, domain: from, check: "DMARC",
                            "\(name) has \(texts.count) DMARC records; receivers then apply none (RFC 7489 §6.6.3): "
                                + "keep one", why: Why.dmarc)
                    ], nil
                )
            }
            let record: DMARCRecord
            do {
                record = try DMARCRecord.parse(texts[0])
            } catch {
                return (
                    [
                        DNSFinding(
                            .error, domain: from, check: "DMARC",
                            "the DMARC record at \(name) cannot be read: \(error)", why: Why.dmarc,
                            record: RecordToPublish(name: name, type: "TXT", value: suggested.value))
                    ], nil
                )
            }
            let inherited = name != "_dmarc.\(from)"
            let policy = inherited ? (record.subdomainPolicy ?? record.policy) : record.policy
            let whereFound = inherited ? " (from the organisational domain's record \(name))" : ""
            var findings: [DNSFinding] = []
            if policy == .none {
                // The tag that set none: sp= for a subdomain under the organisational domain's record.
                let tag = inherited && record.subdomainPolicy != nil ? "sp" : "p"
                let stricter = record.text.replacingOccurrences(
                    of: "(^|;)(\\s*)\(tag)(\\s*)=(\\s*)none", with: "$1$2\(tag)$3=$4quarantine",
                    options: [.regularExpression, .caseInsensitive])
                findings.append(
                    DNSFinding(
                        .warning, domain: from, check: "DMARC",
                        "the DMARC policy of \(from) is p=none\(whereFound): receivers take no action on mail that "
                            + "fails, so anyone can send as \(from)",
                        why: "Gmail and Yahoo accept p=none as the minimum for bulk senders; once the rua reports "
                            + "show digest's mail passing, ask receivers to quarantine what fails",
                        record: RecordToPublish(name: name, type: "TXT", value: stricter)))
            }
            if record.percent < 100 {
                findings.append(
                    DNSFinding(
                        .warning, domain: from, check: "DMARC",
                        "the DMARC record at \(name) applies its policy to pct=\(record.percent)% of failing mail",
                        why: "the rest is treated as p=none"))
            }
            if record.reportAddresses.isEmpty {
                findings.append(
                    DNSFinding(
                        .warning, domain: from, check: "DMARC",
                        "the DMARC record at \(name) has no rua=: you get no reports of what passes and fails",
                        why: "reports are how you learn a relay or a forwarder breaks authentication"))
            }
            if findings.isEmpty {
                findings.append(
                    DNSFinding(
                        .ok, domain: from, check: "DMARC",
                        "DMARC for \(from): p=\(policy.rawValue)\(whereFound), adkim=\(record.dkimAlignment.rawValue), "
                            + "aspf=\(record.spfAlignment.rawValue)"))
            }
            return (findings, record)
        }
        return (
            [
                DNSFinding(
                    .error, domain: from, check: "DMARC",
                    "\(from) has no DMARC record (none at \(names.joined(separator: " or ")))", why: Why.dmarc,
                    record: suggested)
            ], nil
        )
    }

    // MARK: Alignment

    static func alignment(_ setup: DNSCheckSetup, dmarc: DMARCRecord?) -> [DNSFinding] {
        let from = setup.fromDomain
        let dkimMode = dmarc?.dkimAlignment ?? .relaxed
        let spfMode = dmarc?.spfAlignment ?? .relaxed
        let modeName = { (mode: DMARCRecord.Alignment) in mode == .strict ? "strict" : "relaxed" }
        let dkimDomains = Array(Set(setup.signingKeys.map { $0.key.domain.lowercased() })).sorted()
        let dkimAligned = dkimDomains.contains { OrganizationalDomain.aligned($0, with: from, mode: dkimMode) }
        let spfAligned = OrganizationalDomain.aligned(setup.bounceDomain, with: from, mode: spfMode)
        var findings: [DNSFinding] = []
        let dkimText = dkimDomains.isEmpty ? "no DKIM signature" : "DKIM d=\(dkimDomains.joined(separator: ", d="))"
        if dkimAligned && spfAligned {
            findings.append(
                DNSFinding(
                    .ok, domain: from, check: "alignment",
                    "\(dkimText) and the bounce domain \(setup.bounceDomain) align with From \(from) "
                        + "(DKIM \(modeName(dkimMode)), SPF \(modeName(spfMode)))"))
            return findings
        }
        if !spfAligned {
            findings.append(
                DNSFinding(
                    dkimAligned ? .warning : .error, domain: from, check: "alignment",
                    "the bounce domain \(setup.bounceDomain) does not align with From \(from) (aspf="
                        + "\(spfMode.rawValue), \(modeName(spfMode))): SPF cannot make DMARC pass"
                        + (dkimAligned ? "; DMARC rests on DKIM alone" : "")
                        + "; use a bounce address under \(OrganizationalDomain.of(from))"
                        + (spfMode == .strict ? " (strict: exactly \(from))" : ""),
                    why: Why.alignment))
        }
        if !dkimAligned {
            let key = setup.signingKeys.first?.key
            let record = key.map {
                RecordToPublish(name: "\($0.selector)._domainkey.\(from)", type: "TXT", value: $0.dnsRecordValue)
            }
            findings.append(
                DNSFinding(
                    spfAligned ? .warning : .error, domain: from, check: "alignment",
                    "\(dkimText) does not align with From \(from) (adkim=\(dkimMode.rawValue), "
                        + "\(modeName(dkimMode))): set dkim.domain to \(from) in publication.yaml and publish the "
                        + "key there" + (spfAligned ? "; DMARC rests on SPF alone, which forwarding breaks" : ""),
                    why: Why.alignment, record: record))
        }
        return findings
    }

    // MARK: MX and the unsubscribe host

    static func mx(_ setup: DNSCheckSetup, lookup: any DNSLookup) -> [DNSFinding] {
        let domain = setup.bounceDomain
        let answer: DNSAnswer
        do {
            answer = try lookup.query(domain, .mx)
        } catch {
            return [failed(domain, "MX", "\(domain) MX", error as? DNSFailure ?? DNSFailure("\(error)"))]
        }
        let exchangers = answer.exchangers
        if exchangers.count == 1, exchangers[0].host.isEmpty || exchangers[0].host == "." {
            return [
                DNSFinding(
                    .error, domain: domain, check: "MX",
                    "the bounce domain \(domain) publishes a null MX (RFC 7505): it receives no mail, so bounces are "
                        + "lost and receivers may refuse its mail", why: Why.mx)
            ]
        }
        if !exchangers.isEmpty {
            let hosts = exchangers.sorted { $0.preference < $1.preference }.map { "\($0.preference) \($0.host)" }
            return [
                DNSFinding(
                    .ok, domain: domain, check: "MX",
                    "bounces to \(domain) go to \(hosts.joined(separator: ", "))")
            ]
        }
        let addresses =
            ((try? lookup.query(domain, .a))?.addresses ?? []) + ((try? lookup.query(domain, .aaaa))?.addresses ?? [])
        if !addresses.isEmpty {
            return [
                DNSFinding(
                    .warning, domain: domain, check: "MX",
                    "the bounce domain \(domain) has no MX record: bounces go to its address "
                        + "\(addresses[0]) (RFC 5321 §5.1), which must run a mail server",
                    why: Why.mx)
            ]
        }
        return [
            DNSFinding(
                .error, domain: domain, check: "MX",
                "the bounce domain \(domain) has no MX record and no address: bounces cannot come back; publish an MX "
                    + "record naming the server that receives its mail", why: Why.mx)
        ]
    }

    static func unsubscribe(_ setup: DNSCheckSetup, lookup: any DNSLookup) -> [DNSFinding] {
        guard let url = setup.unsubscribeURL, let host = URLComponents(string: url)?.host?.lowercased(),
            !host.isEmpty
        else { return [] }
        if DNSServer.family(of: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) != nil { return [] }
        var addresses: [String] = []
        for type in [DNSType.a, .aaaa] {
            do {
                addresses += try lookup.query(host, type).addresses
            } catch {
                return [failed(host, "unsubscribe", "\(host) \(type)", error as? DNSFailure ?? DNSFailure("\(error)"))]
            }
        }
        guard addresses.isEmpty else {
            return [
                DNSFinding(
                    .ok, domain: host, check: "unsubscribe", "the unsubscribe host \(host) resolves (\(addresses[0]))")
            ]
        }
        return [
            DNSFinding(
                .error, domain: host, check: "unsubscribe",
                "the unsubscribe URL's host \(host) does not resolve: List-Unsubscribe points nowhere",
                why: Why.unsubscribe)
        ]
    }
}
