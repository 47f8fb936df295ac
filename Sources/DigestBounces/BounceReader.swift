import Foundation

/// Reads one message of the bounce mailbox: a DSN, a complaint, an MTA's own failure notice, an automatic
/// reply or anything else, and what it says about each recipient. Never throws, never traps on bad input.
///
/// Order: ARF complaints (RFC 5965) and Microsoft JMRP; RFC 3464 DSNs (multipart/report with
/// message/delivery-status); Amazon SES notifications (JSON); the non-standard failure notices (Postfix,
/// Exim, Sendmail, qmail, Yahoo, Gmail, Exchange, Office 365, Mimecast, Domino and others: X-Failed-Recipients
/// and the plain-text transcripts); automatic replies (RFC 3834 Auto-Submitted, X-Autoreply, Precedence:
/// auto_reply, the usual subjects). Failure notices are recognised before automatic replies because most MTAs
/// mark their bounces `Auto-Submitted: auto-replied` too.
public enum BounceReader {
    public static func inspect(_ bytes: [UInt8]) -> InspectedMessage { inspect(MIMEReader.parse(bytes)) }

    public static func inspect(_ text: String) -> InspectedMessage { inspect(Array(text.utf8)) }

    public static func inspect(_ root: MIMEEntity) -> InspectedMessage {
        let subject = TextScan.collapse(root.header("Subject") ?? "")
        let deliveredTo =
            [root.header("Delivered-To"), root.header("X-Original-To"), root.header("To")]
            .lazy.compactMap { $0.flatMap(TextScan.firstAddress) }.first ?? ""
        var message = InspectedMessage(
            kind: .notAReport, format: "none", reports: [], original: originalHeaders(root), deliveredTo: deliveredTo,
            subject: subject)
        if readARF(root, into: &message) || readJMRP(root, into: &message) || readDSN(root, into: &message)
            || readSESNotification(root, into: &message) || readFailureNotice(root, into: &message)
            || readAutoReply(root, into: &message)
        {
            return message
        }
        return message
    }

    // MARK: - The original message

    static let enclosedTypes: Set<String> = [
        "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
        "message/global-headers",
    ]

    static func originalHeaders(_ root: MIMEEntity) -> OriginalMessage {
        guard let enclosed = firstEnclosed(root), let inner = enclosed.children.first else { return OriginalMessage() }
        return original(from: inner)
    }

    static func firstEnclosed(_ entity: MIMEEntity) -> MIMEEntity? {
        for child in entity.children {
            if enclosedTypes.contains(child.contentType) { return child }
            if child.contentType.hasPrefix("multipart/"), let found = firstEnclosed(child) { return found }
        }
        return nil
    }

    static func original(from entity: MIMEEntity) -> OriginalMessage {
        OriginalMessage(
            returnPath: entity.header("Return-Path").flatMap(TextScan.firstAddress) ?? "",
            to: entity.header("To").flatMap(TextScan.firstAddress) ?? "",
            messageID: entity.header("Message-ID").map { TextScan.collapse($0) } ?? "")
    }

    // MARK: - Complaints

    static func readARF(_ root: MIMEEntity, into message: inout InspectedMessage) -> Bool {
        guard let feedback = root.first(ofType: "message/feedback-report") else { return false }
        let fields = MIMEReader.parseHeaders(feedback.body[...]).headers
        let report = MIMEEntity(headers: fields, body: [], children: [])
        let type = (report.header("Feedback-Type") ?? "abuse").trimmingWhitespace().lowercased()
        var recipients: [String] = []
        for name in ["Original-Rcpt-To", "Removal-Recipient"] {
            for value in report.headers(name) {
                if let address = TextScan.firstAddress(value), !recipients.contains(address) {
                    recipients.append(address)
                }
            }
        }
        if recipients.isEmpty && !message.original.to.isEmpty { recipients = [message.original.to] }
        if message.original.returnPath.isEmpty, let from = report.header("Original-Mail-From") {
            message.original.returnPath = TextScan.firstAddress(from) ?? ""
        }
        let bounceClass: BounceClass = type == "not-spam" ? .none : .complaint
        message.kind = .complaint
        message.format = "arf"
        message.reports = (recipients.isEmpty ? [""] : recipients).map {
            RecipientReport(
                recipient: $0, status: "", replyCode: "", diagnostic: type, bounceClass: bounceClass, reason: type)
        }
        return true
    }

