import DigestCore
import Testing

@Suite("Editor's note Markdown")
struct MarkdownTests {
    @Test func paragraphsListsAndInlines() {
        let markdown = Markdown(
            "Hello **bold** and *soft* `code`.\n\n- one [link](https://example.com)\n- two\n\n## Later\nend")
        #expect(markdown.blocks.count == 4)
        #expect(
            markdown.blocks[0]
                == .paragraph([
                    .text("Hello "), .strong([.text("bold")]), .text(" and "), .emphasis([.text("soft")]), .text(" "),
                    .code("code"), .text("."),
                ]))
        #expect(
            markdown.blocks[1]
                == .bulletList([
                    [.text("one "), .link(text: [.text("link")], url: "https://example.com")], [.text("two")],
                ]))
        #expect(markdown.blocks[2] == .heading(level: 2, [.text("Later")]))
    }

    @Test func rawHTMLAndUnsafeLinksStayText() {
        let markdown = Markdown("<script>alert(1)</script> <stuff> and [x](javascript:alert(1)) go on")
        #expect(markdown.blocks.count == 1)
        guard case .paragraph(let inlines) = markdown.blocks[0] else {
            Issue.record("expected one paragraph")
            return
        }
        #expect(Markdown.plainText(inlines) == "<script>alert(1)</script> <stuff> and [x](javascript:alert(1)) go on")
        #expect(!inlines.contains { if case .link = $0 { true } else { false } })
    }

    @Test func unmatchedMarkersAreLiteral() {
        #expect(
            Markdown("2 * 3 = 6 and snake_case_name").blocks == [.paragraph([.text("2 * 3 = 6 and snake_case_name")])])
    }
}
