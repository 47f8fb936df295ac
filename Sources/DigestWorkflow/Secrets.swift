import DigestCore
import DigestMail
import Foundation

/// Reads secrets from where they may live: environment variables and files. Never from the command
/// line, and nothing here is ever printed.
public struct Secrets: Sendable {
    public let variables: [String: String]
    public let workspace: Workspace

    public init(variables: [String: String], workspace: Workspace) {
        self.variables = variables
        self.workspace = workspace
    }

    /// A secret from the variable `name`, or else from the file the variable `name_FILE` names (its
    /// trailing line break dropped); nil when neither is set.
    public func secret(_ name: String, what: String) throws -> [UInt8]? {
        if let value = variables[name], !value.isEmpty { return Array(value.utf8) }
        guard let path = variables[name + "_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WorkflowError("cannot read the \(what) file named by \(name)_FILE (\(path))")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return bytes
    }

    /// The unsubscribe signing key from DIGEST_UNSUBSCRIBE_KEY or DIGEST_UNSUBSCRIBE_KEY_FILE; nil when
    /// neither is set.
    public func unsubscribeSigner(listID: String) throws -> UnsubscribeSigner? {
        guard let secret = try secret("DIGEST_UNSUBSCRIBE_KEY", what: "unsubscribe key") else { return nil }
        guard let signer = UnsubscribeSigner(secret: secret, listID: listID) else {
            throw WorkflowError(
                "the unsubscribe key is too short: use at least 16 random bytes (e.g. openssl rand -hex 32)")
        }
        return signer
    }

    /// The DKIM signer for the configured keys (paths relative to the workspace), or nil without DKIM.
    public func dkimSigner(_ settings: DKIMSettings?) throws -> DKIMSigner? {
        guard let settings else { return nil }
        let keys = try settings.signatures.map { signature in
            let url = workspace.resolve(signature.keyFile)
            guard let data = FileManager.default.contents(atPath: url.path),
                let pem = String(data: data, encoding: .utf8)
            else {
                throw WorkflowError(
                    "cannot read the DKIM key for selector '\(signature.selector)' at \(workspace.displayPath(url)); "
                        + "create one with: digest dkim keygen --selector \(signature.selector)")
            }
            do {
                return try DKIMKey(selector: signature.selector, domain: settings.domain, pem: pem)
            } catch {
                throw WorkflowError("the DKIM key at \(workspace.displayPath(url)) cannot be used: \(error)")
            }
        }
        return DKIMSigner(keys: keys)
    }

    /// The VERP return path of `settings`, signed with DIGEST_BOUNCE_KEY (or DIGEST_BOUNCE_KEY_FILE), else with
    /// the unsubscribe key under a label of its own; nil without `bounce:` in publication.yaml.
    public func bounceAddress(_ settings: BounceSettings?, listID: String) throws -> BounceAddress? {
        guard let settings else { return nil }
        guard
            let secret = try secret("DIGEST_BOUNCE_KEY", what: "bounce key")
                ?? secret("DIGEST_UNSUBSCRIBE_KEY", what: "unsubscribe key")
        else {
            throw WorkflowError(
                "bounce: in publication.yaml needs a key to sign return paths: set DIGEST_BOUNCE_KEY (or "
                    + "DIGEST_BOUNCE_KEY_FILE), or the unsubscribe key")
        }
        guard let signer = BounceSigner(secret: secret, listID: listID) else {
            throw WorkflowError("the bounce key is too short: use at least 16 random bytes (e.g. openssl rand -hex 32)")
        }
        return BounceAddress(localPart: settings.localPart, domain: settings.domain, signer: signer)
    }
}
