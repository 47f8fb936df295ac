import Foundation

/// Why a record cannot be read.
public struct RecordSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A DKIM or DMARC tag list (RFC 6376 §3.2): `tag=value` pairs separated by semicolons, with folding
/// whitespace around them. Tags in order; a repeated tag is an error.
enum TagList {
    static func parse(_ text: String) throws -> [(tag: String, value: String)] {
        var tags: [(tag: String, value: String)] = []
        var seen: Set<String> = []
        for part in text.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw RecordSyntaxError("'\(trimmed)' is not tag=value")
            }
            let tag = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !tag.isEmpty, tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                tag.first?.isLetter == true
            else { throw RecordSyntaxError("'\(tag)' is not a tag name") }
            guard seen.insert(tag.lowercased()).inserted else {
                throw RecordSyntaxError("the tag \(tag)= appears twice")
            }
            tags.append((tag, value))
        }
        return tags
    }
}

/// A DKIM key record (RFC 6376 §3.6.1, RFC 8463): `v=DKIM1; k=rsa; p=…`.
public struct DKIMKeyRecord: Equatable, Sendable {
    /// `rsa` or `ed25519` (lower case); `rsa` when `k=` is absent.
    public var keyType: String
    /// The public key's bytes; empty when the key is revoked (`p=` empty).
    public var publicKey: [UInt8]
    /// `h=`: the hash algorithms allowed; empty means all.
    public var hashes: [String]
    /// `s=`: the service types; empty means all (`*`).
    public var services: [String]
    /// `t=`: flags; `y` is testing mode, `s` forbids subdomains in i=.
    public var flags: [String]

    public var isRevoked: Bool { publicKey.isEmpty }
    public var isTesting: Bool { flags.contains("y") }

    public static func parse(_ text: String) throws -> DKIMKeyRecord {
        let tags = try TagList.parse(text)
        if let first = tags.first, first.tag == "v" {
            guard first.value == "DKIM1" else { throw RecordSyntaxError("v= must be DKIM1, not '\(first.value)'") }
        } else if tags.contains(where: { $0.tag == "v" }) {
            throw RecordSyntaxError("v=DKIM1 must come first")
        }
        func value(_ tag: String) -> String? { tags.first { $0.tag == tag }?.value }
        func list(_ tag: String) -> [String] {
            (value(tag) ?? "").split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty }
        }
        guard let p = value("p") else { throw RecordSyntaxError("there is no p= (the public key)") }
        let base64 = p.filter { !$0.isWhitespace }
        var key: [UInt8] = []
        if !base64.isEmpty {
            guard let data = Data(base64Encoded: base64) else { throw RecordSyntaxError("p= is not base64") }
            key = Array(data)
        }
        return DKIMKeyRecord(
            keyType: (value("k") ?? "rsa").lowercased(), publicKey: key, hashes: list("h"), services: list("s"),
            flags: list("t"))
    }
}

/// An SPF record (RFC 7208).
public struct SPFRecord: Equatable, Sendable {
    public enum Qualifier: Character, Sendable {
        case pass = "+"
        case fail = "-"
        case softfail = "~"
        case neutral = "?"
    }

    public enum Mechanism: Equatable, Sendable {
        case all
        case include(String)
        /// `a` and `mx`: the domain (nil for the current one) and the CIDR lengths.
        case a(String?, v4: Int?, v6: Int?)
        case mx(String?, v4: Int?, v6: Int?)
        case ptr(String?)
        case ip4(String, prefix: Int)
        case ip6(String, prefix: Int)
        case exists(String)

        /// Whether a receiver spends one of its ten DNS lookups on it (RFC 7208 §4.6.4).
        var queriesDNS: Bool {
            switch self {
            case .include, .a, .mx, .ptr, .exists: true
            case .all, .ip4, .ip6: false
            }
        }
    }

