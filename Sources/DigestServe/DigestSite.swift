import DigestCore
import DigestMail
import DigestStore
import Foundation

/// What `digest serve` answers: one-click unsubscribe, the archive of published editions, and (when
/// asked for) the editor's live preview of drafts.
public struct DigestSite: HTTPResponder {
    public let workspace: Workspace
    /// Verifies unsubscribe tokens; nil when the server has no key (unsubscribe then answers 503).
    let signer: UnsubscribeSigner?
    let batcher: CommitBatcher<Int64, Store.UnsubscribeOutcome>?
    /// Verifies click links; nil without the key (clicks then go nowhere: 404).
    let clickSigner: ClickSigner?
    let clicks: CommitBatcher<Store.Click, Void>?
    /// Each sent edition's story addresses by run (newest first), read once: a frozen run never changes, and
    /// decoding its rendering per click would cost more than the rest of the request.
    let storyLinks = Locked<[String: (runs: [[String]], readAt: Date)]>([:])
    /// Serve /preview/… (drafts included): for the editor's own machine, not the public server.
    public let preview: Bool
    let now: @Sendable () -> Date
    let log: @Sendable (String) -> Void
    /// The publication's name for the unsubscribe pages, read once: they must not parse YAML per POST.
    let publicationName: String
    /// Sign-up with double opt-in (`/subscribe`, `/confirm`); nil when `digest serve` was not asked to.
    let signup: SignupDesk?
    /// The publication's language, for the sign-up pages.
    let language: String
    /// The archive's source: each edition as it was sent or published (never the files as they are now).
    let store: (any ListStore)?
    /// Rendered drafts by date for the preview, kept while their files are unchanged.
    let cache = RenderCache()
    /// `/webhooks/ses` and `/webhooks/postmark`; nil (and each route off) unless `digest serve` was asked to.
    let webhooks: BounceWebhooks?

    public init(
        workspace: Workspace, signer: UnsubscribeSigner?, store: (any ListStore)?, preview: Bool,
        now: @escaping @Sendable () -> Date, log: @escaping @Sendable (String) -> Void, signup: SignupDesk? = nil,
        webhooks: BounceWebhooks? = nil
    ) {
        self.workspace = workspace
        self.webhooks = webhooks
        self.signup = signup
        self.language = (try? workspace.loadPublication())?.language ?? "en"
        self.signer = signer
        self.store = store
        self.batcher =
            signer == nil
            ? nil
            : store.map { store in
                CommitBatcher { ids in
                    let outcomes = try await store.unsubscribe(ids: ids, now: now())
                    return ids.map { outcomes[$0] ?? .unknown }
                }
            }
        self.clickSigner = signer.map(ClickSigner.init)
        self.clicks = store.map { store in
            CommitBatcher { clicks in
                try await store.record(clicks: clicks)
                return clicks.map { _ in () }
            }
        }
        self.preview = preview
        self.now = now
        self.log = log
        self.publicationName = (try? workspace.loadPublication())?.name ?? ""
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let path = request.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let read = request.method == "GET" || request.method == "HEAD"
        switch segments.first {
        case nil:
            return read ? archive() : notAllowed("GET, HEAD")
        case "l" where segments.count == 4:
            guard read else { return notAllowed("GET, HEAD") }
            return await click(request, date: segments[1], story: segments[2], signature: segments[3])
        case "feed.xml" where segments.count == 1:
            guard read else { return notAllowed("GET, HEAD") }
            return feed(request)
        case "editions" where segments.count == 2:
            guard read else { return notAllowed("GET, HEAD") }
            return edition(segments[1])
        case "unsubscribe" where segments.count == 1:
            if request.method == "POST" { return await unsubscribe(request) }
            return read ? confirmation(request) : notAllowed("GET, HEAD, POST")
        case "subscribe" where segments.count == 1 && signup != nil:
            if request.method == "POST" { return await subscribe(request) }
            return read ? subscribeForm() : notAllowed("GET, HEAD, POST")
        case "confirm" where segments.count == 1 && signup != nil:
            if request.method == "POST" { return await confirmSignup(request) }
            return read ? confirmSignupPage(request) : notAllowed("GET, HEAD, POST")
        case "webhooks" where segments.count == 2 && webhooks != nil:
            return await webhook(request, name: segments[1])
        case "preview" where preview && segments.count == 2:
            guard read else { return notAllowed("GET, HEAD") }
            if segments[1] == "live.js" {
                return HTTPResponse(
                    status: 200, contentType: "text/javascript; charset=utf-8", body: Pages.liveReloadScript,
                    headers: SecurityHeaders.plain + [("Cache-Control", "no-cache")])
            }
            return previewPage(segments[1], query: request.query)
        case "reports" where preview && segments.count == 2:
            guard read else { return notAllowed("GET, HEAD") }
            guard EditionDate(segments[1]) != nil else { return notFound() }
            do {
                guard let report = try store?.report(date: segments[1]) else { return notFound() }
                return page(Pages.report(report), headers: SecurityHeaders.preview)
            } catch {
                return failure(error, what: "the report of \(segments[1])")
            }
        case "preview" where preview && segments.count == 3 && segments[2] == "stamp":
            guard read else { return notAllowed("GET, HEAD") }
            guard let date = EditionDate(segments[1]) else { return notFound() }
            return HTTPResponse(
                status: 200, contentType: "text/plain; charset=utf-8", body: stamp(date),
                headers: SecurityHeaders.plain + [("Cache-Control", "no-store")])
        default:
            return notFound()
        }
    }

