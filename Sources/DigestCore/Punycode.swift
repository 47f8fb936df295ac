/// Punycode (RFC 3492) and the IDNA ToASCII step digest needs: an internationalised domain such as
/// `bücher.example` becomes `xn--bcher-kva.example`, the form SMTP and DNS carry.
public enum Punycode {
    static let base = 36
    static let tMin = 1
    static let tMax = 26
    static let skew = 38
    static let damp = 700
    static let initialBias = 72
    static let initialN = 128

    /// The domain in ASCII: each non-ASCII label lower-cased and encoded as `xn--…`; nil when a label
    /// cannot be encoded.
    public static func asciiDomain(_ domain: String) -> String? {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false).map { label -> String? in
            let lower = label.lowercased()
            if lower.allSatisfy(\.isASCII) { return lower }
            return encode(lower).map { "xn--" + $0 }
        }
        guard labels.allSatisfy({ $0 != nil }) else { return nil }
        return labels.compactMap { $0 }.joined(separator: ".")
    }

    static func adapt(_ delta: Int, _ numPoints: Int, _ firstTime: Bool) -> Int {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    static func digit(_ value: Int) -> Character {
        Character(Unicode.Scalar(UInt8(value < 26 ? value + 97 : value + 22)))
    }

    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = String(String.UnicodeScalarView(input.unicodeScalars.filter(\.isASCII)))
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN
        var delta = 0
        var bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for scalar in scalars {
                if scalar < n { delta += 1 }
                if scalar == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}

extension EmailAddress {
    /// An address as a reader typed it: surrounding space trimmed, `<…>` removed, and an
    /// internationalised domain converted to its ASCII (xn--) form. The local part must be ASCII.
    public init?(idn text: String) {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("<") && trimmed.hasSuffix(">") { trimmed = String(trimmed.dropFirst().dropLast()) }
        guard let at = trimmed.lastIndex(of: "@"),
            let domain = Punycode.asciiDomain(String(trimmed[trimmed.index(after: at)...]))
        else { return nil }
        self.init(String(trimmed[..<at]) + "@" + domain)
    }
}
