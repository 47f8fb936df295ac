import DigestCore
import DigestCurl
import DigestMail
import Foundation

/// What `digest serve --signups` needs to mail confirmations: the signing key, the message builder
/// with the editions' DKIM keys, and the relay (the same libcurl transport as `digest send`).
public struct SignupMailSetup: Sendable {
    public var signer: SignupSigner
    public var notice: NoticeMessage
    public var relay: CurlSMTPTransport.Configuration
    /// `welcome.txt` in the templates folder, when there is one.
    public var welcome: String?

    /// The key comes from DIGEST_SIGNUP_KEY (or `…_FILE`), else the unsubscribe key; the token's own
    /// label keeps the two kinds of token apart even under one key.
    public static func load(
        publication: Publication, workspace: Workspace, variables: [String: String], smtp: String? = nil
    ) throws -> SignupMailSetup {
        let secrets = Secrets(variables: variables, workspace: workspace)
        guard
            let secret = try secrets.secret("DIGEST_SIGNUP_KEY", what: "sign-up key")
                ?? secrets.secret("DIGEST_UNSUBSCRIBE_KEY", what: "unsubscribe key")
        else {
            throw WorkflowError(
                "sign-ups need a signing key: set DIGEST_SIGNUP_KEY (or DIGEST_SIGNUP_KEY_FILE), or the "
                    + "unsubscribe key DIGEST_UNSUBSCRIBE_KEY")
        }
        guard let signer = SignupSigner(secret: secret, listID: publication.listID) else {
            throw WorkflowError(
                "the sign-up key is too short: use at least 16 random bytes (e.g. openssl rand -hex 32)")
        }
        let relay = try SMTPRelay.configuration(publication: publication, url: smtp, secrets: secrets)
        let welcomeFile = workspace.templatesFolder(for: publication).appendingPathComponent("welcome.txt")
        let welcome = FileManager.default.contents(atPath: welcomeFile.path).map { String(decoding: $0, as: UTF8.self) }
        return SignupMailSetup(
            signer: signer,
            notice: NoticeMessage(publication: publication, signer: try secrets.dkimSigner(publication.dkim)),
            relay: relay, welcome: welcome)
    }
}

/// `digest subscribe-form`: the HTML an editor pastes into their own site.
public enum SubscribeFormSnippet {
    public static func html(action: String, thanks: String?, publication: String) -> String {
        let thanksField =
            thanks.map { "\n  <input type=\"hidden\" name=\"thanks\" value=\"\(HTMLEscape.attribute($0))\">" } ?? ""
        return """
            <form method="post" action="\(HTMLEscape.attribute(action))">
              <label>Email address <input type="email" name="email" required autocomplete="email"></label>
              <label>Name (optional) <input type="text" name="name" autocomplete="name"></label>
              <div style="position:absolute;left:-10000px" aria-hidden="true">
                <input type="text" name="website" tabindex="-1" autocomplete="off">
              </div>\(thanksField)
              <button type="submit">Subscribe to \(HTMLEscape.text(publication))</button>
            </form>

            """
    }
}
