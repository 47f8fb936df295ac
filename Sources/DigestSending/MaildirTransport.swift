import DigestCore
import DigestMail
import DigestStore
import Foundation

/// A transport that writes each message into a Maildir (tmp/, new/, cur/) instead of sending it:
/// `digest send --dry-run DIR`. Each file is written in tmp/ and renamed into new/, as Maildir requires,
/// so a reader of the folder never sees half a message.
public final class MaildirTransport: MailTransport {
    let folder: URL
    let host: String
    private var counter = 0
    private static let sequence = NSLock()
    nonisolated(unsafe) private static var instances = 0

    public init(folder: URL) throws {
        self.folder = folder
        for sub in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: ":", with: "_")
        Self.sequence.lock()
        Self.instances += 1
        counter = Self.instances * 1_000_000_000
        Self.sequence.unlock()
    }

    public func deliver(_ message: OutgoingMessage) -> DeliveryOutcome {
        counter += 1
        let now = Date().timeIntervalSince1970
        let name = "\(Int(now)).M\(Int((now - now.rounded(.down)) * 1_000_000))P\(getpid())Q\(counter).\(host)"
        let temporary = folder.appendingPathComponent("tmp/\(name)")
        do {
            try Data(message.data).write(to: temporary)
            try FileManager.default.moveItem(at: temporary, to: folder.appendingPathComponent("new/\(name)"))
            return DeliveryOutcome(
                recipient: message.recipient, status: .accepted, replyCode: 250, reply: "250 written to new/\(name)",
                bodySent: true)
        } catch {
            return DeliveryOutcome(
                recipient: message.recipient, status: .deferred, replyCode: nil,
                reply: "cannot write to \(folder.path): \(error.localizedDescription)")
        }
    }
}