    /// Microsoft's Junk Mail Reporting Program in its own format: the original message attached, the reader's
    /// address in its X-HmXmrOriginalRecipient field.
    static func readJMRP(_ root: MIMEEntity, into message: inout InspectedMessage) -> Bool {
        guard root.contentType.hasPrefix("multipart/") || root.contentType.hasPrefix("message/") else { return false }
        for entity in root.allEntities().dropFirst() {
            guard let value = entity.header("X-HmXmrOriginalRecipient") else { continue }
            let recipient = TextScan.firstAddress(value) ?? ""
            message.kind = .complaint
            message.format = "jmrp"
            message.reports = [
                RecipientReport(
                    recipient: recipient, status: "", replyCode: "", diagnostic: "abuse", bounceClass: .complaint,
                    reason: "abuse")
            ]
            if message.original.to.isEmpty { message.original.to = recipient }
            return true
        }
        return false
    }

    // MARK: - DSNs (RFC 3464)

    static func deliveryStatusPart(_ root: MIMEEntity) -> MIMEEntity? {
        if let part = root.first(ofType: "message/delivery-status")
            ?? root.first(ofType: "message/global-delivery-status")
        {
            return part
        }
        // Some servers label the status part text/plain inside a multipart/report of type delivery-status.
        guard let report = root.first(ofType: "multipart/report"),
            report.contentTypeParameter("report-type")?.lowercased().containsBytes("delivery-status") == true
        else { return nil }
        return report.children.dropFirst().first { part in
            part.contentType.hasPrefix("text/")
                && LowerText(part.body).containsAny(Phrases(["final-recipient:", "action:"]).list)
        }
    }

    /// The field groups of a delivery-status body: the per-message group, then one per recipient.
    static func fieldGroups(_ body: [UInt8]) -> [MIMEEntity] {
        var groups: [MIMEEntity] = []
        var start = 0
        while start < body.count {
            // Skip blank lines between groups.
            var lineEnd = start
            while lineEnd < body.count && body[lineEnd] != 0x0A { lineEnd += 1 }
            if TextScan.isBlank(body[start..<lineEnd]) {
                start = lineEnd + 1
                continue
            }
            let (headers, next) = MIMEReader.parseHeaders(body[start...])
            if !headers.isEmpty { groups.append(MIMEEntity(headers: headers, body: [], children: [])) }
            // A line that is not a field: skip it.
            start = next > start ? next : lineEnd + 1
        }
        return groups
    }

    /// The address of a DSN address field, `type; address`.
    static func dsnAddress(_ value: String?) -> String? {
        guard let value else { return nil }
        let address = value.split(separator: ";", maxSplits: 1).last.map(String.init) ?? value
        return TextScan.firstAddress(address)
    }

    /// A Diagnostic-Code's text without its type (`smtp; 550 ...` → `550 ...`).
    static func diagnosticText(_ value: String) -> String {
        if let semicolon = value.firstIndex(of: ";") {
            let type = value[..<semicolon]
            if type.utf8.count <= 12 && !type.utf8.contains(0x20) {
                return TextScan.collapse(String(value[value.index(after: semicolon)...]))
            }
        }
        return TextScan.collapse(value)
    }

