import Crypto
import Foundation
import _CryptoExtras

/// A DKIM signing key (RFC 6376) with its selector and domain: rsa-sha256 (2048 bits or more) or
/// ed25519-sha256 (RFC 8463).
public struct DKIMKey: Sendable {
    public enum Algorithm: String, Sendable {
        case rsaSHA256 = "rsa-sha256"
        case ed25519SHA256 = "ed25519-sha256"
    }

    enum Secret: @unchecked Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public let selector: String
    public let domain: String
    let secret: Secret

    public var algorithm: Algorithm {
        switch secret {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    /// Why a key file cannot be used.
    public struct KeyError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a PEM private key: RSA in PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), or Ed25519
    /// in PKCS#8. The algorithm comes from the key.
    public init(selector: String, domain: String, pem: String) throws {
        self.selector = selector
        self.domain = domain
        if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            secret = .rsa(try Self.rsa(pem))
            return
        }
        guard pem.contains("-----BEGIN PRIVATE KEY-----") else {
            throw KeyError(description: "not a PEM private key (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)")
        }
        if let seed = Self.ed25519Seed(pem) {
            secret = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
        } else {
            secret = .rsa(try Self.rsa(pem))
        }
    }

    init(selector: String, domain: String, secret: Secret) {
        self.selector = selector
        self.domain = domain
        self.secret = secret
    }

    static func rsa(_ pem: String) throws -> _RSA.Signing.PrivateKey {
        do {
            return try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw KeyError(description: "not a usable RSA key (DKIM needs 2048 bits or more): \(error)")
        }
    }