    public struct Directive: Equatable, Sendable {
        public var qualifier: Qualifier
        public var mechanism: Mechanism
        /// The term as written.
        public var text: String
    }

    public var directives: [Directive]
    public var redirect: String?
    public var explanation: String?
    /// The record as published.
    public var text: String

    /// Whether `text` is an SPF record at all: `v=spf1` alone or followed by a space.
    public static func isSPF(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower == "v=spf1" || lower.hasPrefix("v=spf1 ")
    }

    public static func parse(_ text: String) throws -> SPFRecord {
        guard isSPF(text) else { throw RecordSyntaxError("an SPF record starts with v=spf1") }
        var record = SPFRecord(directives: [], redirect: nil, explanation: nil, text: text)
        for term in text.split(separator: " ").dropFirst().map(String.init) {
            if let equals = term.firstIndex(of: "="),
                term[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
            {
                let name = term[..<equals].lowercased()
                let value = String(term[term.index(after: equals)...])
                switch name {
                case "redirect":
                    guard record.redirect == nil else { throw RecordSyntaxError("redirect= appears twice") }
                    guard !value.isEmpty else { throw RecordSyntaxError("redirect= names no domain") }
                    record.redirect = value
                case "exp":
                    guard record.explanation == nil else { throw RecordSyntaxError("exp= appears twice") }
                    record.explanation = value
                default:
                    // Unknown modifiers are ignored (RFC 7208 §6).
                    guard name.first?.isLetter == true else {
                        throw RecordSyntaxError("'\(term)' is not an SPF term")
                    }
                }
                continue
            }
            var body = Substring(term)
            var qualifier = Qualifier.pass
            if let first = body.first, let explicit = Qualifier(rawValue: first) {
                qualifier = explicit
                body = body.dropFirst()
            }
            record.directives.append(
                Directive(qualifier: qualifier, mechanism: try mechanism(String(body), term: term), text: term))
        }
        return record
    }

    static func mechanism(_ body: String, term: String) throws -> Mechanism {
        let lower = body.lowercased()
        let name = String(lower.prefix { $0 != ":" && $0 != "/" })
        let rest = String(body.dropFirst(name.count))
        func domain(required: Bool) throws -> String? {
            if rest.hasPrefix(":") {
                let value = String(rest.dropFirst().prefix { $0 != "/" })
                guard !value.isEmpty else { throw RecordSyntaxError("'\(term)' names no domain") }
                return value
            }
            if required { throw RecordSyntaxError("'\(term)' needs a domain (\(name):example.com)") }
            return nil
        }
        func cidr() throws -> (Int?, Int?) {
            guard let slash = rest.firstIndex(of: "/") else { return (nil, nil) }
            let parts = rest[slash...].components(separatedBy: "//")
            var v4: Int?
            var v6: Int?
            if let first = parts.first, first.hasPrefix("/"), first.count > 1 {
                guard let value = Int(first.dropFirst()), (0...32).contains(value) else {
                    throw RecordSyntaxError("'\(term)' has a bad IPv4 prefix length")
                }
                v4 = value
            }
            if parts.count > 1 {
                guard let value = Int(parts[1]), (0...128).contains(value) else {
                    throw RecordSyntaxError("'\(term)' has a bad IPv6 prefix length")
                }
                v6 = value
            }
            return (v4, v6)
        }
        switch name {
        case "all":
            guard rest.isEmpty else { throw RecordSyntaxError("'\(term)' takes no argument") }
            return .all
        case "include": return .include(try domain(required: true) ?? "")
        case "exists": return .exists(try domain(required: true) ?? "")
        case "ptr": return .ptr(try domain(required: false))
        case "a", "mx":
            let target = try domain(required: false)
            let (v4, v6) = try cidr()
            return name == "a" ? .a(target, v4: v4, v6: v6) : .mx(target, v4: v4, v6: v6)
        case "ip4", "ip6":
            guard rest.hasPrefix(":") else { throw RecordSyntaxError("'\(term)' needs an address") }
            let value = rest.dropFirst()
            let address = String(value.prefix { $0 != "/" })
            let family = name == "ip4" ? AF_INET : AF_INET6
            guard DNSServer.family(of: address) == family else {
                throw RecordSyntaxError("'\(term)': '\(address)' is not an \(name == "ip4" ? "IPv4" : "IPv6") address")
            }
            var prefix = name == "ip4" ? 32 : 128
            if let slash = value.firstIndex(of: "/") {
                guard let length = Int(value[value.index(after: slash)...]), (0...prefix).contains(length) else {
                    throw RecordSyntaxError("'\(term)' has a bad prefix length")
                }
                prefix = length
            }
            return name == "ip4" ? .ip4(address, prefix: prefix) : .ip6(address, prefix: prefix)
        default:
            throw RecordSyntaxError("'\(term)' is not an SPF mechanism")
        }
    }

    /// The `all` directive's qualifier, when the record has one.
    public var allQualifier: Qualifier? {
        directives.first { $0.mechanism == .all }?.qualifier
    }

    /// The record with `term` added before `all` (or at the end), for the editor to publish instead.
    public func adding(_ term: String) -> String {
        var terms = text.split(separator: " ").map(String.init)
        let position =
            terms.firstIndex { term in
                let body = term.first.map { "+-~?".contains($0) } == true ? term.dropFirst() : Substring(term)
                return body.lowercased() == "all" || body.lowercased().hasPrefix("redirect=")
            } ?? terms.count
        terms.insert(term, at: position)
        return terms.joined(separator: " ")
    }

    /// The record with its `all` term replaced (or added).
    public func replacingAll(with term: String) -> String {
        var terms = text.split(separator: " ").map(String.init)
        if let index = terms.firstIndex(where: { $0.lowercased().hasSuffix("all") && $0.count <= 4 }) {
            terms[index] = term
        } else {
            terms.append(term)
        }
        return terms.joined(separator: " ")
    }
}

/// A DMARC record (RFC 7489 §6.3).
public struct DMARCRecord: Equatable, Sendable {
    public enum Policy: String, Sendable {
        case none, quarantine, reject
    }

