import DigestTestSupport
import Foundation
import Testing

/// `digest preview` and `make demo` in a real terminal: tmux at 80×30 running an interactive bash, read
/// from its screen. Pipes and `script` have no job control, so they never showed the pager stopped in a
/// process group of its own on a blank screen (issue 13).
@Suite("A real terminal", .serialized)
struct TerminalTests {
    /// Lines of the sample's first screen.
    static let firstScreen = ["EA WorldView", "Saturday 18 November 2017"]

    /// Types `command` (an interactive shell at 80×30, the repository as its folder), waits for the
    /// sample's first screen in the pager, presses q, and checks the shell is back with status 0 and the
    /// terminal's settings as they were.
    func pageTheSample(_ command: String, environment: [String: String] = [:]) async throws {
        let folder = try Repository.temporaryFolder("terminal")
        let terminal = try await TerminalSession(directory: Repository.root, environment: environment)
        do {
            try await terminal.type("stty -g > \(folder.path)/before")
            _ = try await terminal.lastExitStatus()
            try await terminal.type("clear")
            try await terminal.waitFor("the cleared screen") { !$0.contains("exit-status=") }
            let clock = ContinuousClock()
            let start = clock.now
            try await terminal.type(command)
            let screen = try await terminal.waitFor("the sample's first screen in the pager") { screen in
                Self.firstScreen.allSatisfy(screen.contains)
            }
            let shown = clock.now - start
            print("\(command): the first screen after \(shown)")
            // The pager holds the screen: its prompt is on the last line, the shell's is not there.
            #expect(!screen.contains(TerminalSession.prompt + " echo"))
            try await terminal.press("q")
            try await terminal.waitFor("the shell's prompt after q") { screen in
                screen.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?
                    .hasPrefix(TerminalSession.prompt) == true
            }
            #expect(try await terminal.lastExitStatus() == 0)
            try await terminal.type("stty -g > \(folder.path)/after")
            #expect(try await terminal.lastExitStatus() == 0)
            let before = try String(contentsOf: folder.appendingPathComponent("before"), encoding: .utf8)
            let after = try String(contentsOf: folder.appendingPathComponent("after"), encoding: .utf8)
            #expect(!before.isEmpty && before == after, "the terminal's settings changed")
        } catch {
            await terminal.stop()
            throw error
        }
        await terminal.stop()
    }

    @Test func previewPagesTheSampleAndQReturnsToTheShell() async throws {
        try await pageTheSample("\(DigestBinary.path) preview 2017-11-18")
    }

    @Test func previewThroughTheEditorsPagerSettingsOnTheAlternateScreen() async throws {
        try await pageTheSample("\(DigestBinary.path) preview 2017-11-18", environment: ["PAGER": "less", "LESS": "R"])
    }

    /// `make demo` as the README's quick start runs it, without its build step (`-o build`: the test runs
    /// after `swift build`, and a second SwiftPM build beside `swift test` would wait on its lock).
    @Test func makeDemoPagesTheSampleAndQReturnsToTheShell() async throws {
        try await pageTheSample("make -o build demo")
    }
}
