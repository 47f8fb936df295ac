import Foundation

/// A private Postfix instance (Debian's `postfix`, run as root) on a free loopback port, with its own
/// configuration, queue, log and mailboxes under a temporary folder: nothing of the machine's own mail system
/// (`/etc/postfix/main.cf`, syslog, system users) is read or changed.
///
/// It accepts mail for `domains` from 127.0.0.1 and delivers it with the `virtual` agent to Maildirs
/// `mailBase/DOMAIN/LOCAL/Maildir/`, owned by `mailOwner` (nobody), or to a Maildir given for an address
/// (another server's, e.g. a Dovecot user's `~/Maildir`, owned by nobody too). Every recipient is accepted at RCPT,
/// so a message to an address that has no mailbox is refused later, by the delivery agent, and Postfix
/// itself mails a DSN to the envelope sender, as a relay does. `recipient_delimiter = +`, so
/// `bounces+TOKEN@bounce.test` is delivered to the mailbox `bounces@bounce.test`.
///
/// ```swift
/// let postfix = try await PostfixTestServer.start(
///     mailboxes: ["reader1@list.test"], maildirs: ["bounces@bounce.test": dovecot.maildir(of: "bounces")])
/// // digest send --smtp postfix.url …; then:
/// let dsns = try await postfix.waitForMessages(for: "bounces@bounce.test", count: 3)
/// await postfix.stop()
/// ```
///
/// Stop it with `stop()`; if the test process dies first, a watchdog stops it within a couple of seconds.
public final class PostfixTestServer: @unchecked Sendable {
    public let port: Int
    /// The temporary folder of everything: `conf/`, `queue/`, `data/`, `mail/`, `maillog`.
    public let folder: URL
    public let configDirectory: URL
    /// The Maildirs: `mailBase/DOMAIN/LOCAL/Maildir/`.
    public let mailBase: URL
    public let logFile: URL
    public let hostname: String
    public let mailboxes: [String]
    /// Addresses delivered to a Maildir of another server's.
    public let maildirs: [String: URL]
    /// The owner of every mailbox (uid and gid of `nobody`/`nogroup`): what a Dovecot passwd-file pointed at
    /// these Maildirs must give as `uid:gid`.
    public static let mailOwner = (uid: 65_534, gid: 65_534)

