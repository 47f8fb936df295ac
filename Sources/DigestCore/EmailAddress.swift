/// A mailbox address (`local@domain`) that is safe to put in a header or an SMTP command.
///
/// Only the dot-atom form of RFC 5322 is accepted, in ASCII: quoted local parts and address literals
/// are legal but no newsletter reader has one, and nothing with a control character, space, `<` or `>`
/// can pass, so an address can never inject an SMTP command or a header.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    public let localPart: String
    public let domain: String

    public init?(_ text: String) {
        guard let at = text.lastIndex(of: "@") else { return nil }
        let local = String(text[..<at])
        let domain = String(text[text.index(after: at)...])
        guard EmailAddress.isDotAtom(local), local.utf8.count <= 64, EmailAddress.isHostname(domain),
            text.utf8.count <= 254
        else { return nil }
        self.localPart = local
        self.domain = domain
    }

    /// An address from parts known to be valid (built-in samples).
    init(known localPart: String, _ domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// The address as written in SMTP and headers. The domain is compared case-insensitively,
    /// so it is kept in lower case.
    public var description: String { "\(localPart)@\(domain.lowercased())" }

    public static func == (lhs: EmailAddress, rhs: EmailAddress) -> Bool {
        lhs.description == rhs.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(description)
    }

    /// Why `text` is not an address, for an error message.
    public static func reason(_ text: String) -> String {
        if text.isEmpty { return "it is empty" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "it contains a control character (a line break?)"
        }
        if !text.contains("@") { return "it has no '@'" }
        if let at = text.lastIndex(of: "@"), !text[..<at].allSatisfy(\.isASCII) {
            return "its part before the @ has characters outside ASCII, which digest cannot send (no SMTPUTF8)"
        }
        if !text.allSatisfy(\.isASCII) {
            return "it has characters outside ASCII (write an IDN domain in its xn-- form)"
        }
        if text.contains(" ") { return "it contains a space" }
        return "it is not of the form name@example.com"
    }

    static let atomSpecials = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    static func isDotAtom(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        let atoms = text.split(separator: ".", omittingEmptySubsequences: false)
        return atoms.allSatisfy { atom in
            !atom.isEmpty
                && atom.utf8.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                        || atomSpecials.contains(byte)
                }
        }
    }

    /// A DNS host name: letters, digits and hyphens in labels of 1 to 63 characters, at least two labels
    /// (or `localhost`).
    public static func isHostname(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 || text.lowercased() == "localhost" else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D
                }
        }
    }
}

extension EmailAddress: Codable {
    /// An address is written as its text; reading one that is not valid is an error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = EmailAddress(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an email address: \(EmailAddress.reason(text))")
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An address with the name shown beside it: `Scott Lucas <scott@example.com>`.
public struct Mailbox: Hashable, Sendable {
    public var name: String
    public var address: EmailAddress

    public init(name: String = "", address: EmailAddress) {
        self.name = name
        self.address = address
    }
}
