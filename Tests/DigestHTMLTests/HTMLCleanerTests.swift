import DigestHTML
import Foundation
import Testing

@Suite("Cleaning feed HTML")
struct HTMLCleanerTests {
    @Test func summariesAreCutAtASentenceEnd() {
        let text =
            "First sentence is here. Second sentence follows it. Third one is long enough to be cut somewhere in the middle."
        #expect(HTMLCleaner.summary(text, length: 60) == "First sentence is here. Second sentence follows it.")
        #expect(
            HTMLCleaner.summary("One very long sentence without any end at all that keeps going on", length: 30)
                == "One very long sentence without…")
        #expect(HTMLCleaner.summary("Short.", length: 30) == "Short.")
    }

    @Test func canonicalURLsDropTrackingAndFragments() {
        #expect(
            CanonicalURL.of("HTTPS://EAWorldView.com:443/a/?utm_source=rss&utm_medium=x&id=3#comments")
                == "https://eaworldview.com/a/?id=3")
        #expect(
            CanonicalURL.of("https://eaworldview.com/a/?fbclid=xyz") == CanonicalURL.of("https://eaworldview.com/a/"))
    }

    @Test func rootRelativeLinksJoinAsURLResolutionDoes() {
        let bases = [
            "https://eaworldview.com/2017/11/story/", "http://example.org", "https://a.example:8443/x?y=1#z",
            "https://User@host.example/", "ftp://example.org/",
        ]
        let paths = [
            "/x", "/2017/11/a-b_c/", "/a.b/c", "/./x", "/../x", "/a/..", "/a/.", "/.well-known/x", "/x?q=a b",
            "/x?q=../y", "/x#frag", "//other.example/x", "/x%20y", "/ü", "/a b", "/x?y=\"",
        ]
        var joined = 0
        for base in bases {
            for path in paths {
                guard let fast = HTMLCleaner.rootRelative(path, base: base) else { continue }
                joined += 1
                #expect(
                    fast == URL(string: path, relativeTo: URL(string: base))?.absoluteURL.absoluteString,
                    "\(path) on \(base)")
            }
        }
        #expect(joined >= 12)
    }
}
