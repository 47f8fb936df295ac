import Crypto
import DigestMail
import Foundation
import _CryptoExtras

/// One message Amazon SNS POSTs to an HTTPS subscriber: a `SubscriptionConfirmation`, a `Notification` or an
/// `UnsubscribeConfirmation`, with the fields its signature covers.
public struct SNSMessage: Sendable, Equatable {
    public var type: String
    public var messageID: String
    public var topicARN: String
    public var subject: String?
    public var message: String
    public var timestamp: String
    public var token: String?
    public var subscribeURL: String?
    public var signatureVersion: String
    public var signature: String
    public var signingCertURL: String

    /// Reads the JSON body; nil when it is not an SNS message (a field missing or of the wrong type).
    public init?(json body: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let type = object["Type"] as? String, let messageID = object["MessageId"] as? String,
            let topicARN = object["TopicArn"] as? String, let message = object["Message"] as? String,
            let timestamp = object["Timestamp"] as? String
        else { return nil }
        self.type = type
        self.messageID = messageID
        self.topicARN = topicARN
        self.message = message
        self.timestamp = timestamp
        subject = object["Subject"] as? String
        token = object["Token"] as? String
        subscribeURL = object["SubscribeURL"] as? String
        signatureVersion = object["SignatureVersion"] as? String ?? ""
        signature = object["Signature"] as? String ?? ""
        signingCertURL = object["SigningCertURL"] as? String ?? ""
    }

    /// The string SNS signs: the covered fields as `name\nvalue\n` in byte order of their names; for a
    /// notification Message, MessageId, Subject (when present), Timestamp, TopicArn, Type; for the
    /// (un)subscription confirmations Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
    /// Nil for another type, or a confirmation without its token or address.
    public var stringToSign: String? {
        var fields: [(String, String)] = [("Message", message), ("MessageId", messageID)]
        switch type {
        case "Notification":
            if let subject { fields.append(("Subject", subject)) }
            fields += [("Timestamp", timestamp), ("TopicArn", topicARN), ("Type", type)]
        case "SubscriptionConfirmation", "UnsubscribeConfirmation":
            guard let subscribeURL, let token else { return nil }
            fields += [
                ("SubscribeURL", subscribeURL), ("Timestamp", timestamp), ("Token", token), ("TopicArn", topicARN),
                ("Type", type),
            ]
        default:
            return nil
        }
        return fields.map { "\($0.0)\n\($0.1)\n" }.joined()
    }
}

/// Why an SNS message was not believed (said in the log, never to the client).
public struct SNSRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Verifies SNS message signatures (SignatureVersion 1: SHA1withRSA; 2: SHA256withRSA) against the
/// certificate at the message's SigningCertURL, which must be `https://sns.REGION.amazonaws.com/….pem`.
/// Certificates are fetched once per address and kept. With `trustedCertificate` every message is checked
/// against that certificate instead (tests, or an editor who pins the certificate); the address must still
/// have Amazon's form.
public final class SNSVerifier: Sendable {
    /// Fetches a certificate (PEM) over HTTPS.
    public typealias Fetch = @Sendable (String) async throws -> [UInt8]

    let fetch: Fetch?
    let trusted: _RSA.Signing.PublicKey?
    /// When not empty, messages of other topics are refused. `digest serve` always gives at least one: Amazon signs
    /// every account's messages, so without it a notification from a forger's own topic would verify.
    public let topics: Set<String>
    let keys = Locked<[String: _RSA.Signing.PublicKey]>([:])

    /// `trustedCertificate`: a PEM certificate whose key signs every message (no fetching).
    public init(trustedCertificate: String? = nil, fetch: Fetch?, topics: Set<String> = []) throws {
        self.fetch = fetch
        self.topics = topics
        trusted = try trustedCertificate.map { try Self.publicKey(certificatePEM: $0) }
    }

