import Foundation

/// A throwaway certificate authority made with `openssl` at test time, and the server certificates it signs: what
/// the TLS servers of the tests (Dovecot, PostgreSQL) present and what their clients are told to trust.
///
/// ```swift
/// let ca = try await TestCertificateAuthority.make(in: folder)                     // folder/ca.pem, folder/ca.key
/// let leaf = try await ca.issue(in: folder, subjectAltName: "DNS:localhost")      // folder/leaf.pem, leaf.key
/// ```
public struct TestCertificateAuthority: Sendable {
    /// The CA's certificate (PEM): what a client must trust.
    public let certificate: String
    let key: String

    static let openssl = "/usr/bin/openssl"

    /// A new CA, valid two days: `NAME.pem` and `NAME.key` in `folder`.
    public static func make(in folder: URL, name: String = "ca", subject: String = "digest test CA") async throws
        -> TestCertificateAuthority
    {
        let ca = TestCertificateAuthority(
            certificate: folder.appendingPathComponent("\(name).pem").path,
            key: folder.appendingPathComponent("\(name).key").path)
        try await run([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.key, "-out", ca.certificate, "-days", "2",
            "-subj", "/CN=\(subject)",
        ])
        return ca
    }

    /// A server certificate signed by this CA for the names in `subjectAltName` (openssl's syntax:
    /// `IP:127.0.0.1,DNS:localhost`): `NAME.pem` and `NAME.key` (mode 0600) in `folder`.
    public func issue(in folder: URL, name: String = "leaf", subjectAltName: String = "IP:127.0.0.1,DNS:localhost")
        async throws -> (certificate: String, key: String)
    {
        let base = folder.appendingPathComponent(name).path
        try "subjectAltName=\(subjectAltName)\n".write(toFile: "\(base).ext", atomically: true, encoding: .utf8)
        let commonName = subjectAltName.split(separator: ",").first.map { String($0.drop { $0 != ":" }.dropFirst()) }
        try await Self.run([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(base).key", "-out", "\(base).csr",
            "-subj", "/CN=\(commonName ?? "localhost")",
        ])
        try await Self.run([
            "x509", "-req", "-in", "\(base).csr", "-CA", certificate, "-CAkey", key, "-CAcreateserial",
            "-out", "\(base).pem", "-days", "2", "-extfile", "\(base).ext",
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: "\(base).key")
        return ("\(base).pem", "\(base).key")
    }

    private static func run(_ arguments: [String]) async throws {
        guard FileManager.default.isExecutableFile(atPath: openssl) else {
            throw SetupFailure(message: "openssl is not installed: run .ci/install-deps test (Debian package openssl)")
        }
        let result = try await Subprocess.run(openssl, arguments)
        guard result.status == 0 else {
            throw SetupFailure(message: "openssl \(arguments[0]) failed: \(result.stderr)")
        }
    }
}