    static func readDSN(_ root: MIMEEntity, into message: inout InspectedMessage) -> Bool {
        guard let part = deliveryStatusPart(root) else { return false }
        let groups = fieldGroups(part.body)
        guard let perMessage = groups.first else { return false }
        let recipientGroups = groups.filter {
            $0.rawHeader("Final-Recipient") != nil || $0.rawHeader("Original-Recipient") != nil
                || $0.rawHeader("Action") != nil
        }
        guard !recipientGroups.isEmpty else { return false }
        if message.original.returnPath.isEmpty, let sender = perMessage.header("X-Postfix-Sender") {
            message.original.returnPath = dsnAddress(sender) ?? ""
        }
        var failed: [RecipientReport] = []
        var other: [RecipientReport] = []
        var human: String?
        for group in recipientGroups {
            let recipient =
                dsnAddress(group.header("Original-Recipient")) ?? dsnAddress(group.header("Final-Recipient")) ?? ""
            let diagnostic = group.header("Diagnostic-Code").map(diagnosticText) ?? ""
            let diagnosticBytes = Array(diagnostic.utf8)[...]
            let replyCode = TextScan.replyCode(in: diagnosticBytes)?.code ?? ""
            let status =
                group.header("Status").flatMap { TextScan.enhancedStatus(in: Array($0.utf8)[...]) }
                ?? TextScan.enhancedStatus(in: diagnosticBytes) ?? ""
            var action = (group.header("Action") ?? "").trimmingWhitespace().lowercased()
            if let space = action.firstIndex(where: { $0 == " " || $0 == "(" }) { action = String(action[..<space]) }
            if action.isEmpty {
                switch status.first ?? replyCode.first {
                case "5": action = "failed"
                case "4": action = "delayed"
                case "2": action = "delivered"
                default: action = "failed"
                }
            }
            if action == "failed" {
                var basis = diagnostic
                if basis.isEmpty && status.isEmpty {
                    if human == nil { human = humanText(root).text }
                    basis = human ?? ""
                }
                let (bounceClass, reason) = FailureClassifier.classify(
                    status: status, replyCode: replyCode, diagnostic: basis, permanent: true)
                failed.append(
                    RecipientReport(
                        recipient: recipient, status: status, replyCode: replyCode, diagnostic: diagnostic,
                        bounceClass: bounceClass, reason: reason))
            } else {
                other.append(
                    RecipientReport(
                        recipient: recipient, status: status, replyCode: replyCode, diagnostic: diagnostic,
                        bounceClass: .none, reason: action))
            }
        }
        message.format = "dsn"
        if failed.isEmpty {
            message.kind = .deliveryReport
            message.reports = other
        } else {
            message.kind = .bounce
            message.reports = failed
        }
        return true
    }

    // MARK: - Amazon SES notifications

    static func readSESNotification(_ root: MIMEEntity, into message: inout InspectedMessage) -> Bool {
        guard root.contentType == "text/plain" || root.contentType == "application/json" else { return false }
        let body = root.body
        // Through SNS the quotes are escaped: look for the bare names.
        guard
            LowerText.find(Array("notificationType".utf8), in: body[...]) != nil
                || LowerText.find(Array("eventType".utf8), in: body[...]) != nil
        else { return false }
        guard let start = body.firstIndex(of: 0x7B), let end = body.lastIndex(of: 0x7D), start < end,
            var object = (try? JSONSerialization.jsonObject(with: Data(body[start...end]))) as? [String: Any]
        else { return false }
        // Through SNS the notification is a JSON string in "Message".
        if let inner = object["Message"] as? String,
            let decoded = (try? JSONSerialization.jsonObject(with: Data(inner.utf8))) as? [String: Any]
        {
            object = decoded
        }
        let type = ((object["notificationType"] ?? object["eventType"]) as? String ?? "").lowercased()
        if let mail = object["mail"] as? [String: Any] {
            if let source = mail["source"] as? String { message.original.returnPath = source }
            if let common = mail["commonHeaders"] as? [String: Any] {
                if let to = (common["to"] as? [String])?.first { message.original.to = TextScan.firstAddress(to) ?? to }
                if let id = common["messageId"] as? String { message.original.messageID = id }
            }
        }
        switch type {
        case "bounce":
            guard let bounce = object["bounce"] as? [String: Any] else { return false }
            let bounceType = (bounce["bounceType"] as? String ?? "").lowercased()
            let subType = (bounce["bounceSubType"] as? String ?? "").lowercased()
            let recipients = bounce["bouncedRecipients"] as? [[String: Any]] ?? []
            message.reports = recipients.map { entry in
                let recipient = (entry["emailAddress"] as? String).flatMap(TextScan.firstAddress) ?? ""
                let diagnostic = (entry["diagnosticCode"] as? String).map(diagnosticText) ?? ""
                let diagnosticBytes = Array(diagnostic.utf8)[...]
                let replyCode = TextScan.replyCode(in: diagnosticBytes)?.code ?? ""
                let status =
                    (entry["status"] as? String).flatMap { TextScan.enhancedStatus(in: Array($0.utf8)[...]) }
                    ?? TextScan.enhancedStatus(in: diagnosticBytes) ?? ""
                var (bounceClass, reason) = FailureClassifier.classify(
                    status: status, replyCode: replyCode, diagnostic: diagnostic, permanent: bounceType == "permanent")
                switch subType {
                case "noemail" where bounceType == "permanent": (bounceClass, reason) = (.hard, "mailbox-unknown")
                case "suppressed", "onaccountsuppressionlist": (bounceClass, reason) = (.hard, "suppressed")
                case "mailboxfull": (bounceClass, reason) = (.soft, "mailbox-full")
                case "messagetoolarge": (bounceClass, reason) = (.none, "message-too-large")
                case "contentrejected", "attachmentrejected": (bounceClass, reason) = (.none, "policy")
                default: break
                }
                if bounceType == "transient" && bounceClass == .hard { bounceClass = .soft }
                return RecipientReport(
                    recipient: recipient, status: status, replyCode: replyCode, diagnostic: diagnostic,
                    bounceClass: bounceClass, reason: reason)
            }
            message.kind = .bounce
        case "complaint":
            guard let complaint = object["complaint"] as? [String: Any] else { return false }
            let feedback = (complaint["complaintFeedbackType"] as? String ?? "abuse").lowercased()
            let recipients = complaint["complainedRecipients"] as? [[String: Any]] ?? []
            message.reports = recipients.map { entry in
                RecipientReport(
                    recipient: (entry["emailAddress"] as? String).flatMap(TextScan.firstAddress) ?? "", status: "",
                    replyCode: "", diagnostic: feedback, bounceClass: feedback == "not-spam" ? .none : .complaint,
                    reason: feedback)
            }
            message.kind = .complaint
        case "delivery":
            message.kind = .deliveryReport
            let recipients = (object["delivery"] as? [String: Any])?["recipients"] as? [String] ?? []
            message.reports = recipients.map {
                RecipientReport(
                    recipient: TextScan.firstAddress($0) ?? $0, status: "2.0.0", replyCode: "", diagnostic: "",
                    bounceClass: .none, reason: "delivered")
            }
        default:
            return false
        }
        message.format = "ses-notification"
        return true
    }

