/// Reads a mailbox (the bounce mailbox) one message at a time: IMAP or POP3. One reader is one connection, used
/// from one thread.
public protocol MailboxReader: AnyObject {
    /// `imap` or `pop3`.
    var protocolName: String { get }
    /// The messages in the mailbox now, oldest first.
    func list() throws -> [MailboxEntry]
    /// One message's bytes, as stored.
    func fetch(_ entry: MailboxEntry) throws -> [UInt8]
    /// Removes a message (IMAP: flagged deleted, expunged by `finish`; POP3: deleted when `finish` ends the session).
    func delete(_ entry: MailboxEntry) throws
    /// Moves a message into `folder` (IMAP only), creating the folder when needed.
    func move(_ entry: MailboxEntry, to folder: String) throws
    /// Ends the session: expunges what `delete` flagged, and logs out.
    func finish() throws
}

/// One message in a mailbox.
public struct MailboxEntry: Hashable, Sendable {
    /// What names the message for good: `UIDVALIDITY/UID` for IMAP, the UIDL for POP3.
    public var id: String
    /// How the session reaches it: the UID for IMAP, the message number for POP3.
    public var locator: String

    public init(id: String, locator: String) {
        self.id = id
        self.locator = locator
    }
}

/// Why a mailbox could not be read, in words for the editor (host, port, what to check).
public struct MailboxError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
