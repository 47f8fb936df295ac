import DigestCore
import Foundation

/// A real IMAP and POP3 server: a private Dovecot instance (Debian's `dovecot-imapd` and `dovecot-pop3d`) on free
/// loopback ports, over TLS only (IMAPS and POP3S) with a certificate of a test CA made with openssl, its users
/// in a passwd-file and their mail in Maildirs, everything in one temporary folder. Needs root (Dovecot's
/// master process switches to each user's uid); the mail users are `nobody`.
///
/// ```swift
/// let dovecot = try await DovecotTestServer.start()
/// let maildir = try dovecot.addUser("bounces", password: "s3cret")   // a user and its Maildir, at any time
/// try dovecot.deliver(Data(message.utf8), to: "bounces")              // as an MTA would: tmp/ then new/
/// // imaps://bounces@127.0.0.1:\(dovecot.imapsPort)/INBOX with DIGEST_BOUNCE_CA_FILE=dovecot.caFile
/// let left = try dovecot.messages(of: "bounces")                      // INBOX's files; folder: "Processed"
/// await dovecot.stop()
/// ```
///
/// An MTA can deliver into `maildir(of:)` (Postfix's `virtual_mailbox_base`, owned by `mailUID`/`mailGID`) or
/// through Dovecot's LDA: `/usr/lib/dovecot/dovecot-lda -c <configFile> -d <user>` with the message on stdin.
public final class DovecotTestServer: @unchecked Sendable {
    /// The instance's folder: `dovecot.conf`, `users`, the certificates, `run/`, `state/`, `dovecot.log`, `home/`.
    public let folder: URL
    public let imapsPort: Int
    public let pop3sPort: Int
    /// The test CA's certificate (PEM): what a client must trust (`DIGEST_BOUNCE_CA_FILE`, `curl --cacert`).
    public let caFile: String
    /// The instance's configuration, for `dovecot-lda -c` and `doveconf -c`.
    public let configFile: String
    /// The uid and gid that own the Maildirs (`nobody`/`nogroup`).
    public let mailUID: UInt32 = 65534
    public let mailGID: UInt32 = 65534
    private let lock = NSLock()
    private var stopped = false
    private var counter = 0

    private init(folder: URL, imapsPort: Int, pop3sPort: Int) {
        self.folder = folder
        self.imapsPort = imapsPort
        self.pop3sPort = pop3sPort
        caFile = folder.appendingPathComponent("ca.pem").path
        configFile = folder.appendingPathComponent("dovecot.conf").path
    }

    deinit {
        // A test that forgot `stop()`: end the master without waiting (it takes its children with it).
        if !stopped, let pid = masterPID { kill(pid, SIGTERM) }
    }

