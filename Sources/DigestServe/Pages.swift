import DigestCore
import DigestStore
import Foundation

/// The server's own pages: small, self-contained HTML with inline styles and no script, except the
/// preview's reload script, served from this server.
enum Pages {
    static let style = """
        body{margin:0;font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;\
        background:#f2f3f5}main{max-width:640px;margin:40px auto;padding:28px 32px;background:#fff}\
        h1{font:bold 26px/1.25 Georgia,"Times New Roman",serif;margin:0 0 16px}a{color:#0b5cad}\
        ol{padding:0;list-style:none}li{padding:10px 0;border-top:1px solid #e3e5e8}\
        .date{color:#5f6b76;font-size:14px}button{font:inherit;padding:10px 18px;border:0;border-radius:4px;\
        background:#0b5cad;color:#fff;cursor:pointer}
        """

    static func document(title: String, body: String, language: String = "en", head: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="\(HTMLEscape.attribute(language))">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLEscape.text(title))</title>\(head)
        <style>\(style)</style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    static func message(title: String, text: String) -> String {
        document(title: title, body: "<h1>\(HTMLEscape.text(title))</h1>\n<p>\(HTMLEscape.text(text))</p>")
    }

    /// The published editions, newest first, each linking to its web page.
    static func archive(publication: Publication, editions: [(EditionDate, String)]) -> String {
        var body = "<h1>\(HTMLEscape.text(publication.name))</h1>\n"
        if editions.isEmpty {
            body += "<p>No edition has been published yet.</p>\n"
        } else {
            body += "<ol>\n"
            for (date, subject) in editions {
                let title = subject.isEmpty ? date.longText : subject
                body +=
                    "<li><a href=\"/editions/\(date)\">\(HTMLEscape.text(title))</a><br>"
                    + "<span class=\"date\">\(HTMLEscape.text(date.longText))</span></li>\n"
            }
            body += "</ol>\n"
        }
        // Feed readers find the archive's Atom feed from the page.
        let feed =
            "\n<link rel=\"alternate\" type=\"application/atom+xml\" title=\"\(HTMLEscape.attribute(publication.name))\" "
            + "href=\"/feed.xml\">"
        return document(title: publication.name, body: body, language: publication.language, head: feed)
    }

    /// The editor's report of one edition (`--preview` only): the figures, and SVG bar charts of the
    /// delivery and of the clicks per story. The same figures as `digest report --json`.
    static func report(_ report: EditionReport) -> String {
        let figures: [(String, String, Int?)] = [
            ("sent", "sent", report.sent), ("deferred", "deferred", report.deferred),
            ("failed", "failed", report.failed),
            ("in-doubt", "in doubt", report.inDoubt), ("left", "left during the run", report.leftDuringRun),
            ("hard-bounces", "hard bounces", report.hardBounces), ("soft-bounces", "soft bounces", report.softBounces),
            ("complaints", "complaints", report.complaints),
            ("unsubscribes", "unsubscribed after it", report.unsubscribes),
        ]
        var body = "<h1>\(HTMLEscape.text(report.subject.isEmpty ? report.date : report.subject))</h1>\n"
        body += "<p class=\"date\">\(HTMLEscape.text(report.date)), \(report.recipients) readers</p>\n<table>\n"
        for (id, name, value) in figures {
            body +=
                "<tr><th>\(HTMLEscape.text(name))</th><td id=\"\(id)\">\(value.map(String.init) ?? "not recorded")</td></tr>\n"
        }
        body += "</table>\n"
        body += bars(
            title: "Delivery",
            [
                ("sent", report.sent), ("deferred", report.deferred), ("failed", report.failed),
                ("in doubt", report.inDoubt), ("left", report.leftDuringRun),
            ])
        if let stories = report.stories {
            body += "<h2>Clicks per story</h2>\n"
            body += bars(title: "Clicks per story", stories.map { ("\($0.number). \($0.title)", $0.clicks) })
            body += "<table>\n"
            for story in stories {
                body +=
                    "<tr><th>\(story.number). \(HTMLEscape.text(story.title))</th><td class=\"clicks\">\(story.clicks)</td>"
                    + "<td class=\"scanners\">\(story.scannerClicks) by scanners</td></tr>\n"
            }
            body += "</table>\n"
        } else {
            body += "<p>Clicks are not counted for this edition (tracking.clicks: stories counts them per story).</p>\n"
        }
        return document(title: "Report: \(report.date)", body: body)
    }