    /// The DER prefix of an Ed25519 PKCS#8 key (RFC 8410): the 32-byte seed follows it.
    static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    static func ed25519Seed(_ pem: String) -> [UInt8]? {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body.trimmingCharacters(in: .whitespacesAndNewlines)).map(Array.init),
            der.count == 48, Array(der.prefix(16)) == ed25519PKCS8Prefix
        else { return nil }
        return Array(der.suffix(32))
    }

    /// A new key: RSA 2048 bits or Ed25519.
    public static func generate(_ algorithm: Algorithm, selector: String, domain: String) throws -> DKIMKey {
        switch algorithm {
        case .rsaSHA256:
            DKIMKey(selector: selector, domain: domain, secret: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048)))
        case .ed25519SHA256:
            DKIMKey(selector: selector, domain: domain, secret: .ed25519(Curve25519.Signing.PrivateKey()))
        }
    }

    /// The private key as PKCS#8 PEM, to store in a file only its owner can read.
    public var privateKeyPEM: String {
        switch secret {
        case .rsa(let key):
            return key.pkcs8PEMRepresentation
        case .ed25519(let key):
            let der = Self.ed25519PKCS8Prefix + Array(key.rawRepresentation)
            return "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
        }
    }

    /// The `p=` value of the DNS record: the RSA SubjectPublicKeyInfo, or the raw Ed25519 key (RFC 8463).
    public var publicKeyBase64: String {
        switch secret {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// The TXT record to publish at `selector._domainkey.domain`, in zone-file form with strings of at
    /// most 255 characters.
    public var dnsRecord: String {
        let value = "v=DKIM1; k=\(algorithm == .rsaSHA256 ? "rsa" : "ed25519"); p=\(publicKeyBase64)"
        var strings: [String] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            strings.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return "\(selector)._domainkey.\(domain). IN TXT ( \(strings.joined(separator: " ")) )"
    }

    /// The signature of the SHA-256 hash of the canonical headers. Ed25519-SHA256 signs the 32-byte
    /// hash itself with PureEdDSA (RFC 8463 §3); RSA signs with PKCS#1 v1.5 over SHA-256.
    func sign(_ canonicalHeaders: [UInt8]) throws -> [UInt8] {
        switch secret {
        case .rsa(let key):
            return Array(
                try key.signature(for: SHA256.hash(data: canonicalHeaders), padding: .insecurePKCS1v1_5)
                    .rawRepresentation)
        case .ed25519(let key):
            return Array(try key.signature(for: Data(SHA256.hash(data: canonicalHeaders))))
        }
    }
}

/// Signs messages with one or more DKIM keys (RFC 6376), relaxed/relaxed, never with `l=`.
public struct DKIMSigner: Sendable {
    /// The headers signed, in order. `from` is listed twice: the second, matching no header, signs the
    /// absence of a second From, so one added in transit breaks the signature.
    public static let signedHeaders = [
        "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "reply-to", "list-id",
        "list-unsubscribe", "list-unsubscribe-post", "feedback-id", "from",
    ]

    public let keys: [DKIMKey]

    public init(keys: [DKIMKey]) {
        self.keys = keys
    }

    /// The `DKIM-Signature` header lines (each `DKIM-Signature: …\r\n`, folded) for a message with
    /// `headers` (name and folded value, in order) and `body` (everything after the blank line).
    public func signatures(headers: [(name: String, value: String)], body: [UInt8], timestamp: Int) throws -> [UInt8] {
        guard !keys.isEmpty else { return [] }
        return try signatures(
            headers: headers, bodyHash: Array(SHA256.hash(data: DKIMCanonical.relaxedBody(body))), timestamp: timestamp)
    }

    /// The same, for a body whose relaxed-canonical SHA-256 the caller computed (the message builder
    /// hashes each edition's fixed lines canonicalised once, and only a reader's own lines per message).
    func signatures(headers: [(name: String, value: String)], bodyHash digest: [UInt8], timestamp: Int) throws
        -> [UInt8]
    {
        guard !keys.isEmpty else { return [] }
        let bodyHash = Base64.encode(digest)
        let present = Set(headers.map { $0.name.lowercased() })
        // Sign only headers the message has, plus the over-signed From.
        var names = Self.signedHeaders.dropLast().filter { present.contains($0) }
        names.append("from")
        let signedData = DKIMCanonical.relaxedHeaders(names, from: headers)
        var output: [UInt8] = []
        for key in keys {
            let tags =
                "v=1; a=\(key.algorithm.rawValue); c=relaxed/relaxed; d=\(key.domain); s=\(key.selector); t=\(timestamp); h=\(names.joined(separator: ":")); bh=\(bodyHash); b="
            let unsignedValue = DKIMCanonical.foldTags(tags, nameLength: 16)
            var data = signedData
            // The signature header itself, with an empty b=, last and without its CRLF (RFC 6376 §3.7).
            data += DKIMCanonical.relaxedHeader(name: "DKIM-Signature", value: unsignedValue)
            let signature = Base64.encode(try key.sign(data))
            output += Array("DKIM-Signature: \(unsignedValue)\(DKIMCanonical.foldBase64(signature))\r\n".utf8)
        }
        return output
    }
}

/// Relaxed canonicalisation (RFC 6376 §3.4.2 and §3.4.4) and folding of the signature header.
enum DKIMCanonical {
    static func isWSP(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// `name:value` with the name in lower case, the value unfolded, runs of whitespace as one space,
    /// and no whitespace at either end of the value. No CRLF.
    static func relaxedHeader(name: String, value: String) -> [UInt8] {
        // The name in lower case, without the whitespace some writers leave before the colon.
        var output = canonicalName(name)
        output.append(0x3A)
        let valueStart = output.count
        var pendingSpace = false
        for byte in value.utf8 where byte != 0x0D && byte != 0x0A {
            if isWSP(byte) {
                pendingSpace = true
                continue
            }
            // A run of whitespace inside the value becomes one space; at its start it goes.
            if pendingSpace && output.count > valueStart { output.append(0x20) }
            pendingSpace = false
            output.append(byte)
        }
        return output
    }

    /// The headers named in `names`, each taken from the bottom up (RFC 6376 §5.4.2), canonicalised,
    /// each followed by CRLF. A name with no instance left contributes nothing.
    static func relaxedHeaders(_ names: [String], from headers: [(name: String, value: String)]) -> [UInt8] {
        var used: [String: Int] = [:]
        var output: [UInt8] = []
        let lowered = headers.map { canonicalName($0.name) }
        for name in names {
            let wanted = Array(name.utf8)
            let instances = lowered.indices.filter { lowered[$0] == wanted }
            let count = used[name, default: 0]
            guard count < instances.count else { continue }
            let header = headers[instances[instances.count - 1 - count]]
            used[name] = count + 1
            output += relaxedHeader(name: header.name, value: header.value) + [0x0D, 0x0A]
        }
        return output
    }

    /// A header name in ASCII lower case, without surrounding spaces or tabs.
    static func canonicalName(_ name: String) -> [UInt8] {
        var bytes = Array(name.utf8)
        while let last = bytes.last, isWSP(last) { bytes.removeLast() }
        while let first = bytes.first, isWSP(first) { bytes.removeFirst() }
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A { bytes[index] += 0x20 }
        return bytes
    }

    /// Whether relaxed canonicalisation would leave `body` as it is: no tab, no run of spaces, no space
    /// at a line's end, ending in exactly one CRLF. digest's quoted-printable bodies always are, so the
    /// hash can be taken of the bytes themselves.
    static func isRelaxedAlready(_ body: [UInt8]) -> Bool {
        body.withUnsafeBufferPointer { bytes in
            let count = bytes.count
            if count == 0 { return true }
            guard count >= 3, bytes[count - 2] == 0x0D, bytes[count - 1] == 0x0A else { return false }
            if count >= 4 && bytes[count - 4] == 0x0D && bytes[count - 3] == 0x0A { return false }
            var previousSpace = false
            for byte in bytes {
                if byte == 0x20 {
                    if previousSpace { return false }
                    previousSpace = true
                } else {
                    if byte == 0x09 || (byte == 0x0D && previousSpace) { return false }
                    previousSpace = false
                }
            }
            return true
        }
    }

    /// The body with trailing whitespace removed from lines, whitespace runs as one space, and empty
    /// lines at the end removed; an empty body stays empty, else it ends with one CRLF.
    static func relaxedBody(_ body: [UInt8]) -> [UInt8] {
        isRelaxedAlready(body) ? body : relaxedBodyByLine(body)
    }

    /// Complete lines (each ending in CRLF) canonicalised one by one, empty lines kept: a piece of a
    /// body whose end is elsewhere. A message's body hash is the hash of its pieces so canonicalised,
    /// as long as its last line is not empty.
    static func relaxedLines(_ lines: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(lines.count)
        var pendingSpace = false
        var index = 0
        while index < lines.count {
            let byte = lines[index]
            if byte == 0x0D, index + 1 < lines.count, lines[index + 1] == 0x0A {
                output += [0x0D, 0x0A]
                index += 2
                pendingSpace = false
                continue
            }
            if isWSP(byte) {
                pendingSpace = true
            } else {
                if pendingSpace { output.append(0x20) }
                pendingSpace = false
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    /// Relaxed body canonicalisation, line by line.
    static func relaxedBodyByLine(_ body: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var line: [UInt8] = []
        var pendingEmptyLines = 0
        var index = 0
        func finishLine() {
            while let last = line.last, isWSP(last) { line.removeLast() }
            if line.isEmpty {
                pendingEmptyLines += 1
            } else {
                for _ in 0..<pendingEmptyLines { output += [0x0D, 0x0A] }
                pendingEmptyLines = 0
                output += line
                output += [0x0D, 0x0A]
            }
            line.removeAll(keepingCapacity: true)
        }
        while index < body.count {
            let byte = body[index]
            if byte == 0x0D, index + 1 < body.count, body[index + 1] == 0x0A {
                finishLine()
                index += 2
                continue
            }
            if isWSP(byte) {
                if let last = line.last, last == 0x20 {
                    // Already one space for this run.
                } else {
                    line.append(0x20)
                }
            } else {
                line.append(byte)
            }
            index += 1
        }
        if !line.isEmpty { finishLine() }
        return output
    }

    /// The tag list folded so no line passes 78 columns: between tags, after the colons of `h=`, and
    /// anywhere in a base64 value, the only places RFC 6376 allows folding whitespace.
    static func foldTags(_ tags: String, nameLength: Int) -> String {
        var atoms: [(text: String, joinWithSpace: Bool)] = []
        let parts = tags.components(separatedBy: "; ")
        for (index, part) in parts.enumerated() {
            let piece = index < parts.count - 1 ? part + ";" : part
            if piece.hasPrefix("h=") {
                let names = piece.split(separator: ":", omittingEmptySubsequences: false)
                for (position, name) in names.enumerated() {
                    atoms.append((position < names.count - 1 ? name + ":" : String(name), position == 0))
                }
            } else if piece.hasPrefix("bh=") && piece.count > 60 {
                atoms.append((String(piece.prefix(40)), true))
                atoms.append((String(piece.dropFirst(40)), false))
            } else {
                atoms.append((piece, true))
            }
        }
        var output = ""
        var column = nameLength
        for (index, atom) in atoms.enumerated() {
            let separator = index == 0 ? 0 : (atom.joinWithSpace ? 1 : 0)
            if index > 0 && column + separator + atom.text.count > 78 {
                output += "\r\n "
                column = 1
            } else if separator == 1 {
                output += " "
                column += 1
            }
            output += atom.text
            column += atom.text.count
        }
        return output
    }

    /// The signature value in lines of 72 characters (whitespace in b= is ignored by verifiers).
    static func foldBase64(_ value: String) -> String {
        var lines: [Substring] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            lines.append(rest.prefix(72))
            rest = rest.dropFirst(72)
        }
        return "\r\n " + lines.joined(separator: "\r\n ")
    }
}
