import Foundation

/// A PostgreSQL database as `store:` (or `DIGEST_STORE_URL`) names it:
/// `postgres://USER@HOST:PORT/DATABASE?sslmode=MODE`. The password never comes from the URL: it is
/// `DIGEST_STORE_PASSWORD` or the file `DIGEST_STORE_PASSWORD_FILE` names.
public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// libpq's `sslmode`: disable, allow, prefer, require, verify-ca, verify-full. `verify-*` check the
    /// server's certificate (and, for verify-full, its name) against `sslrootcert` or the system's roots.
    public var sslMode: String?
    public var sslRootCert: String?
    /// Connections the store may open at once (`?pool=N`, default 8).
    public var poolSize: Int
    public var password: String?

    public init(
        user: String, host: String, port: Int = 5432, database: String, sslMode: String? = nil,
        sslRootCert: String? = nil, poolSize: Int = 8, password: String? = nil
    ) {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        self.poolSize = poolSize
        self.password = password
    }

    static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    /// True when `text` names a PostgreSQL database rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Reads a `postgres://` or `postgresql://` URL; the error says what is wrong and what to write.
    public init(url text: String) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw StoreError(
                "'\(Self.redacted(text))' is not a PostgreSQL URL: write postgres://USER@HOST:PORT/DATABASE")
        }
        if components.password != nil {
            throw StoreError(
                "the store URL has a password in it: take it out and set DIGEST_STORE_PASSWORD (or "
                    + "DIGEST_STORE_PASSWORD_FILE, a file holding it) instead")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError("the store URL \(Self.redacted(text)) names no host: write postgres://USER@HOST/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(
                "the store URL \(Self.redacted(text)) names no database: write postgres://USER@HOST/DATABASE")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError("the store URL \(Self.redacted(text)) names no user: write postgres://USER@HOST/DATABASE")
        }
        self.init(
            user: user.removingPercentEncoding ?? user, host: host, port: components.port ?? 5432,
            database: database.removingPercentEncoding ?? database)
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value, Self.sslModes.contains(mode) else {
                    throw StoreError(
                        "sslmode=\(item.value ?? "") in the store URL is not one of "
                            + Self.sslModes.joined(separator: ", "))
                }
                sslMode = mode
            case "sslrootcert":
                sslRootCert = item.value
            case "pool":
                guard let size = item.value.flatMap(Int.init), (1...64).contains(size) else {
                    throw StoreError("pool=\(item.value ?? "") in the store URL must be a number from 1 to 64")
                }
                poolSize = size
            default:
                throw StoreError(
                    "the store URL has an option digest does not know: \(item.name) (it knows sslmode, "
                        + "sslrootcert and pool)")
            }
        }
    }

    /// The URL with any password masked, for messages.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "postgres://…"
    }

    /// The URL without the password, as messages and `store check` show it.
    public var description: String {
        var text = "postgres://\(user)@\(host):\(port)/\(database)"
        var options: [String] = []
        if let sslMode { options.append("sslmode=\(sslMode)") }
        if let sslRootCert { options.append("sslrootcert=\(sslRootCert)") }
        if poolSize != 8 { options.append("pool=\(poolSize)") }
        if !options.isEmpty { text += "?" + options.joined(separator: "&") }
        return text
    }

    /// libpq's connection keywords.
    var keywords: [(String, String)] {
        var list = [
            ("host", host), ("port", String(port)), ("dbname", database), ("user", user),
            ("options", "-c TimeZone=UTC -c DateStyle=ISO"), ("client_encoding", "UTF8"),
            ("application_name", "digest"), ("connect_timeout", "10"),
        ]
        if let password { list.append(("password", password)) }
        if let sslMode { list.append(("sslmode", sslMode)) }
        if let sslRootCert { list.append(("sslrootcert", sslRootCert)) }
        return list
    }
}