    // MARK: The archive

    /// The archive: the editions sent to subscribers (as readers got them) and those published with
    /// `digest publish`, newest first. A draft, even one dated today, is not public.
    func archive() -> HTTPResponse {
        let publication: Publication
        let entries: [(EditionDate, String)]
        do {
            publication = try workspace.loadPublication()
            entries = try (store?.archivedEditions() ?? []).compactMap { entry in
                EditionDate(entry.date).map { ($0, entry.subject) }
            }
        } catch {
            return failure(error, what: "the archive")
        }
        return page(Pages.archive(publication: publication, editions: entries))
    }

    // MARK: Clicks

    /// `/l/DATE/N/SIG`: a story link of a sent edition. Redirects (302) to the story's address as stored with
    /// the edition's run, and counts the click for that story: a person's, or a link scanner's. An edited,
    /// truncated or foreign link is 404: the server never redirects anywhere a link says.
    func click(_ request: HTTPRequest, date: String, story text: String, signature: String) async -> HTTPResponse {
        guard let clickSigner, let store, let clicks, EditionDate(date) != nil, let story = Int(text), story >= 1
        else { return notFound() }
        let target: String
        do {
            func match(_ runs: [[String]]) -> String? {
                runs.compactMap { story <= $0.count ? $0[story - 1] : nil }.first {
                    clickSigner.verify(signature, date: date, story: story, url: $0)
                }
            }
            let cached = storyLinks.withLock { $0[date] }
            if let cached, let url = match(cached.runs) {
                target = url
            } else if let cached, now().timeIntervalSince(cached.readAt) < 10 {
                // Read a moment ago: a link that matches none is a bad link, not a new run.
                return notFound()
            } else {
                // Not read yet, or perhaps a later run of the edition since: read the runs again.
                let runs = try store.frozenRuns(date: date).compactMap(\.storyLinks)
                storyLinks.withLock { $0[date] = (runs, now()) }
                guard let url = match(runs) else { return notFound() }
                target = url
            }
        } catch {
            return failure(error, what: "the link")
        }
        let scanner = LinkScanner.looksLikeOne(request)
        do {
            try await clicks.submit(Store.Click(date: date, story: story, scanner: scanner))
        } catch {
            // The reader still gets their story; the count is what is lost, and the log says so.
            log("error: counting a click on story \(story) of \(date) failed: \(error)")
        }
        return HTTPResponse(
            status: 302, contentType: "text/plain; charset=utf-8", body: "\(target)\n",
            headers: SecurityHeaders.plain + [
                ("Location", target), ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"),
            ])
    }