    // MARK: - Failure notices in the MTAs' own words

    static let bounceSubjects = Phrases([
        "undeliver", "returned mail", "delivery status notification", "delivery failure", "delivery failed",
        "failure notice", "delivery notification", "non remis", "unzustellbar", "not delivered",
        "could not be delivered", "nondeliverable", "non-deliverable", "returned to sender", "mail system error",
        "delivery problem", "permanent failure", "warning: message", "delayed mail", "delivery delayed",
        "mail delivery", "message not delivered", "unable to deliver", "delivery has failed",
        "non recapitabile", "onbestelbaar", "no se puede entregar", "mail failure",
    ])
    static let daemonSenders = Phrases([
        "mailer-daemon", "postmaster@", "mail delivery", "mail-daemon", "mailer_daemon", "mailerdaemon",
        "mail administrator", "mail system", "maildelivery", "microsoftexchange",
    ])
    static let failurePhrases = Phrases([
        "could not be delivered", "undeliverable", "delivery has failed", "permanent fatal error", "permanent error",
        "wasn't able to deliver", "unable to deliver", "failed permanently", "address(es) failed",
        "couldn't be delivered", "was not delivered", "wasn't delivered", "did not reach", "could not deliver",
        "recipient address rejected", "cannot be reached", "could not be reached", "delivery failed",
        "delivery to the following recipient", "not be delivered", "returned to sender", "user unknown",
        "no such user", "does not exist",
    ])
    /// Words that say "failure" only in a notice from a mail daemon (a reader's reply may use them too).
    static let daemonFailureWords = Phrases(["undelivered", "rejected", "failed", "failure"])
    static let delayPhrases = Phrases([
        "warning only", "this is a warning", "do not need to resend", "no action is required", "has been delayed",
        "delivery status notification (delay)", "will be retried", "will continue to try", "will retry",
        "still trying", "not yet been delivered", "has not been delivered yet", "delivery delayed",
        "warning: message",
    ])
    static let permanentPhrases = Phrases(["failed permanently", "permanent error", "permanent fatal"])
    static let ignoredLocalParts: Set<String> = [
        "mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon", "noreply", "no-reply", "abuse",
        "hostmaster", "webmaster", "root",
    ]