    /// Checks the topic, the certificate's address, the signature version and the signature.
    public func verify(_ message: SNSMessage) async -> Result<Void, SNSRejection> {
        if !topics.isEmpty && !topics.contains(message.topicARN) {
            return .failure(SNSRejection(reason: "topic \(message.topicARN) is not one this server accepts"))
        }
        guard Self.isAmazonCertificateURL(message.signingCertURL) else {
            return .failure(SNSRejection(reason: "SigningCertURL '\(message.signingCertURL)' is not Amazon SNS's"))
        }
        guard let text = message.stringToSign else {
            return .failure(SNSRejection(reason: "message type '\(message.type)' is not one SNS signs"))
        }
        guard let signature = Data(base64Encoded: message.signature), !signature.isEmpty else {
            return .failure(SNSRejection(reason: "no signature"))
        }
        let key: _RSA.Signing.PublicKey
        do {
            key = try await publicKey(for: message.signingCertURL)
        } catch {
            return .failure(SNSRejection(reason: "the signing certificate cannot be used: \(error)"))
        }
        let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
        let data = Data(text.utf8)
        let valid: Bool
        switch message.signatureVersion {
        case "1": valid = key.isValidSignature(rsa, for: Insecure.SHA1.hash(data: data), padding: .insecurePKCS1v1_5)
        case "2": valid = key.isValidSignature(rsa, for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
        default:
            return .failure(SNSRejection(reason: "SignatureVersion '\(message.signatureVersion)' is not 1 or 2"))
        }
        return valid ? .success(()) : .failure(SNSRejection(reason: "the signature does not verify"))
    }

    func publicKey(for url: String) async throws -> _RSA.Signing.PublicKey {
        if let trusted { return trusted }
        if let key = keys.withLock({ $0[url] }) { return key }
        guard let fetch else { throw SNSRejection(reason: "no way to fetch \(url)") }
        let pem = String(decoding: try await fetch(url), as: UTF8.self)
        let key = try Self.publicKey(certificatePEM: pem)
        keys.withLock {
            if $0.count >= 64 { $0.removeAll() }
            $0[url] = key
        }
        return key
    }

    /// `https://sns.REGION.amazonaws.com/NAME.pem` (or `.amazonaws.com.cn`), nothing else: no user, no port,
    /// no query, no other host.
    public static func isAmazonCertificateURL(_ text: String) -> Bool {
        guard let url = URLComponents(string: text), url.scheme == "https", url.user == nil, url.password == nil,
            url.port == nil, url.query == nil, url.fragment == nil, let host = url.host?.lowercased(),
            url.path.hasSuffix(".pem"), url.path.hasPrefix("/"), !url.path.contains("..")
        else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let region = labels.count >= 4 ? labels[1] : ""
        let regionOK =
            !region.isEmpty && region.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        if labels.count == 4 { return labels[0] == "sns" && regionOK && labels[2...] == ["amazonaws", "com"] }
        if labels.count == 5 { return labels[0] == "sns" && regionOK && labels[2...] == ["amazonaws", "com", "cn"] }
        return false
    }

    /// The RSA key of an X.509 certificate in PEM: the modulus and exponent of the certificate's
    /// SubjectPublicKeyInfo, found by walking its DER (Certificate → TBSCertificate → the seventh element, after
    /// the optional version). Only a key of 2048 to 8192 bits.
    ///
    /// The key is made from its modulus and exponent, never from DER: swift-crypto's
    /// `_RSA.Signing.PublicKey(derRepresentation:)` frees its key twice when BoringSSL cannot read the DER (an
    /// abort, or a corrupted heap), so nothing read from outside may reach it.
    public static func publicKey(certificatePEM pem: String) throws -> _RSA.Signing.PublicKey {
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        guard let start = pem.range(of: begin), let stop = pem.range(of: end, range: start.upperBound..<pem.endIndex)
        else { throw SNSRejection(reason: "not a PEM certificate") }
        let base64 = pem[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: String(base64)) else {
            throw SNSRejection(reason: "the certificate's base64 is broken")
        }
        guard let (modulus, exponent) = RSAKeyDER.rsaPublicKey(certificate: Array(der)) else {
            throw SNSRejection(reason: "the certificate's DER cannot be read, or its key is not RSA")
        }
        guard (2048...8192).contains(modulus.count * 8) else {
            throw SNSRejection(reason: "the certificate's RSA key has \(modulus.count * 8) bits, not 2048 to 8192")
        }
        let key = try _RSA.Signing.PublicKey(n: modulus, e: exponent)
        guard key.keySizeInBits >= 2048 else {
            throw SNSRejection(reason: "the certificate's RSA key has \(key.keySizeInBits) bits, fewer than 2048")
        }
        return key
    }
}
