import ArgumentParser
import DigestCore
import DigestCurl
import DigestMail
import Foundation

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send an edition over SMTP to the given addresses.",
        discussion: """
            Each address gets its own message and its own SMTP transaction, over one reused connection, so
            every reader's reply from the server is reported. A refused address does not stop the others.
            The server is the publication's smtp.url unless --smtp is given. Credentials come only from the
            environment: DIGEST_SMTP_USER, and DIGEST_SMTP_PASSWORD or DIGEST_SMTP_PASSWORD_FILE.
            """
    )

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @Option(help: "Comma-separated addresses to send to, e.g. editor@example.com,desk@example.com.")
    var to: String

    @Option(help: "The SMTP server, smtp://host:587 (STARTTLS) or smtps://host:465. Default: from publication.yaml.")
    var smtp: String?

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        let bad = recipientsText.filter { EmailAddress($0) == nil }
        if recipientsText.isEmpty { throw ValidationError("--to needs at least one address") }
        if !bad.isEmpty {
            throw ValidationError(
                bad.map { "'\($0)' is not an email address: \(EmailAddress.reason($0))" }.joined(separator: "\n"))
        }
        if let smtp, let problem = SMTPSettings.problem(with: smtp) { throw ValidationError(problem) }
    }

    var recipientsText: [String] {
        to.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        var seen = Set<EmailAddress>()
        let recipients = recipientsText.compactMap(EmailAddress.init).filter { seen.insert($0).inserted }
        let configuration = try transportConfiguration(publication: loaded.publication, environment: environment)
        let transport: CurlSMTPTransport
        do {
            transport = try CurlSMTPTransport(configuration: configuration)
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        let secrets = Secrets(variables: environment.variables, workspace: loaded.workspace)
        let unsubscribe = try secrets.unsubscribeSigner(listID: loaded.publication.listID)
        if unsubscribe == nil {
            Console.error(
                "note: DIGEST_UNSUBSCRIBE_KEY (or DIGEST_UNSUBSCRIBE_KEY_FILE) is not set, so these copies carry the "
                    + "publication's unsubscribe page instead of a signed one-click link")
        }
        let builder = DigestMessageBuilder(
            publication: loaded.publication,
            rendered: unsubscribe == nil ? loaded.rendered : try loaded.renderer.renderForReaders(loaded.edition),
            identity: environment.identity, unsubscribe: unsubscribe,
            signer: try secrets.dkimSigner(loaded.publication.dkim))
        Console.out(
            "Sending \"\(loaded.rendered.subject)\" to \(recipients.count) address\(recipients.count == 1 ? "" : "es") via \(configuration.url)"
        )
        let started = Date()
        var outcomes: [DeliveryOutcome] = []
        for recipient in recipients {
            let outcome = transport.deliver(
                try builder.message(to: Reader(address: recipient), date: environment.now()))
            outcomes.append(outcome)
            Console.out(DeliveryReport.line(outcome))
        }
        Console.out(DeliveryReport.summary(outcomes, seconds: Date().timeIntervalSince(started)))
        if outcomes.contains(where: { $0.status != .accepted }) {
            throw ExitCode(ExitStatus.notAllDelivered)
        }
    }

    func transportConfiguration(publication: Publication, environment: LiveEnvironment) throws
        -> CurlSMTPTransport.Configuration
    {
        let variables = environment.variables
        var password = variables["DIGEST_SMTP_PASSWORD"]
        if password == nil, let file = variables["DIGEST_SMTP_PASSWORD_FILE"] {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
            else {
                throw CommandFailure(
                    message: "cannot read the SMTP password file named by DIGEST_SMTP_PASSWORD_FILE (\(file))")
            }
            password = text.trimmingCharacters(in: .newlines)
        }
        let user = variables["DIGEST_SMTP_USER"].flatMap { $0.isEmpty ? nil : $0 }
        if password != nil && user == nil {
            throw CommandFailure(message: "a password is set but DIGEST_SMTP_USER is not: set both, or neither")
        }
        return CurlSMTPTransport.Configuration(
            url: smtp ?? publication.smtp.url, helo: publication.smtp.helo ?? publication.sender.address.domain,
            caFile: variables["DIGEST_SMTP_CA_FILE"] ?? publication.smtp.caFile, username: user, password: password)
    }
}

/// How send results read in the terminal.
enum DeliveryReport {
    static func line(_ outcome: DeliveryOutcome) -> String {
        let mark =
            switch outcome.status {
            case .accepted: "sent     "
            case .deferred: "deferred "
            case .rejected: "refused  "
            case .inDoubt: "in doubt "
            }
        return "  \(mark) \(outcome.recipient)  \(outcome.reply)"
    }

    static func summary(_ outcomes: [DeliveryOutcome], seconds: Double) -> String {
        var counts: [DeliveryOutcome.Status: Int] = [:]
        for outcome in outcomes { counts[outcome.status, default: 0] += 1 }
        let parts: [(DeliveryOutcome.Status, String)] = [
            (.accepted, "sent"), (.rejected, "refused"), (.deferred, "deferred"), (.inDoubt, "in doubt"),
        ]
        let text = parts.compactMap { status, name in counts[status].map { "\($0) \(name)" } }.joined(separator: ", ")
        return "Done in \(String(format: "%.1f", seconds)) s: \(text.isEmpty ? "nothing to send" : text)."
    }
}