    /// The readable text of a message (its text/plain parts outside enclosed messages, else its text/html ones
    /// without tags), cut where a copy of the original message starts; and what follows the cut.
    static func humanText(_ root: MIMEEntity) -> (text: String, rest: [UInt8]) {
        var plain: [UInt8] = []
        var html: [UInt8] = []
        func collect(_ entity: MIMEEntity) {
            let type = entity.contentType
            if type.hasPrefix("multipart/") {
                entity.children.forEach(collect)
                if entity.children.isEmpty { plain += entity.body }
            } else if type == "text/plain" {
                if !plain.isEmpty { plain.append(0x0A) }
                plain += Array(entity.text.utf8)
            } else if type == "text/html" {
                html += Array(entity.text.utf8)
            }
        }
        collect(root)
        var bytes = plain.isEmpty ? stripTags(html) : plain
        var rest: [UInt8] = []
        for line in TextScan.lines(bytes) where isOriginalMarker(bytes[line]) {
            rest = Array(bytes[line.upperBound...])
            bytes = Array(bytes[..<line.lowerBound])
            break
        }
        return (String(decoding: bytes, as: UTF8.self), rest)
    }

    static let markerWords = Phrases([
        "copy of the message", "original message", "unsent message", "message follows", "returned message",
        "header of the original", "original headers", "headers of the original", "message header follows",
        "undelivered message", "below this line",
    ])

    static func isOriginalMarker(_ line: ArraySlice<UInt8>) -> Bool {
        var start = line.startIndex
        while start < line.endIndex && (line[start] == 0x20 || line[start] == 0x09) { start += 1 }
        guard start < line.endIndex else { return false }
        let lower = LowerText(Array(line[start...]))
        let first = line[start]
        if first == 0x2D || first == 0x3D || first == 0x2A || first == 0x5F {  // - = * _
            return lower.containsAny(markerWords.list)
        }
        return lower.bytes.starts(with: Array("original message headers".utf8))
            || lower.bytes.starts(with: Array("original message follows".utf8))
    }

    static func stripTags(_ html: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(html.count)
        var inTag = false
        var index = 0
        while index < html.count {
            let byte = html[index]
            if byte == 0x3C {
                // Block-level tags end a line.
                let lower = LowerText(Array(html[(index + 1)..<min(html.count, index + 4)])).bytes
                if lower.starts(with: Array("br".utf8)) || lower.starts(with: Array("p".utf8))
                    || lower.starts(with: Array("/p".utf8)) || lower.starts(with: Array("div".utf8))
                    || lower.starts(with: Array("/di".utf8)) || lower.starts(with: Array("tr".utf8))
                    || lower.starts(with: Array("li".utf8))
                {
                    output.append(0x0A)
                }
                inTag = true
            } else if byte == 0x3E && inTag {
                inTag = false
            } else if !inTag {
                output.append(byte)
            }
            index += 1
        }
        // The few entities a failure notice uses.
        let entities: [([UInt8], UInt8)] = [
            (Array("&lt;".utf8), 0x3C), (Array("&gt;".utf8), 0x3E), (Array("&nbsp;".utf8), 0x20),
            (Array("&#64;".utf8), 0x40), (Array("&quot;".utf8), 0x22), (Array("&amp;".utf8), 0x26),
        ]
        var decoded: [UInt8] = []
        decoded.reserveCapacity(output.count)
        var position = 0
        outer: while position < output.count {
            if output[position] == 0x26 {
                for (entity, replacement) in entities
                where output.count - position >= entity.count
                    && output[position..<(position + entity.count)].elementsEqual(entity)
                {
                    decoded.append(replacement)
                    position += entity.count
                    continue outer
                }
            }
            decoded.append(output[position])
            position += 1
        }
        return decoded
    }

    static func formatName(_ lower: LowerText, _ root: MIMEEntity) -> String {
        let markers: [(String, String)] = [
            ("qmail-send program", "qmail"), ("sorry, we were unable to deliver your message", "yahoo"),
            ("this message was created automatically by mail delivery software", "exim"),
            ("this is the mail system at host", "postfix"), ("this is the postfix program", "postfix"),
            ("permanent fatal errors", "sendmail"), ("transcript of session follows", "sendmail"),
            ("google tried to deliver", "gmail"), ("delivery to the following recipient", "gmail"),
            ("delivery has failed to these recipients", "office365"),
            ("diagnostic information for administrators", "office365"),
            ("did not reach some or all of the intended recipients", "exchange"),
            ("could not be reached", "exchange"), ("mimecast", "mimecast"), ("domino", "domino"),
        ]
        for (marker, name) in markers where lower.contains(marker) { return name }
        return root.rawHeader("X-Failed-Recipients") != nil ? "x-failed-recipients" : "generic"
    }

