import DigestMail
import Testing

@Suite struct BounceTokenTests {
    let signer = BounceSigner(secret: Array("a bounce key of enough length".utf8), listID: "digest.news.example.org")

    func address() throws -> BounceAddress {
        BounceAddress(domain: "bounce.news.example.org", signer: try #require(signer))
    }

    @Test(arguments: [
        BounceToken(run: "2026-11-30", subscriberID: 1),
        BounceToken(run: "2026-11-30", subscriberID: 12345),
        BounceToken(run: "2026-11-30+dry-run", subscriberID: 2_000_000),
        BounceToken(run: "", subscriberID: 0),
        BounceToken(run: "édition-spéciale", subscriberID: Int64.max),
    ])
    func anAddressNamesItsRunAndReader(_ token: BounceToken) throws {
        let verp = try address()
        let text = try #require(verp.address(for: token))
        #expect(text.hasPrefix("bounces+"))
        #expect(text.hasSuffix("@bounce.news.example.org"))
        let local = String(text.prefix { $0 != "@" })
        #expect(local.utf8.count <= 64)
        // Safe in a local part: lower-case letters and digits after the separator, nothing to quote.
        #expect(local.dropFirst(8).allSatisfy { $0.isLowercase || ("2"..."7").contains($0) })
        #expect(verp.parse(text) == token)
    }

    @Test func anEditionsTokenIsShort() throws {
        let token = try #require(signer).token(for: BounceToken(run: "2026-11-30", subscriberID: 12345))
        #expect(token.count == 32)
    }

    @Test func theAddressReadsBackWhateverItsCaseAndBrackets() throws {
        let verp = try address()
        let text = try #require(verp.address(for: BounceToken(run: "2026-11-30", subscriberID: 42)))
        #expect(verp.parse(text.uppercased()) == BounceToken(run: "2026-11-30", subscriberID: 42))
        #expect(verp.parse("<\(text)>") == BounceToken(run: "2026-11-30", subscriberID: 42))
    }

    @Test func aTamperedOrForeignTokenIsRefused() throws {
        let verp = try address()
        let text = try #require(verp.address(for: BounceToken(run: "2026-11-30", subscriberID: 42)))
        let local = text.prefix { $0 != "@" }
        // Each character changed in turn.
        for offset in 8..<local.count {
            var characters = Array(local)
            characters[offset] = characters[offset] == "a" ? "b" : "a"
            #expect(verp.parse(String(characters) + "@bounce.news.example.org") == nil)
        }
        let otherList = BounceAddress(
            domain: "bounce.news.example.org",
            signer: try #require(BounceSigner(secret: Array("a bounce key of enough length".utf8), listID: "other")))
        #expect(otherList.parse(text) == nil)
        #expect(verp.parse(text.replacingOccurrences(of: "bounce.news", with: "mail.news")) == nil)
        #expect(verp.parse(text.replacingOccurrences(of: "bounces+", with: "returns+")) == nil)
        #expect(verp.parse("bounces+@bounce.news.example.org") == nil)
        #expect(verp.parse("bounces+0189@bounce.news.example.org") == nil)
        #expect(verp.parse("reader@example.com") == nil)
    }

    @Test func aTooLongRunGivesNoAddress() throws {
        #expect(try address().address(for: BounceToken(run: String(repeating: "r", count: 60), subscriberID: 1)) == nil)
    }

    @Test func aShortKeyIsRefused() {
        #expect(BounceSigner(secret: Array("short".utf8), listID: "x") == nil)
    }

    @Test func base32RoundTripsAndIgnoresCase() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xFF) }
            let text = Base32.encode(bytes)
            #expect(Base32.decode(text) == bytes)
            #expect(Base32.decode(text.uppercased()) == bytes)
        }
        #expect(Base32.encode(Array("foobar".utf8)) == "mzxw6ytboi")  // RFC 4648 §10, unpadded, lower case
        #expect(Base32.decode("mzxw6yt!") == nil)
    }
}
