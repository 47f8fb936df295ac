/// A verb's failure that is not a problem in the editor's files: the message is for the editor, the
/// kind decides the command's exit status.
public struct WorkflowError: Error, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Something outside the editor's files failed: the SMTP set-up, a disk write, the database.
        case failure
        /// The editor's input is wrong (a file, an address, a feed that is not a feed).
        case badInput
        /// The command line is wrong (a date that is not a date, a missing value): the usage status, 64.
        case usage
        /// Some recipients did not get the message.
        case notAllDelivered
        /// Some feeds could not be read.
        case someFeedsFailed
        /// A server the verb needs could not be used (the bounce mailbox): EX_UNAVAILABLE, 69.
        case unavailable
    }

    public var message: String
    public var kind: Kind

    public init(_ message: String, kind: Kind = .failure) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
