import Foundation

/// The findings as the editor reads them: grouped by domain, one line each, the record to publish
/// indented under it, and a last line saying "ready" or how many records to publish.
public struct DNSReport: Sendable {
    public var findings: [DNSFinding]

    public init(_ findings: [DNSFinding]) {
        self.findings = findings
    }

    public var errors: [DNSFinding] { findings.filter { $0.severity == .error } }

    /// Ready to send: no error.
    public var isReady: Bool { errors.isEmpty }

    /// Distinct records the errors ask for.
    public var recordsToPublish: [RecordToPublish] {
        var seen: [RecordToPublish] = []
        for finding in errors {
            if let record = finding.record, !seen.contains(record) { seen.append(record) }
        }
        return seen
    }

    /// Whether the only errors are lookups that did not answer.
    public var onlyLookupsFailed: Bool { !errors.isEmpty && errors.allSatisfy(\.lookupFailed) }

    public var summary: String {
        guard !isReady else {
            let warnings = findings.filter { $0.severity == .warning }.count
            return warnings == 0 ? "ready" : "ready (\(warnings) warning\(warnings == 1 ? "" : "s") above)"
        }
        let records = recordsToPublish.count
        let others = errors.filter { $0.record == nil }.count
        var parts: [String] = []
        if records > 0 { parts.append("\(records) record\(records == 1 ? "" : "s") to publish") }
        if others > 0 { parts.append("\(others) other problem\(others == 1 ? "" : "s") to fix") }
        return parts.joined(separator: ", ")
    }

    public var text: String {
        var domains: [String] = []
        for finding in findings where !domains.contains(finding.domain) { domains.append(finding.domain) }
        var lines: [String] = []
        for domain in domains {
            lines.append(domain)
            for finding in findings where finding.domain == domain {
                let label = finding.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
                var line = "  \(label) \(finding.check): \(finding.message)"
                if let why = finding.why, finding.severity != .ok { line += ". Why: \(why)" }
                lines.append(line)
                if let record = finding.record, finding.severity != .ok {
                    lines.append("      publish: \(record.zoneLine)")
                }
            }
        }
        lines.append(summary)
        return lines.joined(separator: "\n") + "\n"
    }

    struct JSONFinding: Encodable {
        var severity: DNSFinding.Severity
        var domain: String
        var check: String
        var message: String
        var why: String?
        var record: JSONRecord?
    }

    struct JSONRecord: Encodable {
        var name: String
        var type: String
        var value: String
        var zone: String
    }

    struct JSONReport: Encodable {
        var ready: Bool
        var summary: String
        var findings: [JSONFinding]
    }

    public var json: String {
        let report = JSONReport(
            ready: isReady, summary: summary,
            findings: findings.map {
                JSONFinding(
                    severity: $0.severity, domain: $0.domain, check: $0.check, message: $0.message, why: $0.why,
                    record: $0.record.map {
                        JSONRecord(name: $0.name, type: $0.type, value: $0.value, zone: $0.zoneLine)
                    }
                )
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
