import ArgumentParser
import DigestCore
import DigestCurl
import DigestServe
import DigestStore
import DigestWorkflow
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve one-click unsubscribe, the web archive and (with --preview) the editor's live preview.",
        discussion: """
              POST /unsubscribe?t=TOKEN  RFC 8058 one-click (List-Unsubscribe=One-Click)
              GET  /unsubscribe?t=TOKEN  a page with a button; a GET never unsubscribes
              GET  /                     the published editions, newest first
              GET  /editions/DATE        an edition as a web page; DATE.txt: its text
              GET  /preview/DATE         --preview only: the draft, live reload
              GET  /preview/DATE.txt     --preview only: the draft's text part
              GET  /subscribe            --signups only: the sign-up form
              POST /subscribe            --signups only: record a pending reader, mail a confirmation
              GET  /confirm?t=TOKEN      --signups only: a page with a Confirm button
              POST /confirm              --signups only: the reader is active from now on
              POST /webhooks/ses         --webhook ses: Amazon SES bounces and complaints (SNS, signed)
              POST /webhooks/postmark    --webhook postmark: Postmark bounces and spam complaints
            Published: dated today or earlier in the publication's time zone.
            The unsubscribe key comes from DIGEST_UNSUBSCRIBE_KEY or
            DIGEST_UNSUBSCRIBE_KEY_FILE (the key digest send signs with).
            On a public server, put an HTTPS reverse proxy in front of it.
            SIGTERM or Ctrl-C stops it after the requests in progress.
            """
    )

    @Option(help: "The port to listen on (0: any free port).")
    var port = 8025

    @Option(help: "The IP address to listen on: 127.0.0.1 (this machine only), 0.0.0.0 or :: (every interface).")
    var host = "127.0.0.1"

    @Flag(help: "Also serve /preview/DATE: drafts, for the editor's own machine (never on the public server).")
    var preview = false

    @Option(help: "Seconds a client has to send a whole request, idle keep-alive time included.")
    var requestTimeout: Double = 10

    @Option(help: "Connections open at once; one more is answered 503.")
    var maxConnections = 512

    @Flag(
        help: """
            Serve /subscribe and /confirm: sign-up with double opt-in, confirmations mailed through the \
            publication's SMTP relay (DIGEST_SMTP_USER/PASSWORD as for send) and signed with DIGEST_SIGNUP_KEY \
            (or the unsubscribe key).
            """)
    var signups = false

    @Option(help: "The public address of this server, for confirmation links (default: unsubscribe_url's origin).")
    var publicURL: String?

    @Option(help: "With --signups: the SMTP relay for confirmations (default: the publication's smtp.url).")
    var smtp: String?

    @Option(help: "With --signups: messages waiting for the relay at most; a sign-up beyond that mails nothing.")
    var signupQueue = 1_000

    @Option(help: "With --signups: confirmations sent per hour in all; beyond that a sign-up sends nothing.")
    var signupMailPerHour = 1_000

    @Option(help: "Seconds between two confirmations to one address.")
    var signupInterval: Double = 600

    @Option(help: "Sign-ups accepted from one client address per hour.")
    var signupsPerClient = 10

    @Option(help: "Days a confirmation link works; unconfirmed sign-ups are deleted after that.")
    var signupExpiryDays: Double = 7

    @Option(
        name: .customLong("webhook"),
        help: """
            Accept bounce and complaint events: ses (Amazon SES through SNS, signatures verified) or postmark \
            (basic auth with DIGEST_WEBHOOK_PASSWORD or DIGEST_WEBHOOK_PASSWORD_FILE). Repeat for both.
            """)
    var webhooks: [String] = []

    @Option(
        name: .customLong("sns-topic"),
        help: "With --webhook ses (required): the ARN of the SNS topic SES publishes to; repeat for more topics.")
    var snsTopics: [String] = []

    @Flag(help: "With --webhook ses: confirm SNS subscriptions by visiting their SubscribeURL (default: log it).")
    var snsConfirmSubscriptions = false

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        for name in webhooks where !["ses", "postmark"].contains(name) {
            throw ValidationError("--webhook \(name): give ses or postmark")
        }
        if !webhooks.contains("ses") && (!snsTopics.isEmpty || snsConfirmSubscriptions) {
            throw ValidationError("--sns-topic and --sns-confirm-subscriptions need --webhook ses")
        }
        // Amazon signs any account's messages: a notification published to someone else's topic verifies too.
        if webhooks.contains("ses") && snsTopics.isEmpty {
            throw ValidationError(
                "--webhook ses needs --sns-topic ARN, the topic SES publishes your bounces and complaints to: "
                    + "Amazon signs every account's messages, so only the topic tells yours from a forger's")
        }
        if !(0...86_400).contains(signupInterval) {
            throw ValidationError("--signup-interval must be between 0 and 86400 seconds")
        }
        if !(1...1_000_000).contains(signupMailPerHour) {
            throw ValidationError("--signup-mail-per-hour must be between 1 and 1000000")
        }
        if !(1...100_000).contains(signupQueue) {
            throw ValidationError("--signup-queue must be between 1 and 100000")
        }
        if !(1...1_000_000).contains(signupsPerClient) {
            throw ValidationError("--signups-per-client must be between 1 and 1000000")
        }
        if !(0.0001...90).contains(signupExpiryDays) {
            throw ValidationError("--signup-expiry-days must be between 0.0001 and 90")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if !HTTPServer.isIPAddress(host) {
            throw ValidationError("'\(host)' is not an IP address: give one, e.g. --host 127.0.0.1, 0.0.0.0 or ::1")
        }
        if !(0.1...300).contains(requestTimeout) {
            throw ValidationError("--request-timeout must be between 0.1 and 300 seconds")
        }
        if !(1...10_000).contains(maxConnections) {
            throw ValidationError("--max-connections must be between 1 and 10000")
        }
    }

    func run() async throws {
        let environment = Live.environment
        let workspace = try environment.workspace(options.workspace)
        let publication = try workspace.loadPublication()
        let signer = try Secrets(variables: environment.variables, workspace: workspace).unsubscribeSigner(
            listID: publication.listID)
        // The store holds the list (unsubscribes, sign-ups) and the archive (editions as they were sent).
        let store = try environment.openStore(workspace)
        let log: @Sendable (String) -> Void = { line in
            if line.hasPrefix("error:") { Console.error(line) } else { Console.out(line) }
        }
        var desk: SignupDesk?
        if signups {
            let setup = try SignupMailSetup.load(
                publication: publication, workspace: workspace, variables: environment.variables, smtp: smtp)
            var settings = SignupDesk.Settings(publicURL: publicURL ?? Self.origin(publication.unsubscribeURL))
            settings.resendInterval = signupInterval
            settings.perClientPerHour = signupsPerClient
            settings.expiry = signupExpiryDays * 86_400
            settings.welcome = setup.welcome
            settings.queueCapacity = signupQueue
            settings.mailPerHour = signupMailPerHour
            let relay = setup.relay
            desk = SignupDesk(
                store: store, signer: setup.signer, notice: setup.notice, settings: settings,
                transport: { try CurlSMTPTransport(configuration: relay) }, now: environment.now, log: log)
        }
        defer { desk?.shutdown() }
        var hooks: BounceWebhooks?
        if !webhooks.isEmpty {
            let settings = try webhookSettings(
                publication: publication, workspace: workspace, variables: environment.variables)
            hooks = BounceWebhooks(settings: settings, store: store, visit: Self.visit, now: environment.now, log: log)
        }
        let site = DigestSite(
            workspace: workspace, signer: signer, store: store, preview: preview, now: environment.now, log: log,
            signup: desk, webhooks: hooks)
        let server: HTTPServer
        do {
            var limits = HTTPLimits()
            limits.requestTimeout = .milliseconds(Int(requestTimeout * 1000))
            limits.maxConnections = maxConnections
            // An SNS message is up to 256 KB, more once escaped as JSON.
            if hooks != nil { limits.maxBodyBytes = 1024 * 1024 }
            server = try HTTPServer(host: host, port: UInt16(port), limits: limits, responder: site, log: log)
        } catch let error as ServeError {
            throw CommandFailure(message: error.description)
        }
        if signer == nil {
            Console.error(
                "note: DIGEST_UNSUBSCRIBE_KEY (or DIGEST_UNSUBSCRIBE_KEY_FILE) is not set, so /unsubscribe answers 503; "
                    + "set it to the key digest send signs with")
        }
        // Before "listening" is printed: a client (or a test) may send SIGTERM the moment it reads that line.
        let stop = Interrupt(message: "\nStopping after the requests in progress…\n") { server.shutdown() }
        defer { stop.cancel() }
        Console.out("digest serve: listening on http://\(server.address)/")
        if let desk {
            Console.out("digest serve: sign-ups at http://\(server.address)/subscribe (links to \(desk.publicURL))")
        }
        for name in Set(webhooks).sorted() {
            Console.out("digest serve: \(name) webhook at http://\(server.address)/webhooks/\(name)")
        }
        if preview {
            let today = publication.today(at: environment.now())
            let latest = workspace.editionDates().last ?? today
            Console.out("digest serve: preview at http://\(server.address)/preview/\(latest)")
        }
        try await server.run()
        Console.out("digest serve: stopped")
    }

    /// The webhooks' settings: the SNS verifier (the certificate pinned by DIGEST_SNS_CERT_FILE, else fetched
    /// from each message's SigningCertURL), Postmark's password, the VERP return path that names a run.
    func webhookSettings(publication: Publication, workspace: Workspace, variables: [String: String]) throws
        -> BounceWebhooks.Settings
    {
        let secrets = Secrets(variables: variables, workspace: workspace)
        var settings = BounceWebhooks.Settings()
        settings.bounceAddress = try secrets.bounceAddress(publication.bounce, listID: publication.listID)
        if let bounce = publication.bounce {
            // The same rule as digest bounces fetch: soft_limit soft bounces within soft_days days.
            settings.policy = BouncePolicy(softLimit: bounce.softLimit, softDays: bounce.softDays)
        }
        if webhooks.contains("ses") {
            var pinned: String?
            if let path = variables["DIGEST_SNS_CERT_FILE"], !path.isEmpty {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw CommandFailure(message: "cannot read the certificate DIGEST_SNS_CERT_FILE names (\(path))")
                }
                pinned = String(decoding: data, as: UTF8.self)
            }
            do {
                settings.ses = try SNSVerifier(
                    trustedCertificate: pinned, fetch: Self.fetchCertificate, topics: Set(snsTopics))
            } catch {
                throw CommandFailure(
                    message: "the certificate DIGEST_SNS_CERT_FILE names (\(variables["DIGEST_SNS_CERT_FILE"] ?? "")) "
                        + "is not a PEM certificate with an RSA key of 2048 bits or more: \(error)")
            }
            settings.confirmSubscriptions = snsConfirmSubscriptions
        }
        if webhooks.contains("postmark") {
            guard let password = try secrets.secret("DIGEST_WEBHOOK_PASSWORD", what: "webhook password"),
                password.count >= 12
            else {
                throw CommandFailure(
                    message: "--webhook postmark needs DIGEST_WEBHOOK_PASSWORD (or DIGEST_WEBHOOK_PASSWORD_FILE): "
                        + "at least 12 characters, the password of the webhook's basic auth in Postmark")
            }
            settings.postmarkPassword = password
        }
        return settings
    }

    /// An SNS signing certificate over HTTPS with libcurl, on a thread of its own (libcurl blocks).
    @Sendable static func fetchCertificate(_ url: String) async throws -> [UInt8] {
        try await offThePool {
            let fetcher = try CurlFetcher(
                configuration: .init(connectTimeout: 5, totalTimeout: 10, maximumBytes: 64 * 1024))
            let document = try fetcher.fetch(url).get()
            guard document.status == 200, SNSVerifier.isAmazonCertificateURL(document.finalURL) else {
                throw FetchError(url: url, reason: "answered \(document.status) from \(document.finalURL)")
            }
            return Array(document.body)
        }
    }

    /// Visits an SNS SubscribeURL (GET) to confirm a subscription.
    @Sendable static func visit(_ url: String) async throws {
        try await offThePool {
            let fetcher = try CurlFetcher(
                configuration: .init(connectTimeout: 5, totalTimeout: 15, maximumBytes: 64 * 1024))
            let document = try fetcher.fetch(url).get()
            guard document.status == 200 else {
                throw FetchError(url: url, reason: "answered \(document.status)")
            }
        }
    }

    /// `https://news.example` from `https://news.example/newsletter/unsubscribe`.
    static func origin(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return url }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }
}

struct SubscribeFormCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe-form",
        abstract: "Print an HTML sign-up form to paste into the publication's own site (posts to digest serve).")

    @Option(help: "The public address of digest serve (default: unsubscribe_url's origin).")
    var publicURL: String?

    @Option(help: "A thank-you page to send readers to after signing up (on the publication's own host).")
    var thanks: String?

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let environment = Live.environment
        let publication = try environment.workspace(options.workspace).loadPublication()
        var base = publicURL ?? ServeCommand.origin(publication.unsubscribeURL)
        while base.hasSuffix("/") { base.removeLast() }
        Console.out(
            SubscribeFormSnippet.html(action: base + "/subscribe", thanks: thanks, publication: publication.name))
    }
}
