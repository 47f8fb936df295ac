import ArgumentParser
import DigestCore
import Foundation

struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show an edition in the terminal as a reader of the text email will see it.",
        discussion: """
            Styled (bold headings, dim metadata, clickable [n] links) on a terminal, fitted to its width and
            paged through $PAGER when longer than the screen; plain when piped or when NO_COLOR is set.
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

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if let width, !(20...400).contains(width) { throw ValidationError("--width must be between 20 and 400") }
    }

    func run() async throws {
        let environment = Live.environment
        let loaded = try LoadedEdition(workspace: options.workspace, date: date, environment: environment)
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
        let text = loaded.rendered.text(width: columns, painter: painter)
        let lineCount = text.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
        if isTTY && !noPager && lineCount >= size.rows && Terminal.page(text, variables: environment.variables) {
            return
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
