/// Something wrong in a file the editor wrote, said so that the editor can fix it.
///
/// Printed the way compilers print, so editors and terminals can jump to it:
/// `Editions/2017-11-18/edition.yaml:14:9: error: 'kind' must be article, podcast or video, not 'vidoe'`.
public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// What is wrong, in one sentence.
    public var message: String
    /// What to do about it, when there is more to say than the message.
    public var fix: String?

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        var text = "\(location): error: \(message)"
        if let fix { text += "\n  fix: \(fix)" }
        return text
    }
}

/// Every problem found in one file, reported together so the editor fixes them in one pass.
public struct Problems: Error, Equatable, Sendable, CustomStringConvertible {
    public var all: [Problem]

    public init(_ all: [Problem]) {
        self.all = all
    }

    public var description: String {
        all.map(\.description).joined(separator: "\n")
    }
}