    /// A horizontal bar chart as inline SVG: one labelled bar per value.
    static func bars(title: String, _ values: [(String, Int)]) -> String {
        let most = max(1, values.map(\.1).max() ?? 1)
        let row = 26
        var svg =
            "<svg role=\"img\" aria-label=\"\(HTMLEscape.attribute(title))\" width=\"640\" height=\"\(values.count * row + 8)\" "
            + "viewBox=\"0 0 640 \(values.count * row + 8)\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        for (index, (label, value)) in values.enumerated() {
            let y = index * row + 4
            let width = value * 380 / most
            let short = label.count > 34 ? String(label.prefix(33)) + "…" : label
            svg +=
                "<text x=\"0\" y=\"\(y + 16)\" font-size=\"13\" fill=\"#333\">\(HTMLEscape.text(short))</text>"
                + "<rect x=\"240\" y=\"\(y + 3)\" width=\"\(max(width, value > 0 ? 2 : 0))\" height=\"18\" fill=\"#0b5cad\"/>"
                + "<text x=\"\(246 + width)\" y=\"\(y + 16)\" font-size=\"13\" fill=\"#333\">\(value)</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The page an unsubscribe link opens: a button that POSTs back to the same address.
    static func confirm(publication: String) -> String {
        let name = publication.isEmpty ? "this newsletter" : publication
        return document(
            title: "Unsubscribe",
            body: """
                <h1>Unsubscribe from \(HTMLEscape.text(name))?</h1>
                <p>You will get no more editions at this address.</p>
                <form method="post">
                <input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button type="submit">Unsubscribe</button>
                </form>
                """)
    }

    static func unsubscribed(publication: String) -> String {
        let name = publication.isEmpty ? "the newsletter" : publication
        return document(
            title: "Unsubscribed",
            body: """
                <h1>You are unsubscribed</h1>
                <p>You will get no more editions of \(HTMLEscape.text(name)) at this address.</p>
                """)
    }

    static func badLink() -> String {
        message(
            title: "This link does not work",
            text: "The unsubscribe link is incomplete or was changed. Use the link in the newest email as it is, "
                + "or reply to the newsletter and ask to be taken off the list.")
    }

    // MARK: Sign-up

    static func subscribeForm(publication: String, language: String, message: String?) -> String {
        let name = publication.isEmpty ? "the newsletter" : publication
        let note = message.map { "<p role=\"alert\"><strong>\(HTMLEscape.text($0))</strong></p>\n" } ?? ""
        return document(
            title: "Subscribe to \(name)",
            body: """
                <h1>Subscribe to \(HTMLEscape.text(name))</h1>
                \(note)<p>You will get an email with a link to confirm: nothing comes until you do.</p>
                <form method="post" action="/subscribe">
                <p><label for="email">Email address</label><br>
                <input id="email" type="email" name="email" required autocomplete="email" size="32"></p>
                <p><label for="name">Name (optional)</label><br>
                <input id="name" type="text" name="name" autocomplete="name" size="32"></p>
                <div style="position:absolute;left:-10000px" aria-hidden="true">
                <label for="website">Leave this empty</label>
                <input id="website" type="text" name="website" tabindex="-1" autocomplete="off"></div>
                <button type="submit">Subscribe</button>
                </form>
                """, language: language)
    }

    static func checkInbox(publication: String) -> String {
        let name = publication.isEmpty ? "the newsletter" : publication
        return document(
            title: "Check your inbox",
            body: """
                <h1>Check your inbox</h1>
                <p>If this address can join \(HTMLEscape.text(name)), an email with a link to confirm is on its way. \
                Open it and press the button to start getting the newsletter.</p>
                """)
    }

    /// The page a confirmation link opens: a button that POSTs back with the token.
    static func confirmSignup(publication: String, token: String) -> String {
        let name = publication.isEmpty ? "the newsletter" : publication
        return document(
            title: "Confirm your subscription",
            body: """
                <h1>Subscribe to \(HTMLEscape.text(name))?</h1>
                <p>Press the button to confirm that you want to get the newsletter at this address.</p>
                <form method="post" action="/confirm">
                <input type="hidden" name="t" value="\(HTMLEscape.attribute(token))">
                <button type="submit">Confirm</button>
                </form>
                """)
    }

    static func subscribed(publication: String) -> String {
        let name = publication.isEmpty ? "the newsletter" : publication
        return document(
            title: "Subscribed",
            body: """
                <h1>You are subscribed</h1>
                <p>You will get the next edition of \(HTMLEscape.text(name)). Every edition has a link to leave.</p>
                """)
    }

    static func signupLinkProblem(expired: Bool) -> String {
        message(
            title: expired ? "This link has expired" : "This link does not work",
            text: expired
                ? "Confirmation links work for a limited time. Sign up again and use the new link."
                : "The confirmation link is incomplete or was changed. Use the link in the email as it is, or sign up again."
        )
    }

    // MARK: The preview

    struct PreviewOptions {
        var mobile: Bool
        var dark: Bool

        func query(mobile: Bool? = nil, dark: Bool? = nil) -> String {
            var parts: [String] = []
            if mobile ?? self.mobile { parts.append("mobile=1") }
            if dark ?? self.dark { parts.append("dark=1") }
            return parts.isEmpty ? "?" : "?" + parts.joined(separator: "&")
        }
    }

    static let previewStyle = """
        html,body{margin:0;height:100%}body{display:flex;flex-direction:column;\
        font:14px/1.4 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#d9dce0}\
        header{display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center;padding:8px 16px;background:#1f2933;\
        color:#e6e6e6}header a{color:#9fd0ff}header .on{color:#fff;font-weight:bold;text-decoration:none}\
        header .subject{flex:1 1 300px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}\
        .frame{flex:1;display:flex;justify-content:center;padding:16px 0;min-height:0}\
        iframe{border:0;background:#fff;height:100%;box-shadow:0 1px 6px rgba(0,0,0,.25)}\
        iframe.mobile{width:375px}iframe.desktop{width:100%;max-width:760px}\
        body.dark{background:#2a2f36}body.dark iframe{background:#111418}\
        pre{white-space:pre-wrap;margin:16px;padding:16px;background:#fff;color:#8a1c1c}
        """

    /// The draft as the email's HTML part in a sandboxed frame, with switches for a 375 px phone and
    /// dark mode, reloading itself when the stamp changes.
    static func preview(date: EditionDate, rendered: RenderedEdition, options: PreviewOptions, stamp: String)
        -> String
    {
        var html = rendered.html
        if options.dark {
            // A frame cannot be told the reader's colour scheme: the template's dark rules apply outright.
            html = html.replacingOccurrences(of: "@media (prefers-color-scheme: dark)", with: "@media all")
        }
        let size = rendered.html.utf8.count
        let sizeNote =
            size > 102 * 1024
            ? "HTML \(size / 1024) KB: over Gmail's 102 KB clipping limit" : "HTML \(size / 1024) KB"
        func link(_ label: String, _ query: String, on: Bool) -> String {
            "<a href=\"/preview/\(date)\(query)\"\(on ? " class=\"on\"" : "")>\(label)</a>"
        }
        let switches = [
            link("Desktop", options.query(mobile: false), on: !options.mobile),
            link("Mobile 375 px", options.query(mobile: true), on: options.mobile),
            "·",
            link("Light", options.query(dark: false), on: !options.dark),
            link("Dark", options.query(dark: true), on: options.dark),
            "·",
            "<a href=\"/preview/\(date).txt\">Text part</a>",
        ].joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html lang="en" data-stamp="\(stamp)" data-stamp-url="/preview/\(date)/stamp">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Preview \(date): \(HTMLEscape.text(rendered.subject))</title>
            <style>\(previewStyle)</style>
            <script src="/preview/live.js" defer></script>
            </head>
            <body class="\(options.dark ? "dark" : "light")">
            <header>
            <strong>Preview \(date)</strong>
            <span class="subject" title="\(HTMLEscape.attribute(rendered.preheader))">\(HTMLEscape.text(rendered.subject))</span>
            <span>\(switches)</span>
            <span>\(sizeNote) · reloads on save</span>
            </header>
            <div class="frame">
            <iframe class="\(options.mobile ? "mobile" : "desktop")" title="The email's HTML part" \
            sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="\(HTMLEscape.attribute(html))"></iframe>
            </div>
            </body>
            </html>

            """
    }

    /// The draft cannot be rendered: what is wrong, and the same reload-on-save.
    static func previewProblem(date: EditionDate, message: String, stamp: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en" data-stamp="\(stamp)" data-stamp-url="/preview/\(date)/stamp">
        <head>
        <meta charset="utf-8">
        <title>Preview \(date): a problem</title>
        <style>\(previewStyle)</style>
        <script src="/preview/live.js" defer></script>
        </head>
        <body>
        <header><strong>Preview \(date)</strong><span>cannot be rendered; fix the file and save: \
        this page reloads by itself</span></header>
        <pre>\(HTMLEscape.text(message))</pre>
        </body>
        </html>

        """
    }

    /// Polls the stamp once a second and reloads the page when it changes; waits longer while the
    /// server is away, and goes on when it is back.
    static let liveReloadScript = """
        (function () {
          "use strict";
          var root = document.documentElement;
          var url = root.getAttribute("data-stamp-url");
          var stamp = root.getAttribute("data-stamp");
          if (!url || !stamp) { return; }
          function check() {
            fetch(url, { cache: "no-store" })
              .then(function (response) { return response.ok ? response.text() : stamp; })
              .then(function (now) {
                if (now.trim() !== stamp) { window.location.reload(); } else { setTimeout(check, 1000); }
              })
              .catch(function () { setTimeout(check, 3000); });
          }
          setTimeout(check, 1000);
        })();

        """
}
