import DigestCore
import DigestMail
import DigestWorkflow
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The terminal standard output is connected to, if any.
struct Terminal {
    static var isTTY: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Both standard input and output are a terminal: a person can be asked.
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    /// Columns and rows of the terminal, from the kernel, then `COLUMNS`/`LINES`, else 80×24.
    static func size(variables: [String: String]) -> (columns: Int, rows: Int) {
        var window = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0 {
            return (Int(window.ws_col), Int(window.ws_row))
        }
        return (Int(variables["COLUMNS"] ?? "") ?? 80, Int(variables["LINES"] ?? "") ?? 24)
    }

    /// Shows `text` through `$PAGER` (`less -R` when unset); false when no pager could start.
    ///
    /// The pager is started with `posix_spawn` in digest's own process group, which is the terminal's
    /// foreground group: a pager in a group of its own (as Foundation's `Process` starts children) is
    /// stopped by SIGTTOU/SIGTTIN the moment it touches the terminal, and the editor sees a blank screen.
    /// While it runs digest ignores Ctrl-C and Ctrl-\ (the pager handles them), and afterwards the
    /// terminal's settings are put back as they were.
    static func page(_ text: String, variables: [String: String]) -> Bool {
        let pager = variables["PAGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "less -R"
        var environment = variables
        if environment["LESS"] == nil { environment["LESS"] = "FRX" }

        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return false }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The pager gets the default disposition of the signals digest ignores meanwhile, and no blocked
        // signals; no POSIX_SPAWN_SETPGROUP, so it stays in the terminal's foreground group.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let words: [String] = ["/bin/sh", "-c", pager]
        let arguments = words.map { strdup($0) }
        let variables = environment.map { strdup("\($0.key)=\($0.value)") }
        defer { for pointer in arguments + variables { free(pointer) } }
        let argv = arguments + [nil]
        let envp = variables + [nil]

        var saved = termios()
        let hasSettings = tcgetattr(STDOUT_FILENO, &saved) == 0
        let previous = [SIGINT, SIGQUIT, SIGPIPE].map { ($0, signal($0, SIG_IGN)) }
        defer {
            for (number, handler) in previous { signal(number, handler) }
        }

        var child: pid_t = 0
        let spawned = posix_spawn(&child, "/bin/sh", &actions, &attributes, argv, envp)
        close(readEnd)
        guard spawned == 0 else {
            close(writeEnd)
            return false
        }
        // The pager reads as the editor scrolls; when they quit early the write fails with EPIPE, not
        // a signal, and digest stops writing.
        let bytes = Array(text.utf8)
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            while offset < buffer.count {
                let written = write(writeEnd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    break
                }
                offset += written
            }
        }
        close(writeEnd)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 {
            if errno != EINTR { return true }
        }
        if hasSettings { tcsetattr(STDOUT_FILENO, TCSADRAIN, &saved) }
        // The shell's "not found" or "cannot execute": no pager ran, so the text is printed instead.
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        return !(exited && (code == 127 || code == 126))
    }
}

/// Where commands write: results to standard output, diagnostics to standard error.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// `value` as pretty JSON, for scripts.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        out(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
