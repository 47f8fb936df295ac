import DigestCore
import DigestDNS
import Foundation

/// `digest dns check` (and `digest check --dns`): the publication's DKIM, SPF, DMARC, alignment and MX
/// records, looked up and compared with what digest signs and sends with.
public enum DNSCheck {
    /// `resolver` is `HOST:PORT`, or nil for the system's; `bounceDomain` the envelope sender's domain when
    /// it is not the sender's.
    public static func run(
        workspace explicit: String?, resolver: String?, timeout: Int, bounceDomain: String?,
        environment: DigestEnvironment
    ) async throws -> DNSReport {
        let workspace = try environment.workspace(explicit)
        let publication = try workspace.loadPublication()
        let signer = try Secrets(variables: environment.variables, workspace: workspace).dkimSigner(publication.dkim)
        let files = Dictionary(
            (publication.dkim?.signatures ?? []).map { ($0.selector, $0.keyFile) }, uniquingKeysWith: { a, _ in a })
        let setup = DNSCheckSetup(
            fromDomain: publication.sender.address.domain,
            signingKeys: (signer?.keys ?? []).map { .init(key: $0, file: files[$0.selector] ?? $0.selector) },
            bounceDomain: bounceDomain ?? publication.bounce?.domain ?? publication.sender.address.domain,
            relayHost: URLComponents(string: publication.smtp.url)?.host, spfInclude: publication.smtp.spfInclude,
            unsubscribeURL: publication.unsubscribeURL)
        let client =
            resolver.flatMap(DNSServer.init).map { DNSClient(servers: [$0], timeout: Double(timeout)) }
            ?? DNSClient.system(timeout: Double(timeout))
        return DNSReport(await DNSChecker.check(setup, lookup: client))
    }
}