    /// The archive as an Atom feed, with absolute links to this server (or to `archive_url`).
    func feed(_ request: HTTPRequest) -> HTTPResponse {
        do {
            let publication = try workspace.loadPublication()
            let host = request.headers["host"].flatMap { HTTPServer.isHostHeader($0) ? $0 : nil } ?? "localhost"
            let scheme = request.headers["x-forwarded-proto"] == "https" ? "https" : "http"
            let xml = ArchiveFeed.xml(
                publication: publication, editions: try store?.archivedEditions() ?? [], base: "\(scheme)://\(host)")
            return HTTPResponse(
                status: 200, contentType: "application/atom+xml; charset=utf-8", body: xml,
                headers: SecurityHeaders.plain)
        } catch {
            return failure(error, what: "the archive's feed")
        }
    }

    /// `DATE`, `DATE.html` or `DATE.txt`: the edition as readers received it, as a web page or as its text
    /// part; 404 for an edition that was neither sent nor published.
    func edition(_ name: String) -> HTTPResponse {
        let (dateText, format) = Self.split(name)
        guard let date = EditionDate(dateText), format != nil else { return notFound() }
        let frozen: FrozenEdition
        do {
            guard let archived = try store?.archivedEdition(date: date.description) else { return notFound() }
            frozen = archived
        } catch {
            return failure(error, what: "the edition of \(date)")
        }
        if format == "txt" {
            return HTTPResponse(
                status: 200, contentType: "text/plain; charset=utf-8", body: frozen.archive.text(),
                headers: SecurityHeaders.plain)
        }
        return page(frozen.archive.html)
    }

    /// The edition's date and `html` or `txt` (nil for anything else).
    static func split(_ name: String) -> (String, String?) {
        if name.hasSuffix(".txt") { return (String(name.dropLast(4)), "txt") }
        if name.hasSuffix(".html") { return (String(name.dropLast(5)), "html") }
        return (name, "html")
    }

    /// The edition rendered for no reader in particular: the publication's own unsubscribe page, no
    /// name, no token.
    func render(_ date: EditionDate, publication: Publication) throws -> RenderedEdition {
        // Loading the templates and rendering costs about 10 ms; the stamp (a few file times) is what
        // says whether the last rendering still holds.
        try cache.rendered(date, stamp: stamp(date)) {
            let templates = try workspace.loadTemplates(for: publication)
            return try EditionRenderer(publication: publication, templates: templates).render(
                workspace.loadEdition(date))
        }
    }

    // MARK: Unsubscribe

    /// GET: a page with a button. Mail scanners follow links; only the button's POST unsubscribes.
    func confirmation(_ request: HTTPRequest) -> HTTPResponse {
        guard let signer else { return noKey() }
        let token = request.query["t"] ?? ""
        guard signer.verify(token) != nil else {
            return page(Pages.badLink(), status: 400)
        }
        return page(Pages.confirm(publication: publicationName), extra: [("Cache-Control", "no-store")])
    }

    /// POST (RFC 8058 one-click, or the confirmation page's button): verify, unsubscribe, commit, 200.
    func unsubscribe(_ request: HTTPRequest) async -> HTTPResponse {
        guard let signer, let batcher else { return noKey() }
        let token = request.query["t"] ?? ""
        guard let subscriber = signer.verify(token), let id = Int64(subscriber) else {
            return page(Pages.badLink(), status: 400)
        }
        guard Self.isOneClick(request) else {
            return HTTPResponse(
                status: 400, contentType: "text/plain; charset=utf-8",
                body: "The body must be List-Unsubscribe=One-Click (RFC 8058).\n", headers: SecurityHeaders.plain)
        }
        do {
            let outcome = try await batcher.submit(id)
            if outcome == .unsubscribed { log("unsubscribed subscriber \(id)") }
        } catch {
            log("error: unsubscribing subscriber \(id) failed: \(error)")
            return HTTPResponse(
                status: 503, contentType: "text/plain; charset=utf-8",
                body: "The unsubscribe could not be recorded just now; please try again.\n",
                headers: SecurityHeaders.plain + [("Retry-After", "5")])
        }
        return page(Pages.unsubscribed(publication: publicationName), extra: [("Cache-Control", "no-store")])
    }

    /// RFC 8058: the body holds `List-Unsubscribe=One-Click`, as a form (urlencoded or multipart).
    static func isOneClick(_ request: HTTPRequest) -> Bool {
        let type = request.headers["content-type"]?.lowercased() ?? ""
        if type.hasPrefix("multipart/form-data") {
            let text = String(decoding: request.body, as: UTF8.self)
            return text.contains("name=\"List-Unsubscribe\"") && text.contains("One-Click")
        }
        return HTTPParser.formFields(request.body)["List-Unsubscribe"] == "One-Click"
    }