    static func readFailureNotice(_ root: MIMEEntity, into message: inout InspectedMessage) -> Bool {
        let failedHeader = root.headers("X-Failed-Recipients")
        let from = LowerText(root.header("From") ?? "")
        let subject = LowerText(message.subject)
        let fromDaemon = from.containsAny(daemonSenders.list)
        let bounceSubject = subject.containsAny(bounceSubjects.list)
        guard !failedHeader.isEmpty || fromDaemon || bounceSubject else { return false }
        let (text, rest) = humanText(root)
        let bytes = Array(text.utf8)
        let lower = LowerText(bytes)
        let isDelay =
            (lower.containsAny(delayPhrases.list) || subject.containsAny(delayPhrases.list))
            && !lower.containsAny(permanentPhrases.list)
        guard
            !failedHeader.isEmpty || lower.containsAny(failurePhrases.list) || isDelay
                || (fromDaemon && lower.containsAny(daemonFailureWords.list))
        else { return false }
        if message.original.returnPath.isEmpty && message.original.to.isEmpty && message.original.messageID.isEmpty
            && !rest.isEmpty
        {
            var start = rest.startIndex
            while start < rest.endIndex && (rest[start] == 0x0A || rest[start] == 0x0D || rest[start] == 0x20) {
                start += 1
            }
            let headers = MIMEReader.parseHeaders(rest[start...]).headers
            message.original = original(from: MIMEEntity(headers: headers, body: [], children: []))
        }
        // Recipients: X-Failed-Recipients, else every address in the notice but the ones that are not a
        // recipient (the notice's sender and addressee, the original's sender, the MTA's own mailboxes).
        var excluded: Set<String> = []
        for name in ["From", "To", "Delivered-To", "X-Original-To", "Return-Path", "Reply-To", "Sender"] {
            for value in root.headers(name) {
                for found in TextScan.addresses(in: Array(value.utf8)[...]) {
                    excluded.insert(found.address.lowercased())
                }
            }
        }
        if !message.original.returnPath.isEmpty { excluded.insert(message.original.returnPath.lowercased()) }
        var recipients: [String] = []
        var seen: Set<String> = []
        for value in failedHeader {
            for found in TextScan.addresses(in: Array(value.utf8)[...])
            where seen.insert(found.address.lowercased()).inserted {
                recipients.append(found.address)
            }
        }
        let found = TextScan.addresses(in: bytes[...])
        var firstOffset: [String: Int] = [:]
        for candidate in found {
            let lowered = candidate.address.lowercased()
            if firstOffset[lowered] == nil { firstOffset[lowered] = candidate.offset }
        }
        if recipients.isEmpty {
            for candidate in found {
                let lowered = candidate.address.lowercased()
                let local = String(lowered.prefix { $0 != "@" })
                guard !excluded.contains(lowered), !ignoredLocalParts.contains(local), seen.insert(lowered).inserted
                else { continue }
                recipients.append(candidate.address)
            }
        }
        let offsets = recipients.map { firstOffset[$0.lowercased()] ?? -1 }
        message.kind = isDelay ? .deliveryReport : .bounce
        message.format = formatName(lower, root)
        let lines = TextScan.lines(bytes)
        var reports: [RecipientReport] = []
        for (index, recipient) in recipients.enumerated() {
            let offset = offsets[index]
            // The recipient's block: from its line to the next recipient's first line.
            var blockStart = bytes.count
            if offset >= 0, let line = lines.first(where: { $0.contains(offset) || $0.lowerBound > offset }) {
                blockStart = line.lowerBound
            }
            let nextOffsets = offsets.filter { $0 > offset }
            let blockEnd = offset >= 0 ? (nextOffsets.min().map { start(ofLineAt: $0, lines) } ?? bytes.count) : 0
            let block = blockStart < blockEnd ? bytes[blockStart..<blockEnd] : bytes[0..<0]
            reports.append(report(for: recipient, block: block, whole: bytes, isDelay: isDelay, lower: lower))
        }
        if reports.isEmpty {
            reports.append(report(for: "", block: bytes[0..<0], whole: bytes, isDelay: isDelay, lower: lower))
        }
        message.reports = reports
        return true
    }