    private let lock = NSLock()
    private var running = true

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// Starts Postfix accepting mail for `domains` with a mailbox for each of `mailboxes` (full addresses) under
    /// `mailBase`, and one for each address of `maildirs` in the Maildir given (its parent must exist and be
    /// writable by `mailOwner`). With `recipient_delimiter = +`, `bounces+ANYTHING@d` goes to `bounces@d`'s.
    public static func start(
        mailboxes: [String], maildirs: [String: URL] = [:], domains: [String] = ["list.test", "bounce.test"],
        hostname: String = "mail.list.test"
    ) async throws -> PostfixTestServer {
        guard getuid() == 0 else {
            throw SetupFailure(
                message: "the private Postfix of the tests needs root (postfix start); run the tests as root")
        }
        guard let postfix = Self.program("postfix") else {
            throw SetupFailure(message: "postfix is not installed: run .ci/install-deps test (Debian's postfix)")
        }
        var lastLog = ""
        // A free port is found by binding port 0 and closing it: another process may take it in between,
        // so try again on a failed start.
        for _ in 0..<3 {
            // Short, under /tmp whatever TMPDIR says: Postfix's UNIX sockets live under queue/, and a socket path
            // holds at most 107 bytes.
            let folder = URL(fileURLWithPath: "/tmp/postfix-\(UUID().uuidString.prefix(8).lowercased())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let port = try Self.freePort()
            let server = try PostfixTestServer(
                folder: folder, port: port, mailboxes: mailboxes, maildirs: maildirs, domains: domains,
                hostname: hostname)
            let started = try await Subprocess.run(postfix, ["-c", server.configDirectory.path, "start"])
            if started.status == 0 {
                server.startWatchdog(postfix: postfix)
                return server
            }
            lastLog = "postfix start: \(started.stdout)\(started.stderr)\n\(server.log())"
            server.markStopped()
            _ = try? await Subprocess.run(postfix, ["-c", server.configDirectory.path, "stop"])
        }
        throw SetupFailure(message: "the private Postfix did not start:\n\(lastLog)")
    }

    private init(
        folder: URL, port: Int, mailboxes: [String], maildirs: [String: URL], domains: [String], hostname: String
    ) throws {
        self.folder = folder
        self.port = port
        self.hostname = hostname
        self.mailboxes = mailboxes
        self.maildirs = maildirs
        configDirectory = folder.appendingPathComponent("conf")
        mailBase = folder.appendingPathComponent("mail")
        logFile = folder.appendingPathComponent("maillog")
        let files = FileManager.default
        for name in ["conf", "queue", "data", "mail"] {
            try files.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        // master.cf: Debian's, every service outside a chroot (the queue folder has no copy of /etc), smtpd on
        // the private port only.
        var master = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
        master = Self.privateMaster(master, port: port)
        try master.write(to: configDirectory.appendingPathComponent("master.cf"), atomically: true, encoding: .utf8)
        let main = """
            compatibility_level = 3.6
            queue_directory = \(folder.appendingPathComponent("queue").path)
            data_directory = \(folder.appendingPathComponent("data").path)
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            myhostname = \(hostname)
            mydomain = \(domains.first ?? "list.test")
            myorigin = $myhostname
            mydestination =
            mynetworks = 127.0.0.0/8
            relay_domains =
            relayhost =
            maillog_file = \(logFile.path)
            maillog_file_prefixes = \(folder.path)
            recipient_delimiter = +
            smtputf8_enable = no
            disable_dns_lookups = yes
            smtp_host_lookup = native
            alias_maps =
            alias_database =
            biff = no
            virtual_mailbox_domains = \(domains.joined(separator: ", "))
            virtual_mailbox_base = /
            virtual_mailbox_maps = texthash:\(configDirectory.appendingPathComponent("mailboxes").path)
            virtual_uid_maps = static:\(Self.mailOwner.uid)
            virtual_gid_maps = static:\(Self.mailOwner.gid)
            smtpd_reject_unlisted_recipient = no
            delay_warning_time = 0
            queue_run_delay = 5s
            minimal_backoff_time = 5s
            maximal_backoff_time = 10s
            maximal_queue_lifetime = 1m
            bounce_queue_lifetime = 1m

            """
        try main.write(to: configDirectory.appendingPathComponent("main.cf"), atomically: true, encoding: .utf8)
        // virtual_mailbox_base is /: every Maildir is an absolute path without its first slash, ending in / (Maildir).
        var entries = mailboxes.map { address in
            (address, mailBase.appendingPathComponent(Self.relativeHome(of: address)).appendingPathComponent("Maildir"))
        }
        entries += maildirs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let lines = entries.map { address, maildir in
            "\(address.lowercased()) \(maildir.standardizedFileURL.path.drop { $0 == "/" })/"
        }
        try (lines.joined(separator: "\n") + "\n").write(
            to: configDirectory.appendingPathComponent("mailboxes"), atomically: true, encoding: .utf8)
        // The delivery agent writes as nobody; the master's lock files are the postfix user's.
        guard chown(mailBase.path, uid_t(Self.mailOwner.uid), gid_t(Self.mailOwner.gid)) == 0,
            let postfixUser = getpwnam("postfix"),
            chown(folder.appendingPathComponent("data").path, postfixUser.pointee.pw_uid, postfixUser.pointee.pw_gid)
                == 0
        else {
            throw SetupFailure(message: "cannot give \(folder.path)'s mail/ to nobody or data/ to postfix")
        }
    }

    deinit {
        stopBlocking()
    }

    /// A mailbox's home (`mailBase/DOMAIN/LOCAL`, or the folder holding a given Maildir): its Maildir is
    /// `home/Maildir/`, as Dovecot's `mail_location = maildir:~/Maildir` expects.
    public func home(of address: String) -> URL {
        maildir(of: address).deletingLastPathComponent()
    }

    public func maildir(of address: String) -> URL {
        if let given = maildirs.first(where: { $0.key.lowercased() == address.lowercased() })?.value { return given }
        return mailBase.appendingPathComponent(Self.relativeHome(of: address)).appendingPathComponent("Maildir")
    }

    /// The messages delivered to `address` (its Maildir's `new/` and `cur/`), oldest name first.
    public func messages(for address: String) -> [URL] {
        let maildir = maildir(of: address)
        var found: [URL] = []
        for sub in ["new", "cur"] {
            let folder = maildir.appendingPathComponent(sub)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            found += names.filter { !$0.hasPrefix(".") }.map { folder.appendingPathComponent($0) }
        }
        return found.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Postfix's log so far.
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? "(no log at \(logFile.path))"
    }

    /// How many messages are in the queue (incoming, active, deferred, hold, maildrop): 0 once every
    /// message is delivered or bounced and every DSN delivered.
    public func queued() -> Int {
        var count = 0
        for name in ["maildrop", "incoming", "active", "deferred", "hold"] {
            let folder = folder.appendingPathComponent("queue").appendingPathComponent(name)
            guard let walker = FileManager.default.enumerator(atPath: folder.path) else { continue }
            for case let path as String in walker {
                var isFolder: ObjCBool = false
                let full = folder.appendingPathComponent(path).path
                if FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue {
                    count += 1
                }
            }
        }
        return count
    }

    /// Waits until `address` holds at least `count` messages and the queue is empty, polling without holding
    /// a thread of the cooperative pool; on timeout throws with Postfix's log.
    @discardableResult
    public func waitForMessages(for address: String, count: Int, timeout: TimeInterval = 60) async throws -> [URL] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let messages = messages(for: address)
            if messages.count >= count && queued() == 0 { return messages }
            if Date() > deadline {
                throw SetupFailure(
                    message:
                        "\(address) holds \(messages.count) of \(count) messages after \(Int(timeout)) s, \(queued()) "
                        + "queued. Postfix's log (\(logFile.path)):\n\(log())")
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// Stops Postfix (`postfix -c DIR stop`); safe to call more than once.
    public func stop() async {
        guard markStopped(), let postfix = Self.program("postfix") else { return }
        _ = try? await Subprocess.run(postfix, ["-c", configDirectory.path, "stop"])
    }

    private func stopBlocking() {
        guard markStopped(), let postfix = Self.program("postfix") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: postfix)
        process.arguments = ["-c", configDirectory.path, "stop"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    /// Returns whether it was running, and marks it stopped (the watchdog sees the marker go).
    @discardableResult
    private func markStopped() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let was = running
        running = false
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("running"))
        return was
    }

    /// A detached shell that stops this Postfix when the test process is gone (a crash, a kill), so no
    /// master outlives the tests; it exits by itself once `stop()` removed the `running` marker.
    private func startWatchdog(postfix: String) {
        let marker = folder.appendingPathComponent("running")
        FileManager.default.createFile(atPath: marker.path, contents: Data())
        let script = """
            while kill -0 \(getpid()) 2>/dev/null && [ -e "$1" ]; do sleep 1; done
            [ -e "$1" ] && "$2" -c "$3" stop >/dev/null 2>&1
            exit 0
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", script, "watchdog", marker.path, postfix, configDirectory.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }

    static func relativeHome(of address: String) -> String {
        let parts = address.lowercased().split(separator: "@", maxSplits: 1)
        guard parts.count == 2 else { return "unknown/\(address)" }
        return "\(parts[1])/\(parts[0])"
    }

    /// The machine's master.cf with every service out of the chroot, `smtp inet` on 127.0.0.1:`port` and every
    /// other network service (submission, smtps, … where the machine has them) left out, with its `-o` lines.
    static func privateMaster(_ master: String, port: Int) -> String {
        var kept: [String] = []
        var skipping = false
        for line in master.components(separatedBy: "\n") {
            guard let first = line.first, !first.isWhitespace, first != "#" else {
                // A continuation line belongs to the service above it.
                if !(skipping && line.first?.isWhitespace == true) { kept.append(line) }
                continue
            }
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            skipping = false
            guard fields.count >= 8 else {
                kept.append(line)
                continue
            }
            if fields[1] == "inet" {
                guard fields[0] == "smtp" else {
                    skipping = true
                    continue
                }
                fields[0] = "127.0.0.1:\(port)"
            }
            fields[4] = "n"
            kept.append(fields.joined(separator: " "))
        }
        return kept.joined(separator: "\n")
    }

    static func program(_ name: String) -> String? {
        ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/sbin"].map { "\($0)/\(name)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupFailure(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SetupFailure(message: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
