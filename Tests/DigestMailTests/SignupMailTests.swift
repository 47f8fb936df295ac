import DigestCore
import DigestMail
import DigestTestSupport
import Foundation
import Testing

@Suite("Sign-up tokens and notices")
struct SignupMailTests {
    static let signer = SignupSigner(secret: Array("test-signup-key-0123456789".utf8), listID: "eaworldview.com")!

    @Test func aTokenSaysItsAddressNonceAndTimeAndNothingEditedPasses() throws {
        let issued = Date(timeIntervalSince1970: 1_700_000_000)
        let token = Self.signer.token(address: EmailAddress("ana@example.org")!, nonce: "abc123", issued: issued)
        let claim = try #require(Self.signer.verify(token))
        #expect(claim.address.description == "ana@example.org")
        #expect(claim.nonce == "abc123")
        #expect(claim.issued == issued)
        let parts = token.split(separator: ".").map(String.init)
        let edited = Base64URL.encode(Array("bob@example.org\nabc123\n1700000000".utf8)) + "." + parts[1]
        let otherList = SignupSigner(secret: Array("test-signup-key-0123456789".utf8), listID: "other.example")!
        let unsubscribe = UnsubscribeSigner(secret: Array("test-signup-key-0123456789".utf8), listID: "eaworldview.com")!
        for bad in [edited, otherList.token(address: claim.address, nonce: "abc123", issued: issued),
            unsubscribe.token(for: "1"), parts[0], "", "a.b.c"]
        {
            #expect(Self.signer.verify(bad) == nil, "\(bad)")
        }
        // An unsubscribe token under the same key is not a sign-up token, nor the other way round.
        #expect(unsubscribe.verify(token) == nil)
    }

    @Test func theConfirmationIsPlainSevenBitAndSignedLikeTheEditions() async throws {
        let (publication, _, _) = try Repository.sample()
        let notice = NoticeMessage(
            publication: publication, identity: SequentialMessageIdentity(seed: "signup"),
            signer: try SampleMessages.signer())
        let link = "https://eaworldview.com/confirm?t=" + String(repeating: "x", count: 140)
        let message = try notice.message(
            to: Mailbox(name: "Zoë Ðoe", address: EmailAddress("zoe@example.org")!),
            subject: "Confirm your subscription to EA WorldView", text: "Hello,\n\n\(link)\n\n.\nFrom here\n",
            date: SampleMessages.fixedDate)
        let file = try Repository.temporaryFolder("notice").appendingPathComponent("notice.eml")
        try Data(message.data).write(to: file)
        let parsed = try #require(try await ParsedMessage.parse([file]).first)
        #expect(parsed.defects.isEmpty)
        #expect(parsed.subject == "Confirm your subscription to EA WorldView")
        #expect(parsed.toName == "Zoë Ðoe")
        #expect(parsed.text.contains(link))
        #expect(parsed.nonASCIIBytes == 0 && parsed.bareLineFeeds == 0 && parsed.longestLine <= 78)
        let verified = try await DKIMVerification.verify([file], records: SampleMessages.records())
        #expect(verified == [[true, true]])
    }
}
