import DigestCore
import DigestMail
import Foundation

/// Reads secrets from where they may live: environment variables and files. Never from the command
/// line, and nothing here is ever printed.
struct Secrets {
    let variables: [String: String]
    let workspace: Workspace

    /// A secret from the variable `name`, or else from the file the variable `name_FILE` names (its
    /// trailing line break dropped); nil when neither is set.
    func secret(_ name: String, what: String) throws -> [UInt8]? {
        if let value = variables[name], !value.isEmpty { return Array(value.utf8) }
        guard let path = variables[name + "_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(message: "cannot read the \(what) file named by \(name)_FILE (\(path))")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return bytes
    }

    /// The unsubscribe signing key from DIGEST_UNSUBSCRIBE_KEY or DIGEST_UNSUBSCRIBE_KEY_FILE; nil when
    /// neither is set.
    func unsubscribeSigner(listID: String) throws -> UnsubscribeSigner? {
        guard let secret = try secret("DIGEST_UNSUBSCRIBE_KEY", what: "unsubscribe key") else { return nil }
        guard let signer = UnsubscribeSigner(secret: secret, listID: listID) else {
            throw CommandFailure(
                message: "the unsubscribe key is too short: use at least 16 random bytes (e.g. openssl rand -hex 32)")
        }
        return signer
    }

    /// The DKIM signer for the configured keys (paths relative to the workspace), or nil without DKIM.
    func dkimSigner(_ settings: DKIMSettings?) throws -> DKIMSigner? {
        guard let settings else { return nil }
        let keys = try settings.signatures.map { signature in
            let url =
                signature.keyFile.hasPrefix("/")
                ? URL(fileURLWithPath: signature.keyFile) : workspace.root.appendingPathComponent(signature.keyFile)
            guard let data = FileManager.default.contents(atPath: url.path),
                let pem = String(data: data, encoding: .utf8)
            else {
                throw CommandFailure(
                    message:
                        "cannot read the DKIM key for selector '\(signature.selector)' at \(workspace.displayPath(url)); "
                        + "create one with: digest dkim keygen --selector \(signature.selector)")
            }
            do {
                return try DKIMKey(selector: signature.selector, domain: settings.domain, pem: pem)
            } catch {
                throw CommandFailure(message: "the DKIM key at \(workspace.displayPath(url)) cannot be used: \(error)")
            }
        }
        return DKIMSigner(keys: keys)
    }
}
