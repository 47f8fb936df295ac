import Foundation

/// RFC 7208's check_host() for one address, far enough to say whether a relay is authorised: ip4, ip6,
/// a, mx, include, redirect, exists and all. `ptr` never matches (RFC 7208 §5.5 asks senders not to use
/// it), and terms with macros (`%{i}`) are not expanded and do not match.
public struct SPFEvaluator {
    public enum Result: String, Sendable {
        case pass, fail, softfail, neutral, none, permerror, temperror
    }

    let lookup: any DNSLookup
    var lookups = 0

    public init(lookup: any DNSLookup) {
        self.lookup = lookup
    }

    /// The SPF record of `domain`: none, one, or why there is no usable one.
    public enum Fetched {
        case none
        case record(SPFRecord)
        case multiple([String])
        case invalid(String, RecordSyntaxError)
        case failed(DNSFailure)
    }

    public static func fetch(_ domain: String, lookup: any DNSLookup) -> Fetched {
        let answer: DNSAnswer
        do {
            answer = try lookup.query(domain, .txt)
        } catch let failure as DNSFailure {
            return .failed(failure)
        } catch {
            return .failed(DNSFailure("\(error)"))
        }
        let records = answer.texts.filter(SPFRecord.isSPF)
        guard let text = records.first else { return .none }
        guard records.count == 1 else { return .multiple(records) }
        do {
            return .record(try SPFRecord.parse(text))
        } catch let error as RecordSyntaxError {
            return .invalid(text, error)
        } catch {
            return .invalid(text, RecordSyntaxError("\(error)"))
        }
    }

    public mutating func check(_ address: String, domain: String, depth: Int = 0) -> Result {
        guard depth < 10 else { return .permerror }
        let record: SPFRecord
        switch Self.fetch(domain, lookup: lookup) {
        case .none: return .none
        case .multiple, .invalid: return .permerror
        case .failed: return .temperror
        case .record(let found): record = found
        }
        for directive in record.directives {
            if directive.mechanism.queriesDNS {
                lookups += 1
                if lookups > 10 { return .permerror }
            }
            let matched: Bool
            switch directive.mechanism {
            case .all:
                matched = true
            case .ip4(let network, let prefix), .ip6(let network, let prefix):
                matched = CIDR.contains(network: network, prefix: prefix, address: address)
            case .a(let target, let v4, let v6):
                guard let found = addresses(of: target ?? domain, for: address) else { return .temperror }
                matched = found.contains {
                    CIDR.contains(network: $0, prefix: prefixFor(address, v4, v6), address: address)
                }
            case .mx(let target, let v4, let v6):
                guard let answer = try? lookup.query(target ?? domain, .mx) else { return .temperror }
                var any = false
                for exchanger in answer.exchangers.prefix(10) where !exchanger.host.isEmpty {
                    guard let found = addresses(of: exchanger.host, for: address) else { return .temperror }
                    if found.contains(where: {
                        CIDR.contains(network: $0, prefix: prefixFor(address, v4, v6), address: address)
                    }) {
                        any = true
                    }
                }
                matched = any
            case .include(let target):
                if target.contains("%") {
                    matched = false
                } else {
                    switch check(address, domain: target, depth: depth + 1) {
                    case .pass: matched = true
                    case .fail, .softfail, .neutral: matched = false
                    case .temperror: return .temperror
                    case .permerror, .none: return .permerror
                    }
                }
            case .exists(let target):
                if target.contains("%") {
                    matched = false
                } else {
                    guard let answer = try? lookup.query(target, .a) else { return .temperror }
                    matched = !answer.addresses.isEmpty
                }
            case .ptr:
                matched = false
            }
            if matched {
                switch directive.qualifier {
                case .pass: return .pass
                case .fail: return .fail
                case .softfail: return .softfail
                case .neutral: return .neutral
                }
            }
        }
        if let redirect = record.redirect, !redirect.contains("%") {
            lookups += 1
            if lookups > 10 { return .permerror }
            let result = check(address, domain: redirect, depth: depth + 1)
            return result == .none ? .permerror : result
        }
        return .neutral
    }

    private func prefixFor(_ address: String, _ v4: Int?, _ v6: Int?) -> Int {
        address.contains(":") ? (v6 ?? 128) : (v4 ?? 32)
    }

    /// The addresses of `name` in the family of `address`; nil when the lookup failed.
    private func addresses(of name: String, for address: String) -> [String]? {
        guard let answer = try? lookup.query(name, address.contains(":") ? .aaaa : .a) else { return nil }
        return answer.addresses
    }

    /// The DNS-querying terms of `domain`'s record and everything it includes or redirects to
    /// (RFC 7208 §4.6.4), with what each include costs; nil for an include that has no record.
    public struct LookupCount: Sendable {
        public var total: Int
        /// Each include: and redirect= of the top record, with the lookups it costs (itself included).
        public var parts: [(term: String, count: Int)]
        /// Includes whose target has no usable SPF record (a permerror at receivers).
        public var broken: [String]
    }

    public static func countLookups(_ record: SPFRecord, lookup: any DNSLookup) -> LookupCount {
        var broken: [String] = []
        func count(_ record: SPFRecord, depth: Int) -> Int {
            guard depth < 10 else { return 0 }
            var total = 0
            for directive in record.directives where directive.mechanism.queriesDNS {
                total += 1
                if case .include(let target) = directive.mechanism {
                    total += nested(target, depth: depth)
                }
            }
            if let redirect = record.redirect {
                total += 1 + nested(redirect, depth: depth)
            }
            return total
        }
        func nested(_ target: String, depth: Int) -> Int {
            guard !target.contains("%") else { return 0 }
            if case .record(let inner) = fetch(target, lookup: lookup) {
                return count(inner, depth: depth + 1)
            }
            broken.append(target)
            return 0
        }
        var parts: [(term: String, count: Int)] = []
        for directive in record.directives {
            if case .include(let target) = directive.mechanism {
                parts.append((directive.text, 1 + nested(target, depth: 0)))
            }
        }
        if let redirect = record.redirect { parts.append(("redirect=\(redirect)", 1 + nested(redirect, depth: 0))) }
        broken.removeAll()
        let total = count(record, depth: 0)
        return LookupCount(total: total, parts: parts, broken: Array(Set(broken)).sorted())
    }

    /// Whether `include:target` appears in `record` or anything it includes or redirects to.
    public static func includes(_ record: SPFRecord, _ target: String, lookup: any DNSLookup, depth: Int = 0) -> Bool {
        guard depth < 10 else { return false }
        let wanted = target.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        var next: [String] = []
        for directive in record.directives {
            if case .include(let domain) = directive.mechanism {
                if domain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) == wanted {
                    return true
                }
                next.append(domain)
            }
        }
        if let redirect = record.redirect {
            if redirect.lowercased() == wanted { return true }
            next.append(redirect)
        }
        return next.contains { domain in
            if case .record(let inner) = fetch(domain, lookup: lookup) {
                return includes(inner, target, lookup: lookup, depth: depth + 1)
            }
            return false
        }
    }
}

/// Address-in-network tests for ip4:, ip6:, a/24 and the like.
enum CIDR {
    static func bytes(_ address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func contains(network: String, prefix: Int, address: String) -> Bool {
        guard let net = bytes(network), let addr = bytes(address), net.count == addr.count else { return false }
        var bits = prefix
        for index in net.indices where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if net[index] & mask != addr[index] & mask { return false }
            bits -= 8
        }
        return true
    }
}