    func noKey() -> HTTPResponse {
        HTTPResponse(
            status: 503, contentType: "text/plain; charset=utf-8",
            body: "Unsubscribing is not set up on this server: start digest serve with DIGEST_UNSUBSCRIBE_KEY "
                + "or DIGEST_UNSUBSCRIBE_KEY_FILE set to the key the messages were signed with.\n",
            headers: SecurityHeaders.plain)
    }

    // MARK: Sign-up

    func subscribeForm(message: String? = nil, status: Int = 200) -> HTTPResponse {
        page(
            Pages.subscribeForm(publication: publicationName, language: language, message: message), status: status,
            extra: [("Cache-Control", "no-store")])
    }

    /// POST /subscribe: the same answer for every address, on the list or not.
    func subscribe(_ request: HTTPRequest) async -> HTTPResponse {
        guard let signup else { return notFound() }
        let fields = HTTPParser.formFields(request.body)
        let answer = await signup.subscribe(
            email: fields["email"] ?? "", name: fields["name"] ?? "", honeypot: fields["website"] ?? "",
            client: request.remote)
        switch answer {
        case .badAddress:
            return subscribeForm(message: "That does not look like an email address. Please check it.", status: 400)
        case .tooManyFromClient:
            return page(
                Pages.message(
                    title: "Too many sign-ups", text: "Too many sign-ups came from your network. Please try later."),
                status: 429, extra: [("Retry-After", "3600")])
        case .accepted:
            if let thanks = fields["thanks"], !thanks.isEmpty, signup.allowsRedirect(thanks) {
                return HTTPResponse(
                    status: 303, contentType: "text/plain; charset=utf-8", body: "See \(thanks)\n",
                    headers: SecurityHeaders.plain + [("Location", thanks)])
            }
            return page(Pages.checkInbox(publication: publicationName), extra: [("Cache-Control", "no-store")])
        }
    }

    /// GET /confirm: a page with a button. Mail scanners follow links; only the button's POST confirms.
    func confirmSignupPage(_ request: HTTPRequest) -> HTTPResponse {
        guard let signup else { return notFound() }
        let token = request.query["t"] ?? ""
        switch signup.check(token) {
        case .valid:
            return page(
                Pages.confirmSignup(publication: publicationName, token: token), extra: [("Cache-Control", "no-store")])
        case .expired: return page(Pages.signupLinkProblem(expired: true), status: 400)
        case .invalid: return page(Pages.signupLinkProblem(expired: false), status: 400)
        }
    }

    func confirmSignup(_ request: HTTPRequest) async -> HTTPResponse {
        guard let signup else { return notFound() }
        let token = request.query["t"] ?? HTTPParser.formFields(request.body)["t"] ?? ""
        switch await signup.confirm(token) {
        case .confirmed:
            return page(Pages.subscribed(publication: publicationName), extra: [("Cache-Control", "no-store")])
        case .expired: return page(Pages.signupLinkProblem(expired: true), status: 400)
        case .invalid: return page(Pages.signupLinkProblem(expired: false), status: 400)
        case .used:
            return page(
                Pages.message(
                    title: "This link was used already",
                    text: "This confirmation link works once. If you are not getting the newsletter, sign up again."),
                status: 400)
        }
    }

    // MARK: Webhooks

    /// `/webhooks/ses` and `/webhooks/postmark`, each only when configured.
    func webhook(_ request: HTTPRequest, name: String) async -> HTTPResponse {
        guard let webhooks else { return notFound() }
        switch name {
        case "ses" where webhooks.settings.ses != nil:
            return request.method == "POST" ? await webhooks.ses(request) : notAllowed("POST")
        case "postmark" where webhooks.settings.postmarkPassword != nil:
            return request.method == "POST" ? await webhooks.postmark(request) : notAllowed("POST")
        default:
            return notFound()
        }
    }

    // MARK: The preview

