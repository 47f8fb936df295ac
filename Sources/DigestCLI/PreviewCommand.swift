import ArgumentParser
import DigestCore
import DigestHTML
import DigestWorkflow
import Foundation

struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show an edition in the terminal as a reader of the text email will see it.",
        discussion: """
            Styled (bold headings, dim metadata, clickable [n] links) on a terminal, fitted to its width and
            paged through $PAGER when longer than the screen; plain when piped or when NO_COLOR is set.
            --html shows the HTML part as a text browser would (structure, links, image alt texts); --open
            writes the HTML part to .digest-cache/preview/digest-DATE.html in the workspace (one file per
            edition, replaced each time) and opens it in the desktop browser.
            """
    )

    enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, always, never
    }

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @Option(help: "Columns to fit the text to. Default: the terminal's width (72 when not a terminal).")
    var width: Int?

    @Option(help: "Style the output: auto (on a terminal without NO_COLOR), always or never.")
    var color: ColorChoice = .auto

    @Flag(help: "Print everything at once instead of paging.")
    var noPager = false

    @Flag(help: "Show the HTML part as a text browser would: its structure, links and image alt texts.")
    var html = false

    @Flag(help: "Write the HTML part to .digest-cache/preview/ and open it in the desktop browser.")
    var open = false

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if let width, !(20...400).contains(width) { throw ValidationError("--width must be between 20 and 400") }
        if html && open { throw ValidationError("--html and --open show the HTML part two ways: choose one") }
    }

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
        if let warning = loaded.clippingWarning { Console.error(warning) }
        if open {
            try Browser.open(
                html: loaded.rendered.html, date: loaded.edition.date, workspace: loaded.workspace,
                variables: environment.variables)
            return
        }
        let isTTY = Terminal.isTTY
        let size = Terminal.size(variables: environment.variables)
        let styled: Bool
        switch color {
        case .always: styled = true
        case .never: styled = false
        case .auto:
            styled =
                isTTY && (environment.variables["NO_COLOR"] ?? "").isEmpty && environment.variables["TERM"] != "dumb"
        }
        let columns = width ?? (isTTY ? min(size.columns, 100) : 72)
        let painter = TextPainter(color: styled, hyperlinks: styled && environment.variables["TERM"] != "linux")
        let text =
            html
            ? HTMLTextBrowser.browse(loaded.rendered.html).text(width: columns, painter: painter)
            : loaded.rendered.text(width: columns, painter: painter)
        let lineCount = text.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
        if isTTY && !noPager && lineCount >= size.rows && Terminal.page(text, variables: environment.variables) {
            return
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// The desktop's web browser, for `digest preview --open`.
enum Browser {
    /// Writes `html` to the workspace's preview cache and asks the desktop to open it; says what to do when
    /// it cannot. The browser reads the file after the opener returns, so it cannot be removed at the end:
    /// it is kept in one place, one file per edition replaced on each run, instead of a new temporary
    /// folder per run.
    static func open(html: String, date: EditionDate, workspace: Workspace, variables: [String: String]) throws {
        let folder = workspace.root.appendingPathComponent(".digest-cache/preview")
        let file = folder.appendingPathComponent("digest-\(date).html")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(html.utf8).write(to: file, options: .atomic)
        } catch {
            throw CommandFailure(message: "cannot write \(file.path): \(error.localizedDescription)")
        }
        Console.out("wrote \(file.path)")
        #if os(macOS)
            let openers = ["/usr/bin/open"]
        #else
            let hasDesktop = !(variables["DISPLAY"] ?? "").isEmpty || !(variables["WAYLAND_DISPLAY"] ?? "").isEmpty
            guard hasDesktop else {
                Console.out(
                    "no desktop session here (neither DISPLAY nor WAYLAND_DISPLAY is set): open \(file.absoluteString) in a browser yourself, or use digest preview --html"
                )
                return
            }
            let openers = ["xdg-open", "sensible-browser", "x-www-browser"].compactMap {
                executable($0, path: variables["PATH"])
            }
        #endif
        guard let opener = openers.first else {
            Console.out(
                "found no xdg-open, sensible-browser or x-www-browser: open \(file.absoluteString) in a browser yourself"
            )
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [file.path]
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            Console.out("\(opener) did not start (\(error.localizedDescription)): open \(file.absoluteString) yourself")
            return
        }
        if process.terminationStatus != 0 {
            Console.out(
                "\(opener) failed (exit status \(process.terminationStatus)): open \(file.absoluteString) yourself")
        }
    }

    /// The full path of `name` in `path` (the PATH variable), if it is there and executable.
    static func executable(_ name: String, path: String?) -> String? {
        for folder in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
