import DigestCore
import DigestStore
import Foundation

/// `digest subscribers import`: a service's export read with its statuses, then imported in one
/// transaction. A file whose status cannot be told is refused (a `Problem` naming the file and the fix)
/// unless `status` is given.
public enum SubscriberImport {
    public struct Report: Sendable {
        public var service: ExportService
        /// Where the readers' status came from.
        public var statusFrom: String
        public var rejected: [SubscriberCSV.Rejection]
        /// Addresses in the file that differ only in case from one earlier in it.
        public var caseVariantsInFile: [SubscriberCSV.CaseVariant]
        public var duplicates: Int
        /// Added, updated, unchanged, and new addresses that differ only in case from one on the list.
        public var counts: ImportCounts
    }

    public static func run(
        file: String, status: Subscriber.Status?, workspace explicit: String?, environment: DigestEnvironment
    ) throws -> Report {
        let workspace = try environment.workspace(explicit)
        let url = environment.path(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw WorkflowError("cannot read \(file)")
        }
        let parsed: SubscriberCSV.Result
        do {
            parsed = try SubscriberCSV.parse(data, fileName: url.lastPathComponent, status: status)
        } catch {
            throw Problem(file: file, message: "\(error)")
        }
        let store = try environment.openStore(workspace)
        let counts = try store.importRows(
            parsed.rows, source: "import:\(url.lastPathComponent)", service: parsed.service.rawValue,
            now: environment.now())
        return Report(
            service: parsed.service, statusFrom: parsed.statusFrom, rejected: parsed.rejected,
            caseVariantsInFile: parsed.caseVariants, duplicates: parsed.duplicates, counts: counts)
    }
}