    static func start(ofLineAt offset: Int, _ lines: [Range<Int>]) -> Int {
        lines.first { $0.contains(offset) || $0.lowerBound >= offset }?.lowerBound ?? offset
    }

    /// One recipient's report from its block of the notice (else the whole notice): the first reply code line
    /// is the diagnostic; without one, the block's own words.
    static func report(
        for recipient: String, block: ArraySlice<UInt8>, whole: [UInt8], isDelay: Bool, lower: LowerText
    ) -> RecipientReport {
        var diagnostic = ""
        var replyCode = ""
        if let found = TextScan.replyCode(in: block) ?? TextScan.replyCode(in: whole[...]) {
            replyCode = found.code
            let source = block.indices.contains(found.offset) ? block : whole[...]
            var end = found.offset
            while end < source.endIndex && source[end] != 0x0A && source[end] != 0x0D { end += 1 }
            diagnostic = TextScan.collapse(String(decoding: source[found.offset..<end], as: UTF8.self))
            while let last = diagnostic.last, last == ">" || last == "'" || last == "\"" || last == ")" {
                diagnostic.removeLast()
            }
        } else if !block.isEmpty {
            // The lines after the address line, up to the first blank line.
            var lines = TextScan.lines(Array(block)).dropFirst()
            while let first = lines.first, TextScan.isBlank(Array(block)[first]) { lines = lines.dropFirst() }
            let blockBytes = Array(block)
            var words: [String] = []
            for line in lines {
                if TextScan.isBlank(blockBytes[line]) { break }
                words.append(String(decoding: blockBytes[line], as: UTF8.self))
            }
            diagnostic = TextScan.collapse(words.joined(separator: " "))
        }
        let status =
            TextScan.enhancedStatus(in: Array(diagnostic.utf8)[...]) ?? TextScan.enhancedStatus(in: block)
            ?? TextScan.enhancedStatus(in: whole[...]) ?? ""
        if isDelay {
            return RecipientReport(
                recipient: recipient, status: status, replyCode: replyCode, diagnostic: diagnostic, bounceClass: .none,
                reason: "delayed")
        }
        var basis = diagnostic
        if FailureClassifier.reason(status: status, diagnostic: diagnostic, isPermanent: true) == "unknown" {
            basis += " " + String(decoding: block.isEmpty ? whole[...] : block, as: UTF8.self)
        }
        let (bounceClass, reason) = FailureClassifier.classify(
            status: status, replyCode: replyCode, diagnostic: basis, permanent: true)
        return RecipientReport(
            recipient: recipient, status: status, replyCode: replyCode, diagnostic: diagnostic,
            bounceClass: bounceClass, reason: reason)
    }

    // MARK: - Automatic replies (RFC 3834)

    static let autoReplySubjects = Phrases([
        "out of office", "out of the office", "automatic reply", "auto reply", "auto-reply", "autoreply",
        "auto:", "auto response", "auto-response", "autoresponse", "abwesenheit", "réponse automatique",
        "respuesta automática", "risposta automatica", "automatisch antwoord", "away from", "on vacation",
        "vacation", "absence", "fuera de la oficina", "afwezig", "automatische antwort", "ooo:",
    ])

    static func readAutoReply(_ root: MIMEEntity, into message: inout InspectedMessage) -> Bool {
        var format = ""
        if let value = root.header("Auto-Submitted")?.trimmingWhitespace().lowercased(), !value.hasPrefix("no") {
            format = "auto-submitted"
        } else if root.rawHeader("X-Autoreply") != nil || root.rawHeader("X-Autorespond") != nil
            || root.rawHeader("X-Autoresponder") != nil
        {
            format = "x-autoreply"
        } else if let value = root.header("Precedence") ?? root.header("X-Precedence"),
            value.lowercased().containsBytes("auto_reply")
        {
            format = "precedence"
        } else if LowerText(message.subject).containsAny(autoReplySubjects.list) {
            format = "subject"
        }
        guard !format.isEmpty else { return false }
        message.kind = .autoReply
        message.format = format
        message.reports = []
        return true
    }
}
