import Foundation

/// The record types the checks ask for.
public enum DNSType: UInt16, Sendable, CustomStringConvertible {
    case a = 1
    case cname = 5
    case mx = 15
    case txt = 16
    case aaaa = 28

    public var description: String {
        switch self {
        case .a: "A"
        case .cname: "CNAME"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        }
    }
}

/// One record of an answer, as the checks use it.
public enum DNSRecord: Equatable, Sendable {
    case a(String)
    case aaaa(String)
    case cname(String)
    case mx(preference: Int, host: String)
    /// The character-strings of one TXT record, in order (RFC 7208 §3.3 and RFC 6376 §3.6.2.2 join them).
    case txt([String])
}

/// A server's answer: its response code and the records of the asked type (CNAMEs followed by a
/// recursive resolver come along and are kept).
public struct DNSAnswer: Equatable, Sendable {
    public enum Code: Equatable, Sendable {
        case noError
        /// The name does not exist.
        case nameError
        case other(Int)
    }

    public var code: Code
    public var records: [DNSRecord]

    public init(code: Code = .noError, records: [DNSRecord]) {
        self.code = code
        self.records = records
    }

    /// Each TXT record's strings joined, in answer order.
    public var texts: [String] {
        records.compactMap { if case .txt(let strings) = $0 { strings.joined() } else { nil } }
    }

    public var addresses: [String] {
        records.compactMap {
            switch $0 {
            case .a(let address), .aaaa(let address): address
            default: nil
            }
        }
    }

    public var exchangers: [(preference: Int, host: String)] {
        records.compactMap { if case .mx(let preference, let host) = $0 { (preference, host) } else { nil } }
    }
}

/// Why a lookup gave no answer: a timeout, a server failure, an unreadable reply. Checks report these
/// as "could not check", never as a missing record.
public struct DNSFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The DNS wire format (RFC 1035) for one question and its answer.
enum DNSWire {
    /// A standard query with recursion desired; no EDNS, so a UDP answer over 512 bytes comes back
    /// truncated and is asked again over TCP.
    static func query(id: UInt16, name: String, type: DNSType) throws -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
            let utf8 = Array(label.utf8)
            guard !utf8.isEmpty, utf8.count < 64 else { throw DNSFailure("'\(name)' is not a DNS name") }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        guard bytes.count - 12 < 255 else { throw DNSFailure("'\(name)' is longer than DNS allows") }
        bytes += [0, UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1]
        return bytes
    }

    struct Parsed {
        var id: UInt16
        var truncated: Bool
        var answer: DNSAnswer
    }

    /// Parses a reply. Records of types the checks do not use are skipped.
    static func parse(_ bytes: [UInt8]) throws -> Parsed {
        var reader = Reader(bytes: bytes)
        let id = try reader.u16()
        let flags = try reader.u16()
        guard flags & 0x8000 != 0 else { throw DNSFailure("the server sent a query, not an answer") }
        let questions = try reader.u16()
        let answers = try reader.u16()
        _ = try reader.u16()
        _ = try reader.u16()
        let truncated = flags & 0x0200 != 0
        let rcode = Int(flags & 0x000F)
        for _ in 0..<questions {
            _ = try reader.name()
            try reader.skip(4)
        }
        var records: [DNSRecord] = []
        if !truncated {
            for _ in 0..<answers {
                _ = try reader.name()
                let type = try reader.u16()
                try reader.skip(6)
                let length = Int(try reader.u16())
                let end = reader.offset + length
                guard end <= bytes.count else { throw DNSFailure("the answer is cut short") }
                switch DNSType(rawValue: type) {
                case .a where length == 4:
                    records.append(.a(bytes[reader.offset..<end].map(String.init).joined(separator: ".")))
                case .aaaa where length == 16:
                    records.append(.aaaa(ipv6Text(Array(bytes[reader.offset..<end]))))
                case .cname:
                    records.append(.cname(try reader.name()))
                case .mx:
                    let preference = Int(try reader.u16())
                    records.append(.mx(preference: preference, host: try reader.name()))
                case .txt:
                    var strings: [String] = []
                    while reader.offset < end {
                        let count = Int(try reader.byte())
                        guard reader.offset + count <= end else { throw DNSFailure("a TXT string is cut short") }
                        strings.append(String(decoding: bytes[reader.offset..<reader.offset + count], as: UTF8.self))
                        reader.offset += count
                    }
                    records.append(.txt(strings))
                default:
                    break
                }
                reader.offset = end
            }
        }
        let code: DNSAnswer.Code =
            switch rcode {
            case 0: .noError
            case 3: .nameError
            default: .other(rcode)
            }
        return Parsed(id: id, truncated: truncated, answer: DNSAnswer(code: code, records: records))
    }

    static func ipv6Text(_ bytes: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            for index in 0..<16 { raw[index] = bytes[index] }
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw DNSFailure("the answer is cut short") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws -> UInt16 {
            let high = try byte()
            return UInt16(high) << 8 | UInt16(try byte())
        }

        mutating func skip(_ count: Int) throws {
            guard offset + count <= bytes.count else { throw DNSFailure("the answer is cut short") }
            offset += count
        }

        /// A name, following compression pointers (at most 64 of them, so a loop cannot hang us).
        mutating func name() throws -> String {
            var labels: [String] = []
            var position = offset
            var jumped = false
            var jumps = 0
            while true {
                guard position < bytes.count else { throw DNSFailure("a name in the answer is cut short") }
                let length = Int(bytes[position])
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count, jumps < 64 else { throw DNSFailure("a bad name pointer") }
                    if !jumped { offset = position + 2 }
                    jumped = true
                    jumps += 1
                    position = (length & 0x3F) << 8 | Int(bytes[position + 1])
                    continue
                }
                if length == 0 {
                    if !jumped { offset = position + 1 }
                    break
                }
                guard position + 1 + length <= bytes.count else { throw DNSFailure("a name label is cut short") }
                labels.append(String(decoding: bytes[position + 1..<position + 1 + length], as: UTF8.self))
                position += 1 + length
            }
            return labels.joined(separator: ".")
        }
    }
}
