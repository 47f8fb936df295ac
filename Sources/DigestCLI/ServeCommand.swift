import ArgumentParser
import DigestCore
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

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
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
        let store = signer == nil ? nil : try environment.openStore(workspace)
        let log: @Sendable (String) -> Void = { line in
            if line.hasPrefix("error:") { Console.error(line) } else { Console.out(line) }
        }
        let site = DigestSite(
            workspace: workspace, signer: signer, store: store, preview: preview, now: environment.now, log: log)
        let server: HTTPServer
        do {
            var limits = HTTPLimits()
            limits.requestTimeout = .milliseconds(Int(requestTimeout * 1000))
            limits.maxConnections = maxConnections
            server = try HTTPServer(host: host, port: UInt16(port), limits: limits, responder: site, log: log)
        } catch let error as ServeError {
            throw CommandFailure(message: error.description)
        }
        if signer == nil {
            Console.error(
                "note: DIGEST_UNSUBSCRIBE_KEY (or DIGEST_UNSUBSCRIBE_KEY_FILE) is not set, so /unsubscribe answers 503; "
                    + "set it to the key digest send signs with")
        }
        Console.out("digest serve: listening on http://\(server.address)/")
        if preview {
            let today = publication.today(at: environment.now())
            let latest = workspace.editionDates().last ?? today
            Console.out("digest serve: preview at http://\(server.address)/preview/\(latest)")
        }
        let stop = Interrupt(message: "\nStopping after the requests in progress…\n") { server.shutdown() }
        defer { stop.cancel() }
        try await server.run()
        Console.out("digest serve: stopped")
    }
}
