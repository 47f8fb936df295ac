import DigestCore
import DigestMail
import Foundation
import Testing

@testable import DigestCurl

/// The replies CurlMailbox reads, in the shapes servers other than the test's Dovecot write them.
@Suite("The mailbox client's replies")
struct CurlMailboxParsingTests {
    @Test func uidValidityIsReadFromASTATUSReplyQuotedOrNot() {
        #expect(CurlMailbox.parseUIDValidity(Array("* STATUS \"INBOX\" (UIDVALIDITY 1796044460)\r\n".utf8)) == 1_796_044_460)
        #expect(CurlMailbox.parseUIDValidity(Array("* STATUS INBOX (UIDNEXT 4 UIDVALIDITY 3)\r\n".utf8)) == 3)
        #expect(CurlMailbox.parseUIDValidity(Array("* STATUS INBOX (UIDNEXT 4)\r\n".utf8)) == nil)
    }

    @Test func searchResultsOnSeveralLinesAreAllReadInOrder() {
        let reply = "* SEARCH 7 3\r\n* SEARCH 12\r\n* OK still here\r\n"
        #expect(CurlMailbox.parseSearch(Array(reply.utf8)) == [3, 7, 12])
        #expect(CurlMailbox.parseSearch(Array("* SEARCH\r\n".utf8)).isEmpty)
    }

    @Test func uidlLinesGiveTheStableIDAndTheSessionsNumber() {
        let reply = "+OK\r\n1 000000016b0d76ac\r\n2 whatever-id\r\n.\r\n"
        #expect(
            CurlMailbox.parseUIDL(Array(reply.utf8)) == [
                MailboxEntry(id: "000000016b0d76ac", locator: "1"), MailboxEntry(id: "whatever-id", locator: "2"),
            ])
    }

    @Test func folderNamesAreQuotedForIMAP() {
        #expect(CurlMailbox.quoted("Processed") == "\"Processed\"")
        #expect(CurlMailbox.quoted("A \"b\" \\c") == "\"A \\\"b\\\" \\\\c\"")
    }
}
