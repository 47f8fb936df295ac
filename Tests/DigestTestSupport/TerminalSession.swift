import Foundation

/// A real terminal for the tests: a tmux server of the test's own (a private socket, `tmux -L NAME`)
/// running an interactive bash in a pseudo-terminal of a fixed size. Unlike a pipe, or `script`, it has
/// job control: the shell gives each command a process group and the terminal to it, so a child that
/// touches the terminal from the wrong group is stopped, as in an editor's terminal.
///
/// Every wait polls the screen (`capture-pane`) until a deadline; `stop()` kills this server only.
public final class TerminalSession: @unchecked Sendable {
    public let socket: String
    /// The shell's prompt as the screen shows it (`capture-pane` drops the space PS1 ends with).
    public static let prompt = "digest-test$"
    private let tmux: String
    private var stopped = false

    /// Starts `bash -i` (no profile or rc files, prompt `TerminalSession.prompt`) at `columns`×`rows` in
    /// `directory`, with the test's PATH and HOME plus `environment`; returns once the prompt shows.
    public init(
        columns: Int = 80, rows: Int = 30, directory: URL, environment: [String: String] = [:],
        deadline: Duration = .seconds(60)
    ) async throws {
        guard let tmux = Self.tmux else {
            throw SetupFailure(message: "tmux is missing: .ci/install-deps test installs it")
        }
        self.tmux = tmux
        socket = "digest-test-\(UUID().uuidString.prefix(12))"
        let inherited = ProcessInfo.processInfo.environment
        var variables = [
            "PATH": inherited["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", "HOME": inherited["HOME"] ?? "/tmp",
            "TERM": "screen", "LANG": "C.UTF-8", "PS1": Self.prompt + " ",
        ]
        variables.merge(environment) { $1 }
        let command =
            ["env", "-i"] + variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            + ["bash", "--norc", "--noprofile", "-i"]
        // The server (and so the shell) would inherit this test process's signal mask and ignored signals:
        // its threads block most signals, and a shell with SIGCHLD, SIGTTOU and SIGTERM blocked has no real
        // job control (the pager bug this exists for would not even show). The server starts from a clean
        // slate, with its standard streams away from the test's pipes (it outlives its starting client).
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket).log")
        let started = try await Subprocess.run(
            Subprocess.python,
            [
                "-c", Self.cleanStart, log.path, tmux, "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x",
                "\(columns)", "-y", "\(rows)", "-c", directory.path,
            ] + command)
        guard started.status == 0 else {
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw SetupFailure(message: "tmux did not start (status \(started.status)): \(errors)\(started.stderr)")
        }
        try? FileManager.default.removeItem(at: log)
        _ = try await waitFor("the shell's prompt", deadline: deadline) { $0.contains(Self.prompt) }
    }

    deinit {
        if !stopped { Self.kill(tmux: tmux, socket: socket) }
    }

    /// Kills this test's tmux server (and the shell and anything still running in it).
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        _ = try? await Subprocess.run(tmux, ["-L", socket, "kill-server"])
    }

    /// Types `text` and presses Enter.
    public func type(_ text: String) async throws {
        try await tmuxCommand(["send-keys", "-t", "0", "-l", text])
        try await tmuxCommand(["send-keys", "-t", "0", "Enter"])
    }

    /// Presses keys by tmux's names (`q`, `Space`, `C-c`).
    public func press(_ keys: String...) async throws {
        try await tmuxCommand(["send-keys", "-t", "0"] + keys)
    }

    /// The visible screen, one line per row, trailing blanks trimmed.
    public func screen() async throws -> String {
        let result = try await Subprocess.run(tmux, ["-L", socket, "capture-pane", "-p", "-t", "0"])
        guard result.status == 0 else { throw SetupFailure(message: "tmux capture-pane failed: \(result.stderr)") }
        return result.stdout
    }

    /// Polls the screen until `condition` holds and returns it; throws with the last screen at the deadline.
    @discardableResult
    public func waitFor(
        _ what: String, deadline: Duration = .seconds(60), _ condition: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        var last = ""
        while true {
            last = try await screen()
            if condition(last) { return last }
            if clock.now >= end { break }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw SetupFailure(message: "waited \(deadline) for \(what); the screen shows:\n\(last)")
    }

    /// Types `echo` of the last command's exit status and returns it, once the shell prints it.
    public func lastExitStatus(deadline: Duration = .seconds(60)) async throws -> Int? {
        let marker = "exit-status="
        try await type("echo \(marker)$?")
        let screen = try await waitFor("the shell to print the exit status", deadline: deadline) { screen in
            screen.split(separator: "\n").contains { $0.hasPrefix(marker) }
        }
        let line = screen.split(separator: "\n").last { $0.hasPrefix(marker) }
        return line.flatMap { Int($0.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)) }
    }

    private func tmuxCommand(_ arguments: [String]) async throws {
        let result = try await Subprocess.run(tmux, ["-L", socket] + arguments)
        guard result.status == 0 else {
            throw SetupFailure(message: "tmux \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }

    private static func kill(tmux: String, socket: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tmux)
        process.arguments = ["-L", socket, "kill-server"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }

    /// Execs argv[2...] with no blocked signals, default dispositions, standard input and output on
    /// /dev/null, standard error into the file argv[1], and no other open files.
    static let cleanStart = """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for number in range(1, signal.NSIG):
            if number in (signal.SIGKILL, signal.SIGSTOP):
                continue
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        os.closerange(3, 4096)
        os.execv(sys.argv[2], sys.argv[2:])
        """

    /// `tmux` from PATH, if installed.
    public static var tmux: String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/tmux"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
