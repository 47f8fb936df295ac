import DigestBounces
import Testing

@Suite struct MIMEReaderTests {
    @Test func foldedHeadersAreUnfoldedAndEncodedWordsDecoded() {
        let message = MIMEReader.parse(
            "Subject: =?UTF-8?Q?Unzustellbar:_Die_t=C3=A4gliche?=\r\n =?ISO-8859-1?B?QXVzZ2FiZQ==?=\r\n"
                + "To: a long\r\n\tlist <reader@example.com>\r\n\r\nbody\r\n")
        #expect(message.header("Subject") == "Unzustellbar: Die täglicheAusgabe")
        #expect(message.header("to") == "a long list <reader@example.com>")
        #expect(message.text == "body\r\n")
    }

    @Test func bareLineFeedsReadLikeCRLF() {
        let crlf = MIMEReader.parse(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b--\r\n")
        let lf = MIMEReader.parse("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n--b--\n")
        #expect(crlf.children.map(\.text) == ["one"])
        #expect(lf.children.map(\.text) == ["one"])
    }

    @Test func nestedMultipartsAndEnclosedMessagesAreWalked() {
        let message = MIMEReader.parse(
            """
            Content-Type: multipart/report; report-type=delivery-status; boundary="outer"

            --outer
            Content-Type: multipart/alternative; boundary="inner"

            --inner
            Content-Type: text/plain

            plain
            --inner
            Content-Type: text/html

            <p>html</p>
            --inner--
            --outer
            Content-Type: message/rfc822

            To: reader@example.com
            Subject: original

            hello
            --outer--
            """)
        #expect(message.children.count == 2)
        #expect(message.children[0].children.map(\.text) == ["plain", "<p>html</p>"])
        #expect(message.first(ofType: "message/rfc822")?.children.first?.header("Subject") == "original")
        #expect(message.allEntities().count == 6)
    }

    @Test func quotedPrintableAndBase64BodiesAreDecoded() {
        let qp = MIMEReader.parse(
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                + "caf=C3=A9 soft=\nbreak =ZZ kept\n")
        #expect(qp.text == "café softbreak =ZZ kept\n")
        let base64 = MIMEReader.parse(
            "Content-Type: text/plain\nContent-Transfer-Encoding: BASE64\n\naGVs\nbG8g!!d29y\nbGQ=\n")
        #expect(base64.text == "hello world")
    }

    @Test func latin1TextIsReadByteForByte() {
        let message = MIMEReader.parse(
            [UInt8]("Content-Type: text/plain; charset=iso-8859-1\n\n".utf8) + [0x57, 0x65, 0x69, 0xDF])
        #expect(message.text == "Weiß")
    }

    @Test func aMissingBoundaryKeepsTheBodyAsText() {
        let noParameter = MIMEReader.parse("Content-Type: multipart/mixed\n\nsome text\n")
        #expect(noParameter.children.isEmpty)
        #expect(noParameter.text == "some text\n")
        let neverFound = MIMEReader.parse("Content-Type: multipart/mixed; boundary=zz\n\nno delimiter here\n")
        #expect(neverFound.children.isEmpty)
        let unclosed = MIMEReader.parse("Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\npart one\n--zz\n\ntwo")
        #expect(unclosed.children.map(\.text) == ["part one", "two"])
    }

    @Test func aHeaderWithoutTheEmptyLineEndsAtTheFirstLineThatIsNotAField() {
        let message = MIMEReader.parse("From MAILER-DAEMON Mon Nov 30 06:00:00 2026\nSubject: x\nthis is body\n")
        #expect(message.header("Subject") == "x")
        #expect(message.text == "this is body\n")
    }

    @Test func junkNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let seeds: [[UInt8]] = [
            [], [0x0A], [0x0D, 0x0A, 0x0D, 0x0A], Array("=?".utf8), Array("Subject: =?x?Q?=?=\n\n".utf8),
            Array("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n".utf8),
            Array("Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n".utf8),
            Array("Content-Transfer-Encoding: quoted-printable\n\n=".utf8),
            Array("Content-Transfer-Encoding: quoted-printable\n\n=\r".utf8),
            Array("Content-Type: message/delivery-status\n\nAction: failed\n\n\n:\n".utf8),
        ]
        for seed in seeds {
            _ = BounceReader.inspect(seed)
        }
        for _ in 0..<300 {
            let length = Int.random(in: 0..<600, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Mix in structure so the multipart and DSN paths run on junk too.
            bytes = Array(
                "From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; boundary=q\n\n--q\n".utf8) + bytes
                + Array("\n--q\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.c\n".utf8)
            _ = BounceReader.inspect(bytes)
        }
    }

    @Test func deepNestingStopsAtTheLimit() {
        var text = "Subject: bottom\n\nend\n"
        for _ in 0..<100 { text = "Content-Type: message/rfc822\n\n" + text }
        let message = MIMEReader.parse(text)
        #expect(message.allEntities().count == MIMEReader.maximumDepth + 1)
    }
}
