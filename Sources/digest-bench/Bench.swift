import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// `swift run -c release digest-bench`: performance figures measured side by side with the tools an
/// editor would otherwise use, in the same run. Never part of the test command.
///
///     digest-bench                       every case, full size
///     digest-bench --quick               every case, small sizes and 3 rounds (a smoke run)
///     digest-bench --cases=build,sign    some cases: build, sign, send, pgsend, scale, gather, bounces, serve
///     --runs=N --readers=N --messages=N --scale=N --items=N   sizes and rounds
@main
struct Bench {
    struct Options {
        var runs = 5
        var readers = 20_000
        var signed = 2_000
        var messages = 20_000
        var scale = 1_000_000
        var items = 5_000
        var cases: Set<String> = ["build", "sign", "send", "pgsend", "scale", "gather", "bounces", "serve"]

        init(_ arguments: [String]) throws {
            func value(_ name: String) -> Int? {
                arguments.first { $0.hasPrefix("--\(name)=") }.flatMap { Int($0.dropFirst(name.count + 3)) }
            }
            if arguments.contains("--quick") {
                runs = 3
                readers = 2_000
                signed = 300
                messages = 2_000
                scale = 50_000
                items = 1_000
            }
            runs = value("runs") ?? runs
            readers = value("readers") ?? readers
            signed = value("signed") ?? signed
            messages = value("messages") ?? messages
            scale = value("scale") ?? scale
            items = value("items") ?? items
            if let list = arguments.first(where: { $0.hasPrefix("--cases=") }) {
                cases = Set(list.dropFirst(8).split(separator: ",").map(String.init))
            }
            if arguments.contains("--skip-send") { cases.subtract(["send", "pgsend"]) }
            let unknown = cases.subtracting(["build", "sign", "send", "pgsend", "scale", "gather", "bounces", "serve"])
            guard unknown.isEmpty else {
                throw BenchError(
                    message:
                        "unknown case \(unknown.sorted().joined(separator: ", ")); the cases are build, sign, send, pgsend, scale, gather, bounces, serve"
                )
            }
        }
    }

    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let store = arguments.first(where: { $0.hasPrefix("--scale-child=") }) {
            try ScaleCase.child(storePath: String(store.dropFirst(14)))
            return
        }
        let options = try Options(arguments)
        if let rounds = arguments.first(where: { $0.hasPrefix("--profile-gather=") }) {
            // For a profiler: digest's side of the gather case alone, the given number of times.
            try FeedCase.profile(items: options.items, rounds: Int(rounds.dropFirst(17)) ?? 10)
            return
        }
        print("digest-bench: medians of \(options.runs) rounds; each baseline is measured in the same run, interleaved")
        let table = Table()
        if options.cases.contains("build") { try MessageCases.build(options, table) }
        if options.cases.contains("sign") { try MessageCases.sign(options, table) }
        if options.cases.contains("send") { try SendCase.run(options, table) }
        if options.cases.contains("pgsend") { try PostgresSendCase.run(options, table) }
        if options.cases.contains("scale") { try ScaleCase.run(options, table) }
        if options.cases.contains("gather") { try FeedCase.run(options, table) }
        if options.cases.contains("bounces") { try BounceCase.run(options, table) }
        if options.cases.contains("serve") { try ServeCase.run(options, table) }
        print("")
        table.print()
    }

    struct BenchError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// The summary table every case adds rows to.
final class Table {
    struct Row {
        var name: String
        var figure: String
        var ours: String
        var baseline: String
        var ratio: String
        var target: String
        var met: Bool?
    }
    var rows: [Row] = []

    func add(_ name: String, figure: String, ours: String, baseline: String, ratio: String, target: String, met: Bool?)
    {
        rows.append(
            Row(name: name, figure: figure, ours: ours, baseline: baseline, ratio: ratio, target: target, met: met))
    }

    func print() {
        let header = Row(
            name: "case", figure: "figure", ours: "digest (median)", baseline: "baseline (same run)", ratio: "ratio",
            target: "target", met: nil)
        let all = [header] + rows
        func width(_ key: KeyPath<Row, String>) -> Int { all.map { $0[keyPath: key].count }.max() ?? 0 }
        let widths = [
            width(\.name), width(\.figure), width(\.ours), width(\.baseline), width(\.ratio), width(\.target),
        ]
        for (index, row) in all.enumerated() {
            let cells = [row.name, row.figure, row.ours, row.baseline, row.ratio, row.target]
            var line = zip(cells, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(
                separator: "  ")
            if index > 0 { line += row.met.map { $0 ? "  met" : "  NOT MET" } ?? "" }
            Swift.print(line)
            if index == 0 { Swift.print(String(repeating: "-", count: line.count + 9)) }
        }
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double) -> String {
    if value >= 100 { return String(format: "%.0f", value) }
    if value >= 10 { return String(format: "%.1f", value) }
    return String(format: "%.2f", value)
}

/// Seconds since an arbitrary start, from the monotonic clock.
func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Installs Python packages the baselines need when they are missing.
func ensurePython(_ modules: [String: String]) throws {
    for (module, package) in modules.sorted(by: { $0.key < $1.key }) {
        try runProgram(
            "/bin/sh",
            [
                "-c",
                "python3 -c 'import \(module)' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check \(package) || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \(package)",
            ])
    }
}

/// A Python process kept running for a baseline: each `round()` asks it for one measurement (it prints
/// one number per line it reads), so the rounds can interleave with digest's.
final class PythonWorker {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var pending = Data()

    init(script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    func round(_ request: String = "go") throws -> Double {
        input.fileHandleForWriting.write(Data("\(request)\n".utf8))
        while !pending.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            pending += chunk
        }
        guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else {
            throw Bench.BenchError(message: "the Python baseline stopped")
        }
        let line = String(decoding: pending[..<newline], as: UTF8.self)
        pending = Data(pending[(newline + 1)...])
        guard let value = Double(line.trimmingCharacters(in: .whitespaces)) else {
            throw Bench.BenchError(message: "the Python baseline printed '\(line)'")
        }
        return value
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Starts smtp-sink on a free loopback port and returns once it accepts connections (a fixed pause was not
/// always enough on a loaded machine: the first send found nothing listening and the bench stopped).
func startSink() throws -> (process: Process, port: Int) {
    for _ in 0..<5 {
        let port = Int.random(in: 20_000...40_000)
        let sink = try start("/usr/sbin/smtp-sink", ["-u", "nobody", "127.0.0.1:\(port)", "1000"])
        for _ in 0..<200 {
            if accepts(port: port) { return (sink, port) }
            guard sink.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        sink.terminate()
        sink.waitUntilExit()
    }
    throw Bench.BenchError(message: "smtp-sink did not start listening on loopback")
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
func accepts(port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { Glibc.close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// Starts a program in the background.
func start(_ executable: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

@discardableResult
func runProgram(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw Bench.BenchError(message: "\(executable) \(arguments.first ?? "") failed")
    }
    return String(decoding: output, as: UTF8.self)
}

/// A scratch folder for one case, removed at the end.
func scratchFolder(_ name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("digest-bench-\(getpid())-\(name)")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
