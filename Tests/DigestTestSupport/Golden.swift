import Foundation
import Testing

/// Golden files: expected output kept beside the tests. `DIGEST_RECORD_GOLDEN=1 swift test` rewrites
/// them on purpose; otherwise a difference fails the test and shows the first differing line.
public enum Golden {
    public static var recording: Bool { ProcessInfo.processInfo.environment["DIGEST_RECORD_GOLDEN"] == "1" }

    public static func check(
        _ actual: String, file name: String, folder: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try check(Data(actual.utf8), file: name, folder: folder, sourceLocation: sourceLocation)
    }

    public static func check(
        _ actual: Data, file name: String, folder: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let url = folder.appendingPathComponent(name)
        if recording {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try actual.write(to: url)
            return
        }
        guard let expected = FileManager.default.contents(atPath: url.path) else {
            Issue.record(
                "golden file \(url.path) is missing; record it with DIGEST_RECORD_GOLDEN=1",
                sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let expectedLines = String(decoding: expected, as: UTF8.self).components(separatedBy: "\n")
            let actualLines = String(decoding: actual, as: UTF8.self).components(separatedBy: "\n")
            let index =
                zip(expectedLines, actualLines).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset
                ?? min(expectedLines.count, actualLines.count)
            let want = index < expectedLines.count ? expectedLines[index] : "(end of file)"
            let got = index < actualLines.count ? actualLines[index] : "(end of file)"
            Issue.record(
                "\(name) differs from its golden file at line \(index + 1):\n  expected: \(want.debugDescription)\n  actual:   \(got.debugDescription)\nRe-record with DIGEST_RECORD_GOLDEN=1 only if the change is intended.",
                sourceLocation: sourceLocation)
        }
    }
}