    /// Starts an instance with `users` (name and password) and empty Maildirs. Throws when Dovecot is not
    /// installed, when not root, or when it does not listen within ten seconds.
    public static func start(users: [(name: String, password: String)] = []) async throws -> DovecotTestServer {
        let dovecot = "/usr/sbin/dovecot"
        guard FileManager.default.isExecutableFile(atPath: dovecot) else {
            throw SetupFailure(message: "Dovecot is not installed: run .ci/install-deps test (dovecot-imapd, dovecot-pop3d)")
        }
        guard getuid() == 0 else { throw SetupFailure(message: "the Dovecot test server needs root") }
        // Short: Dovecot's UNIX sockets live under run/, and a socket path holds at most 107 bytes.
        let folder = URL(fileURLWithPath: "/tmp/dovecot-\(UUID().uuidString.prefix(8))")
        for sub in ["run", "state", "home"] {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try await makeCertificates(in: folder)
        var lastProblem = ""
        // The free ports are found by binding port 0 and closing: another process may take one meanwhile.
        for _ in 0..<3 {
            let server = DovecotTestServer(folder: folder, imapsPort: try freePort(), pop3sPort: try freePort())
            try Data().write(to: server.usersFile)
            for user in users { try server.addUser(user.name, password: user.password) }
            try server.writeConfiguration()
            let status = try await server.launch(dovecot)
            if status == 0, await server.waitUntilListening() { return server }
            lastProblem = server.startErrors() + server.log()
            await server.stopMaster()
        }
        throw SetupFailure(message: "Dovecot did not start: \(lastProblem)")
    }

    private var usersFile: URL { folder.appendingPathComponent("users") }

    /// Runs `dovecot -c FILE`, which forks its master into the background and returns. Through Python, to start
    /// it with no signal blocked: a child of the test process inherits the blocked signals of the thread that
    /// spawned it, and a master with SIGTERM blocked would never stop; and with no descriptor of the test process
    /// but standard input, output (nowhere) and error (a file): the daemon keeps what it inherits open, and
    /// Foundation would wait for it to close before it sees `dovecot` return.
    private func launch(_ dovecot: String) async throws -> Int32 {
        let errors = folder.appendingPathComponent("start-errors.txt")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Subprocess.python)
        process.arguments = [
            "-c",
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                + "signal.signal(signal.SIGPIPE, signal.SIG_DFL); os.closerange(3, 65536); "
                + "os.execv(sys.argv[1], sys.argv[1:])",
            dovecot, "-c", configFile,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        return try await offThePool {
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    private func startErrors() -> String {
        (try? String(contentsOf: folder.appendingPathComponent("start-errors.txt"), encoding: .utf8)) ?? ""
    }

    /// Adds a mail user (or changes its password) and makes its Maildir; returns the Maildir. Dovecot reads the
    /// passwd-file again when it changes, so this works while the server runs.
    @discardableResult
    public func addUser(_ name: String, password: String) throws -> URL {
        precondition(!name.contains(":") && !password.contains(":") && !password.contains("\n"))
        lock.lock()
        defer { lock.unlock() }
        let home = folder.appendingPathComponent("home/\(name)")
        let maildir = home.appendingPathComponent("Maildir")
        for sub in ["cur", "new", "tmp"] {
            try FileManager.default.createDirectory(
                at: maildir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for path in [home, maildir] + ["cur", "new", "tmp"].map({ maildir.appendingPathComponent($0) }) {
            try own(path)
        }
        var lines = (try? String(contentsOf: usersFile, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        lines.removeAll { $0.hasPrefix(name + ":") }
        lines.append("\(name):{PLAIN}\(password):\(mailUID):\(mailGID)::\(home.path)::")
        try (lines.joined(separator: "\n") + "\n").write(to: usersFile, atomically: true, encoding: .utf8)
        return maildir
    }

    /// The Maildir of `user` (INBOX), or of one of its folders (Maildir++: `.Processed`).
    public func maildir(of user: String, folder name: String? = nil) -> URL {
        let maildir = folder.appendingPathComponent("home/\(user)/Maildir")
        guard let name else { return maildir }
        return maildir.appendingPathComponent("." + name)
    }

    /// Puts one message into the INBOX of `user`, as an MTA delivers: written to `tmp/`, renamed into `new/`.
    @discardableResult
    public func deliver(_ message: Data, to user: String) throws -> URL {
        lock.lock()
        counter += 1
        let name = "\(Int(Date().timeIntervalSince1970)).M\(counter)P\(getpid()).digest-test"
        lock.unlock()
        let maildir = maildir(of: user)
        let temporary = maildir.appendingPathComponent("tmp/\(name)")
        let final = maildir.appendingPathComponent("new/\(name)")
        try message.write(to: temporary)
        try own(temporary)
        try FileManager.default.moveItem(at: temporary, to: final)
        return final
    }

    /// The messages in the INBOX of `user` (or in a folder of it), `new/` and `cur/`: the files, by name.
    public func messages(of user: String, folder name: String? = nil) throws -> [URL] {
        let maildir = maildir(of: user, folder: name)
        var files: [URL] = []
        for sub in ["new", "cur"] {
            let directory = maildir.appendingPathComponent(sub)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
            files += names.map { directory.appendingPathComponent($0) }
        }
        return files.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// `imaps://user@127.0.0.1:PORT/INBOX`
    public func imapsURL(user: String, mailbox: String = "INBOX") -> String {
        "imaps://\(user)@127.0.0.1:\(imapsPort)/\(mailbox)"
    }

    /// `pop3s://user@127.0.0.1:PORT`
    public func pop3sURL(user: String) -> String { "pop3s://\(user)@127.0.0.1:\(pop3sPort)" }

    /// Dovecot's log so far, for a failing test's message.
    public func log() -> String {
        (try? String(contentsOf: folder.appendingPathComponent("dovecot.log"), encoding: .utf8)) ?? ""
    }

    private var masterPID: pid_t? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("run/master.pid"), encoding: .utf8)
        else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Stops the instance (SIGTERM to the master named in run/master.pid) and waits until it has removed the
    /// pid file, at most ten seconds; then SIGKILL. The folder is removed.
    public func stop() async {
        await stopMaster()
        try? FileManager.default.removeItem(at: folder)
    }

    private func stopMaster() async {
        guard markStopped(), let pid = masterPID else { return }
        kill(pid, SIGTERM)
        for _ in 0..<200 where masterPID != nil {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if masterPID != nil {
            kill(pid, SIGKILL)
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("run/master.pid"))
        }
    }

    /// Marks the instance stopped; false when it was already.
    private func markStopped() -> Bool {
        lock.withLock {
            defer { stopped = true }
            return !stopped
        }
    }

    private func own(_ url: URL) throws {
        try FileManager.default.setAttributes(
            [.ownerAccountID: NSNumber(value: mailUID), .groupOwnerAccountID: NSNumber(value: mailGID)],
            ofItemAtPath: url.path)
    }

    private func writeConfiguration() throws {
        let path = folder.path
        let configuration = """
            # A private Dovecot instance for digest's tests (Tests/DigestTestSupport/DovecotTestServer.swift).
            base_dir = \(path)/run
            state_dir = \(path)/state
            log_path = \(path)/dovecot.log
            instance_name = digest-test-\(folder.lastPathComponent)
            protocols = imap pop3
            listen = 127.0.0.1
            ssl = required
            ssl_cert = <\(path)/leaf.pem
            ssl_key = <\(path)/leaf.key
            disable_plaintext_auth = yes
            auth_mechanisms = plain login
            mail_location = maildir:~/Maildir
            first_valid_uid = 1
            first_valid_gid = 1
            postmaster_address = postmaster@127.0.0.1
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(path)/users
            }
            userdb {
              driver = passwd-file
              args = username_format=%u \(path)/users
            }
            service imap-login {
              inet_listener imap {
                port = 0
              }
              inet_listener imaps {
                port = \(imapsPort)
                ssl = yes
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = 0
              }
              inet_listener pop3s {
                port = \(pop3sPort)
                ssl = yes
              }
            }

            """
        try configuration.write(toFile: configFile, atomically: true, encoding: .utf8)
    }

    /// A CA (`ca.pem`) and a leaf certificate for 127.0.0.1 and localhost signed by it (`leaf.pem`, `leaf.key`).
    private static func makeCertificates(in folder: URL) async throws {
        let ca = try await TestCertificateAuthority.make(in: folder)
        _ = try await ca.issue(in: folder, subjectAltName: "IP:127.0.0.1,DNS:localhost")
    }

    /// Waits (off the cooperative pool's threads: sleeps between tries) until both TLS ports accept connections.
    private func waitUntilListening() async -> Bool {
        for _ in 0..<200 {
            if Self.accepts(imapsPort) && Self.accepts(pop3sPort) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A loopback port nobody listens on now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupFailure(message: "no socket") }
        defer { close(fd) }
        var address = loopback(0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound else { throw SetupFailure(message: "cannot bind a loopback port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
