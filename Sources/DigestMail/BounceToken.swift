import Crypto
import Foundation

/// What a VERP return path names: the run (edition) and the reader a message was sent to.
public struct BounceToken: Hashable, Sendable {
    public let run: String
    public let subscriberID: Int64

    public init(run: String, subscriberID: Int64) {
        self.run = run
        self.subscriberID = subscriberID
    }
}

/// Signs and reads the token of a VERP return path, so a bounce names its run and reader exactly even when the
/// report quotes no address, and nobody can mark a reader bounced by mailing a forged report.
///
/// Form: `base32(varint(subscriber id) ‖ run ‖ MAC)`, lowercase RFC 4648 base32 without padding, where MAC is
/// the first 8 bytes of HMAC-SHA256(key, "digest-bounce\n" list "\n" varint ‖ run). Base32 because mail systems
/// may change the case of a local part; 8 bytes of MAC because a local part holds 64 octets at most, and a
/// forger gets one guess per mailed report. An edition's run (`2026-11-30`) and reader 12345 give 32
/// characters.
public struct BounceSigner: Sendable {
    let secret: [UInt8]
    public let listID: String
    static let macLength = 8

    /// `secret` must hold at least 16 bytes.
    public init?(secret: [UInt8], listID: String) {
        guard secret.count >= 16 else { return nil }
        self.secret = secret
        self.listID = listID
    }

    public func token(for token: BounceToken) -> String {
        let body = Self.varint(UInt64(bitPattern: token.subscriberID)) + Array(token.run.utf8)
        return Base32.encode(body + mac(body))
    }

    /// The run and reader the token was minted for, or nil when it was not minted with this key and list.
    public func verify(_ token: String) -> BounceToken? {
        guard let bytes = Base32.decode(token), bytes.count > Self.macLength else { return nil }
        let body = Array(bytes.dropLast(Self.macLength))
        let given = bytes.suffix(Self.macLength)
        // Constant-time comparison of the truncated MAC.
        var difference: UInt8 = 0
        for (a, b) in zip(mac(body), given) { difference |= a ^ b }
        guard difference == 0, let (id, length) = Self.readVarint(body),
            let run = String(bytes: body[length...], encoding: .utf8)
        else { return nil }
        return BounceToken(run: run, subscriberID: Int64(bitPattern: id))
    }

    func mac(_ body: [UInt8]) -> [UInt8] {
        let message = Data("digest-bounce\n\(listID)\n".utf8) + Data(body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return Array(Array(code).prefix(Self.macLength))
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }

    static func readVarint(_ bytes: [UInt8]) -> (UInt64, Int)? {
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            guard index < 10 else { return nil }
            value |= UInt64(byte & 0x7F) << UInt64(7 * index)
            if byte & 0x80 == 0 { return (value, index + 1) }
        }
        return nil
    }
}

/// The VERP envelope sender: `LOCAL+TOKEN@DOMAIN` (e.g. `bounces+mfrgg…@bounce.example.org`), and back.
public struct BounceAddress: Sendable {
    public let localPart: String
    public let domain: String
    public let separator: Character
    public let signer: BounceSigner

    public init(localPart: String = "bounces", domain: String, separator: Character = "+", signer: BounceSigner) {
        self.localPart = localPart
        self.domain = domain
        self.separator = separator
        self.signer = signer
    }

    /// The return path for one reader of one run; nil when its local part would pass SMTP's 64 octets (a run
    /// name of more than about 40 bytes).
    public func address(for token: BounceToken) -> String? {
        let local = localPart + String(separator) + signer.token(for: token)
        guard local.utf8.count <= 64 else { return nil }
        return local + "@" + domain
    }

    /// The run and reader of a VERP address (any case), or nil when it is not one of ours or its token does not
    /// verify.
    public func parse(_ address: String) -> BounceToken? {
        var text = Substring(address.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("<") && text.hasSuffix(">") { text = text.dropFirst().dropLast() }
        guard let at = text.lastIndex(of: "@"), text[text.index(after: at)...].lowercased() == domain.lowercased()
        else { return nil }
        let local = text[..<at]
        let prefix = (localPart + String(separator)).lowercased()
        guard local.lowercased().hasPrefix(prefix) else { return nil }
        return signer.verify(String(local.dropFirst(prefix.count)))
    }
}

/// Base32 (RFC 4648 §6) in lower case, without padding; decoding ignores case.
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = character - UInt8(ascii: "2") + 26
            default: return nil
            }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // Leftover bits must be padding zeros (fewer than 5 of them).
        guard bits < 5, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
