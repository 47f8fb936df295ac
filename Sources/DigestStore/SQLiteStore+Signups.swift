import DigestCore
import Foundation
import GRDB

/// A sign-up waiting for its reader to confirm (double opt-in).
public struct PendingSignup: Equatable, Sendable {
    public var address: EmailAddress
    public var name: String
    public var createdAt: Date
    public var lastSentAt: Date?
    public var sends: Int
}

extension SQLiteStore {
    public typealias SignupDecision = Store.SignupDecision
    public typealias ConfirmOutcome = Store.ConfirmOutcome

    /// Records a sign-up as pending (new, or again for a reader who unsubscribed) and decides whether a
    /// confirmation goes out now: at most one per address per `interval`. Runs on GRDB's writer.
    public func requestSignup(_ address: EmailAddress, name: String, interval: TimeInterval, now: Date) async throws
        -> SignupDecision
    {
        try await database.write { db in
            if let status = try String.fetchOne(
                db, sql: "SELECT status FROM subscriber WHERE email = ?", arguments: [address.description]
            ).flatMap(Subscriber.Status.init) {
                switch status {
                case .active: return .alreadyActive
                case .bounced, .complained: return .refused(status)
                case .unsubscribed: break
                }
            }
            if let row = try Row.fetchOne(
                db, sql: "SELECT nonce, lastSentAt FROM signup WHERE email = ?", arguments: [address.description])
            {
                let last: Date? = row["lastSentAt"]
                if let last, now.timeIntervalSince(last) < interval { return .tooSoon }
                try db.execute(
                    sql: "UPDATE signup SET lastSentAt = ?, sends = sends + 1 WHERE email = ?",
                    arguments: [now, address.description])
                return .send(nonce: row["nonce"])
            }
            let nonce = Store.randomNonce()
            try db.execute(
                sql: "INSERT INTO signup (email, name, nonce, createdAt, lastSentAt, sends) VALUES (?, ?, ?, ?, ?, 1)",
                arguments: [address.description, name, nonce, now, now])
            return .send(nonce: nonce)
        }
    }

    /// Takes back a send that did not happen (the mail queue was full): the next request may send.
    public func releaseSignupSend(_ address: EmailAddress) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE signup SET lastSentAt = NULL, sends = MAX(sends - 1, 0) WHERE email = ?",
                arguments: [address.description])
        }
    }

    /// Confirms the pending sign-up of `address` whose nonce is `nonce`, in one transaction: the pending
    /// row goes (so the token works once) and the reader becomes active with their consent recorded
    /// (source `form`, joined when they signed up, confirmed now).
    public func confirmSignup(_ address: EmailAddress, nonce: String, now: Date) async throws -> ConfirmOutcome {
        try await database.write { db in
            guard
                let pending = try Row.fetchOne(
                    db, sql: "SELECT name, createdAt FROM signup WHERE email = ? AND nonce = ?",
                    arguments: [address.description, nonce])
            else { return .notPending }
            try db.execute(sql: "DELETE FROM signup WHERE email = ?", arguments: [address.description])
            let name: String = pending["name"]
            let createdAt: Date = pending["createdAt"]
            if var existing = try Subscriber.filter(Column("email") == address.description).fetchOne(db) {
                if existing.status == .bounced || existing.status == .complained { return .refused(existing.status) }
                existing.status = .active
                existing.source = "form"
                existing.confirmedAt = now
                existing.updatedAt = now
                if existing.name.isEmpty { existing.name = name }
                try existing.update(db)
                return .confirmed(existing)
            }
            var subscriber = Subscriber(
                email: address, name: name, joinedAt: createdAt, source: "form", updatedAt: now, confirmedAt: now)
            try subscriber.insert(db)
            return .confirmed(subscriber)
        }
    }

    /// Deletes pending sign-ups made before `cutoff`; returns how many.
    @discardableResult
    public func purgeSignups(before cutoff: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM signup WHERE createdAt < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// Pending sign-ups, oldest first.
    public func pendingSignups() throws -> [PendingSignup] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signup ORDER BY createdAt, email").compactMap { row in
                guard let address = EmailAddress(row["email"] as String) else { return nil }
                return PendingSignup(
                    address: address, name: row["name"], createdAt: row["createdAt"], lastSentAt: row["lastSentAt"],
                    sends: row["sends"])
            }
        }
    }
}