    func previewPage(_ name: String, query: [String: String]) -> HTTPResponse {
        let (dateText, format) = Self.split(name)
        guard let date = EditionDate(dateText), let format else { return notFound() }
        let stamp = stamp(date)
        let rendered: RenderedEdition
        do {
            rendered = try render(date, publication: try workspace.loadPublication())
        } catch {
            // The editor is mid-edit: show what is wrong, and reload when the file changes again. No edition
            // for the date at all is a 404 with the same explanation.
            let message = (error as? Problem)?.description ?? (error as? Problems)?.description ?? "\(error)"
            let missing = !FileManager.default.fileExists(atPath: workspace.editionFile(date).path)
            return page(
                Pages.previewProblem(date: date, message: message, stamp: stamp), status: missing ? 404 : 500,
                headers: SecurityHeaders.preview)
        }
        if format == "txt" {
            return HTTPResponse(
                status: 200, contentType: "text/plain; charset=utf-8", body: rendered.text(),
                headers: SecurityHeaders.plain + [("Cache-Control", "no-store")])
        }
        let options = Pages.PreviewOptions(mobile: query["mobile"] == "1", dark: query["dark"] == "1")
        return page(
            Pages.preview(date: date, rendered: rendered, options: options, stamp: stamp),
            headers: SecurityHeaders.preview)
    }

    /// Changes whenever publication.yaml, the edition's file or any template changes (size or time).
    func stamp(_ date: EditionDate) -> String {
        var files = [workspace.configFile.path, workspace.editionFile(date).path]
        if let publication = try? workspace.loadPublication() {
            let folder = workspace.templatesFolder(for: publication)
            let names = FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []
            files += names.sorted().map { folder.appendingPathComponent($0).path }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            // FNV-1a over each file's name, time and size.
            for byte in "\(file)|\(modified)|\(size)\n".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }

    // MARK: Responses

    func page(
        _ html: String, status: Int = 200, headers: [(String, String)] = SecurityHeaders.page,
        extra: [(String, String)] = []
    ) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: html, headers: headers + extra)
    }

    func notFound() -> HTTPResponse {
        page(Pages.message(title: "Not found", text: "There is nothing at this address."), status: 404)
    }

    func notAllowed(_ allow: String) -> HTTPResponse {
        HTTPResponse(
            status: 405, contentType: "text/plain; charset=utf-8", body: "Use \(allow) here.\n",
            headers: SecurityHeaders.plain + [("Allow", allow)])
    }

    /// The editor's files have a problem: the log says which; the public sees only that it failed.
    func failure(_ error: any Error, what: String) -> HTTPResponse {
        log("error: cannot show \(what): \(error)")
        return page(
            Pages.message(title: "Not available", text: "This page cannot be shown just now."), status: 500)
    }
}

/// Headers on every response: nothing may frame the pages, sniff types or leak the address onwards.
enum SecurityHeaders {
    static let common: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ]

    /// Plain text and scripts: nothing to load.
    static let plain =
        common + [("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")]

    /// Pages and editions: the email's inline styles and remote images, no script, forms only to here.
    static let page =
        common + [
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'self'; "
                    + "frame-ancestors 'none'; base-uri 'none'"
            )
        ]

    /// The preview: also its own reload script and the stamp it polls. The email is framed through
    /// `srcdoc` in a sandbox (no scripts, no same origin), so no page of this server is ever framed.
    static let preview =
        common + [
            ("Cache-Control", "no-store"),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; script-src 'self'; "
                    + "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                    + "base-uri 'none'"
            ),
        ]
}

/// The last rendering of each edition with the stamp of the files it came from: a "view in browser"
/// burst after a send renders each edition once, and an edit shows at once.
final class RenderCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [EditionDate: (stamp: String, rendered: RenderedEdition)] = [:]
    let capacity = 64

    func rendered(_ date: EditionDate, stamp: String, make: () throws -> RenderedEdition) throws -> RenderedEdition {
        if let entry = lock.withLock({ entries[date] }), entry.stamp == stamp { return entry.rendered }
        // Rendered outside the lock: two requests may both render, which is harmless.
        let rendered = try make()
        lock.withLock {
            if entries.count >= capacity { entries.removeAll() }
            entries[date] = (stamp, rendered)
        }
        return rendered
    }
}