    public enum Alignment: String, Sendable {
        case relaxed = "r"
        case strict = "s"
    }

    public var policy: Policy
    public var subdomainPolicy: Policy?
    public var dkimAlignment: Alignment
    public var spfAlignment: Alignment
    public var reportAddresses: [String]
    public var percent: Int
    /// The record as published.
    public var text: String

    public static func isDMARC(_ text: String) -> Bool {
        text.replacingOccurrences(of: " ", with: "").lowercased().hasPrefix("v=dmarc1")
    }

    public static func parse(_ text: String) throws -> DMARCRecord {
        let tags = try TagList.parse(text)
        guard let first = tags.first, first.tag.lowercased() == "v", first.value == "DMARC1" else {
            throw RecordSyntaxError("a DMARC record starts with v=DMARC1")
        }
        func value(_ tag: String) -> String? { tags.first { $0.tag.lowercased() == tag }?.value }
        func readPolicy(_ tag: String) throws -> Policy? {
            guard let text = value(tag) else { return nil }
            guard let policy = Policy(rawValue: text.lowercased()) else {
                throw RecordSyntaxError("\(tag)= must be none, quarantine or reject, not '\(text)'")
            }
            return policy
        }
        func alignment(_ tag: String) throws -> Alignment {
            guard let text = value(tag) else { return .relaxed }
            guard let alignment = Alignment(rawValue: text.lowercased()) else {
                throw RecordSyntaxError("\(tag)= must be r (relaxed) or s (strict), not '\(text)'")
            }
            return alignment
        }
        let reports = (value("rua") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        for report in reports where !report.lowercased().hasPrefix("mailto:") {
            throw RecordSyntaxError("rua= takes mailto: addresses, not '\(report)'")
        }
        var percent = 100
        if let text = value("pct") {
            guard let number = Int(text), (0...100).contains(number) else {
                throw RecordSyntaxError("pct= must be a number from 0 to 100, not '\(text)'")
            }
            percent = number
        }
        // A record without p= but with a valid rua= is read as p=none (RFC 7489 §6.6.3).
        guard let policy = try readPolicy("p") ?? (reports.isEmpty ? nil : Policy.none) else {
            throw RecordSyntaxError("there is no p= (none, quarantine or reject)")
        }
        return DMARCRecord(
            policy: policy, subdomainPolicy: try readPolicy("sp"), dkimAlignment: try alignment("adkim"),
            spfAlignment: try alignment("aspf"), reportAddresses: reports, percent: percent, text: text)
    }
}

/// The organisational domain (RFC 7489 §3.2) from a small built-in set of public suffixes: every
/// top-level domain, and the common second-level registries below. It does not know the full Public
/// Suffix List: private suffixes (github.io, herokuapp.com…), wildcard and exception rules, and most
/// country registries' second levels are not in it; for those it takes the last two labels.
public enum OrganizationalDomain {
    static let multiLabelSuffixes: Set<String> = [
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk", "nhs.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
        "co.nz", "org.nz", "net.nz", "ac.nz", "govt.nz", "geek.nz",
        "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "ad.jp", "ed.jp", "gr.jp", "lg.jp",
        "co.za", "org.za", "gov.za", "ac.za", "net.za",
        "com.br", "net.br", "org.br", "gov.br", "edu.br",
        "com.mx", "org.mx", "gob.mx", "edu.mx",
        "com.ar", "org.ar", "gob.ar", "com.co", "org.co", "com.pe", "com.ve", "com.uy", "com.ec", "cl.cl",
        "com.tr", "org.tr", "gov.tr", "edu.tr", "av.tr", "bel.tr", "k12.tr",
        "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn",
        "com.hk", "org.hk", "edu.hk", "gov.hk", "com.tw", "org.tw", "edu.tw",
        "co.in", "net.in", "org.in", "gov.in", "ac.in", "edu.in", "co.kr", "or.kr", "go.kr", "ac.kr",
        "co.il", "org.il", "ac.il", "gov.il", "com.sg", "org.sg", "edu.sg", "gov.sg", "com.my", "org.my",
        "co.id", "or.id", "ac.id", "go.id", "co.th", "or.th", "ac.th", "go.th", "com.ph", "com.vn", "com.pk",
        "com.eg", "com.sa", "org.sa", "gov.sa", "com.lb", "com.jo", "com.kw", "com.qa", "co.ae", "gov.ae",
        "com.ua", "org.ua", "gov.ua", "com.pl", "org.pl", "net.pl", "co.at", "or.at", "gv.at", "ac.at",
        "com.es", "org.es", "gob.es", "com.pt", "com.gr", "co.hu", "com.ru", "org.ru", "msk.ru", "spb.ru",
        "co.ke", "or.ke", "com.ng", "org.ng", "gov.ng", "co.tz", "co.ug", "com.gh", "co.zw",
    ]

    /// `domain` cut to one label below its public suffix (lower case, without a final dot).
    public static func of(_ domain: String) -> String {
        let labels = domain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")).split(separator: ".")
        guard labels.count > 2 else { return labels.joined(separator: ".") }
        let lastTwo = labels.suffix(2).joined(separator: ".")
        let keep = multiLabelSuffixes.contains(lastTwo) ? 3 : 2
        return labels.suffix(keep).joined(separator: ".")
    }

    /// DMARC identifier alignment (RFC 7489 §3.1).
    public static func aligned(_ identifier: String, with from: String, mode: DMARCRecord.Alignment) -> Bool {
        let a = identifier.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        let b = from.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return mode == .strict ? a == b : of(a) == of(b)
    }
}
