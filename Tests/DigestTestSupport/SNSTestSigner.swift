import Foundation

/// Plays Amazon SNS in the webhook tests: a key pair and a self-signed certificate made by `openssl` (the
/// certificate `digest serve` is told to trust with DIGEST_SNS_CERT_FILE), and messages signed as SNS signs
/// them, with `openssl dgst`: an implementation independent of the server's.
public final class SNSTestSigner: Sendable {
    public let folder: URL
    public let certificate: URL
    let key: URL
    /// Where the signed test messages say their certificate is: Amazon's form, never fetched in the tests.
    public static let certificateURL =
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"

    public init() async throws {
        folder = try Repository.temporaryFolder("sns-signer")
        certificate = folder.appendingPathComponent("cert.pem")
        key = folder.appendingPathComponent("key.pem")
        let made = try await Subprocess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.path, "-out", certificate.path,
                "-subj", "/CN=sns.amazonaws.com", "-days", "2",
            ])
        guard made.status == 0 else { throw SetupFailure(message: "openssl req failed: \(made.stderr)") }
    }

    /// The string SNS signs (its documented fields in order, each `name\nvalue\n`).
    public static func stringToSign(_ message: [String: Any]) -> String {
        let type = message["Type"] as? String ?? ""
        let names =
            type == "Notification"
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        return names.compactMap { name in (message[name] as? String).map { "\(name)\n\($0)\n" } }.joined()
    }

    /// `message` with Signature (and SignatureVersion, SigningCertURL) set, as JSON.
    public func signed(_ message: [String: Any], version: String = "1", certificateURL: String = certificateURL)
        async throws -> String
    {
        var message = message
        message["SignatureVersion"] = version
        message["SigningCertURL"] = certificateURL
        let digest = version == "1" ? "-sha1" : "-sha256"
        let result = try await Subprocess.run(
            "/bin/sh", ["-c", "/usr/bin/openssl dgst \(digest) -sign \"$1\" | base64 -w0", "sign", key.path],
            input: Data(Self.stringToSign(message).utf8))
        guard result.status == 0, !result.stdout.isEmpty else {
            throw SetupFailure(message: "openssl dgst failed: \(result.stderr)")
        }
        message["Signature"] = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return String(decoding: try JSONSerialization.data(withJSONObject: message), as: UTF8.self)
    }

    /// A fixture of Tests/DigestIntegrationTests/Fixtures/webhooks.
    public static func fixture(_ name: String) throws -> String {
        try String(
            contentsOf: Repository.root.appendingPathComponent(
                "Tests/DigestIntegrationTests/Fixtures/webhooks/\(name)"),
            encoding: .utf8)
    }

    /// A fixture as a JSON object.
    public static func object(_ name: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(fixture(name).utf8)) as? [String: Any] else {
            throw SetupFailure(message: "\(name) is not a JSON object")
        }
        return object
    }

    /// The SNS notification fixture carrying `message` (an SES notification's JSON) in its Message.
    public static func notification(carrying message: String, id: String = UUID().uuidString) throws -> [String: Any] {
        var envelope = try object("sns-notification.json")
        envelope["Message"] = message
        envelope["MessageId"] = id
        envelope.removeValue(forKey: "Subject")
        return envelope
    }
}
