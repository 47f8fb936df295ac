import Foundation
import Yams

extension EditionFile {
    /// `text`, an edition file as the editor left it, changed to hold `edition` by splicing: only the
    /// values that differ are replaced (where they stand), new items go after the last item of their
    /// section, new sections after the last section, and new entries of `removed:` and `gathered:` after
    /// the last one. Comments, blank lines, key order, quoting and the layout of everything else stay
    /// byte for byte. nil when the change is not one gather or add makes (a section renamed or an item
    /// moved) or when `text` is not an edition: the caller then writes the whole file with `encode`.
    public static func edit(_ text: String, to edition: Edition) -> String? {
        guard let old = try? decode(text, file: "edition.yaml"), let root = try? Yams.compose(yaml: text),
            case .mapping(let map) = root
        else { return nil }
        var splicer = Splicer(text)
        guard splicer.edit(map, from: old, to: edition) else { return nil }
        let result = splicer.result()
        // The splice must mean exactly what a full rewrite means, or it is not used.
        guard let spliced = try? decode(result, file: "edition.yaml"),
            let expected = try? decode(encode(edition), file: "edition.yaml"), spliced == expected
        else { return nil }
        return result
    }
}

/// Line-based edits of a YAML file, placed by the parser's marks (1-based line and column).
struct Splicer {
    /// Replaces `lines[start..<end]` with `replacement`, keeping the first `column` characters of line
    /// `start` before it (an insertion has `start == end` and column 0).
    struct Edit {
        var start: Int
        var column: Int
        var end: Int
        var replacement: [String]
        var order: Int
    }

    private var lines: [String]
    private var edits: [Edit] = []

    init(_ text: String) {
        var split = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if split.last == "" { split.removeLast() }
        lines = split
    }

    func result() -> String {
        var out = lines
        // From the bottom up, so earlier lines keep their numbers; on one line a replacement goes before
        // the insertions there, and insertions at one place keep the order they were made in.
        let sorted = edits.sorted { a, b in
            if a.start != b.start { return a.start > b.start }
            if (a.end > a.start) != (b.end > b.start) { return a.end > a.start }
            return a.order > b.order
        }
        for edit in sorted {
            let prefix = edit.start < out.count ? String(out[edit.start].unicodeScalars.prefix(edit.column)) : ""
            var replacement = edit.replacement
            if !replacement.isEmpty { replacement[0] = prefix + replacement[0] }
            out.replaceSubrange(edit.start..<edit.end, with: replacement)
        }
        return out.map { $0 + "\n" }.joined()
    }

    private mutating func add(start: Int, column: Int, end: Int, _ replacement: [String]) {
        edits.append(Edit(start: start, column: column, end: end, replacement: replacement, order: edits.count))
    }

    // MARK: Spans

    private static func isBlankOrComment(_ line: String) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return trimmed.isEmpty || trimmed.hasPrefix("#")
    }

    private static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

    /// The end (a 0-based line, exclusive) of an entry starting on 0-based `start` whose next sibling
    /// starts on `limit`: the blank and comment lines before the sibling belong to what follows. A block
    /// scalar keeps the comment-like lines indented past its key, which are its text.
    private func trimmed(start: Int, limit: Int, keyColumn: Int, blockScalar: Bool) -> Int {
        var end = min(limit, lines.count)
        while end > start + 1, Self.isBlankOrComment(lines[end - 1]) {
            let line = lines[end - 1]
            if blockScalar && !line.allSatisfy({ $0 == " " }) && Self.indentation(line) > keyColumn { break }
            end -= 1
        }
        return end
    }

    private static func isBlockScalar(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .literal || scalar.style == .folded
    }

    /// The entries of a block mapping with their spans: 0-based start line, key column (0-based), and end.
    private func entries(_ map: Node.Mapping, end limit: Int) -> [(
        key: String, value: Node, start: Int, column: Int, end: Int
    )]? {
        guard map.style != .flow else { return nil }
        let pairs = Array(map)
        var out: [(key: String, value: Node, start: Int, column: Int, end: Int)] = []
        for (index, pair) in pairs.enumerated() {
            guard let name = pair.key.scalar?.string, let mark = pair.key.mark else { return nil }
            let next = index + 1 < pairs.count ? (pairs[index + 1].key.mark?.line ?? 0) - 1 : limit
            let start = mark.line - 1
            let column = mark.column - 1
            out.append(
                (
                    name, pair.value, start, column,
                    trimmed(start: start, limit: next, keyColumn: column, blockScalar: Self.isBlockScalar(pair.value))
                ))
        }
        return out
    }

    /// The spans of a block sequence's entries: start line, the column of the entry's content, end.
    private func elements(_ nodes: [Node], end limit: Int) -> [(node: Node, start: Int, column: Int, end: Int)]? {
        var out: [(node: Node, start: Int, column: Int, end: Int)] = []
        for (index, node) in nodes.enumerated() {
            guard let mark = node.mark else { return nil }
            let next = index + 1 < nodes.count ? (nodes[index + 1].mark?.line ?? 0) - 1 : limit
            let start = mark.line - 1
            out.append(
                (node, start, mark.column - 1, trimmed(start: start, limit: next, keyColumn: 0, blockScalar: false)))
        }
        return out
    }

    /// `text`'s lines (as `encode` writes them, for a key at column 0) moved to start at `column`.
    private static func shifted(_ text: String, by delta: Int) -> [String] {
        var split = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if split.last == "" { split.removeLast() }
        return split.map { line in
            if line.isEmpty { return line }
            if delta >= 0 { return String(repeating: " ", count: delta) + line }
            let spaces = min(-delta, indentation(line))
            return String(line.dropFirst(spaces))
        }
    }

    /// `key: value` as lines for a key at `column` (the first line without its indentation, which the
    /// line being replaced keeps, or with it for an insertion).
    private static func entryLines(_ key: String, _ value: String, column: Int, indentFirst: Bool) -> [String] {
        var lines = shifted(value.hasPrefix("\n") ? "\(key):\(value)" : "\(key): \(value)", by: column)
        if !indentFirst, !lines.isEmpty { lines[0] = String(lines[0].dropFirst(column)) }
        return lines
    }

    // MARK: Edits

    /// Brings the fields of one mapping from `old` to `new` (both as `encode` writes them).
    private mutating func sync(
        _ entries: [(key: String, value: Node, start: Int, column: Int, end: Int)], mappingEnd: Int,
        old: [(String, String)], new: [(String, String)]
    ) -> Bool {
        let oldValues = Dictionary(old, uniquingKeysWith: { first, _ in first })
        let newValues = Dictionary(new, uniquingKeysWith: { first, _ in first })
        guard let first = entries.first else { return false }
        let keys = new.map(\.0) + old.map(\.0).filter { newValues[$0] == nil }
        for key in keys where oldValues[key] != newValues[key] {
            let entry = entries.first { $0.key == key }
            // A new key goes after the nearest key before it (in `encode`'s order) that the file has.
            let newOrder = new.map(\.0)
            let anchor = newOrder.firstIndex(of: key).flatMap { position in
                newOrder[..<position].reversed().lazy.compactMap { name in entries.first { $0.key == name } }.first
            }
            let insertAt = anchor?.end ?? mappingEnd
            switch (entry, newValues[key]) {
            case (let entry?, let value?):
                add(
                    start: entry.start, column: entry.column, end: entry.end,
                    Self.entryLines(key, value, column: entry.column, indentFirst: false))
            case (nil, let value?):
                add(
                    start: insertAt, column: 0, end: insertAt,
                    Self.entryLines(key, value, column: first.column, indentFirst: true))
            case (let entry?, nil):
                // The first key shares its line with the list's dash: never remove it.
                guard entry.start != first.start else { return false }
                add(start: entry.start, column: 0, end: entry.end, [])
            case (nil, nil):
                continue
            }
        }
        return true
    }

    mutating func edit(_ root: Node.Mapping, from old: Edition, to new: Edition) -> Bool {
        guard let top = entries(root, end: lines.count), let last = top.last else { return false }
        let rootEnd = last.end
        guard
            sync(
                top.filter { $0.key != "sections" && $0.key != "removed" && $0.key != "gathered" }, mappingEnd: rootEnd,
                old: EditionFile.headFields(old), new: EditionFile.headFields(new))
        else { return false }
        for (key, oldList, newList) in [
            ("removed", old.removedItemIDs, new.removedItemIDs), ("gathered", old.gatheredItemIDs, new.gatheredItemIDs),
        ] where oldList != newList {
            guard editList(key, in: top, rootEnd: rootEnd, old: oldList, new: newList) else { return false }
        }
        guard let sectionsEntry = top.first(where: { $0.key == "sections" }) else { return false }
        return editSections(sectionsEntry, old: old.sections, new: new.sections)
    }

    private mutating func editList(
        _ key: String, in top: [(key: String, value: Node, start: Int, column: Int, end: Int)], rootEnd: Int,
        old: [String], new: [String]
    ) -> Bool {
        guard let entry = top.first(where: { $0.key == key }) else {
            add(start: rootEnd, column: 0, end: rootEnd, Self.shifted("\(key): \(EditionFile.list(new))", by: 0))
            return true
        }
        if case .sequence(let sequence) = entry.value, sequence.style != .flow, !old.isEmpty,
            new.starts(with: old), let items = elements(Array(sequence), end: entry.end), let tail = items.last
        {
            // New entries after the last, with its dash and indentation.
            let prefix = String(lines[tail.start].unicodeScalars.prefix(tail.column))
            let added = new.dropFirst(old.count).map { prefix + EditionFile.quote($0) }
            add(start: tail.end, column: 0, end: tail.end, Array(added))
            return true
        }
        add(
            start: entry.start, column: entry.column, end: entry.end,
            Self.entryLines(key, String(EditionFile.list(new).dropLast()), column: entry.column, indentFirst: false))
        return true
    }

    private mutating func editSections(
        _ entry: (key: String, value: Node, start: Int, column: Int, end: Int), old: [Section], new: [Section]
    ) -> Bool {
        guard new.count >= old.count, zip(old, new).allSatisfy({ $0.title == $1.title }) else { return false }
        let nodes: [Node]
        switch entry.value {
        case .sequence(let sequence) where sequence.style != .flow: nodes = Array(sequence)
        default: nodes = []
        }
        guard nodes.count == old.count else { return false }
        if nodes.isEmpty {
            if new.isEmpty { return true }
            let body = new.map(EditionFile.encode).joined()
            add(
                start: entry.start, column: entry.column, end: entry.end,
                Self.entryLines("sections", "\n" + String(body.dropLast()), column: entry.column, indentFirst: false))
            return true
        }
        guard let spans = elements(nodes, end: entry.end), let lastSpan = spans.last else { return false }
        for (index, span) in spans.enumerated() {
            guard case .mapping(let map) = span.node, editSection(map, span: span, old: old[index], new: new[index])
            else { return false }
        }
        if new.count > old.count {
            // Written with the dash two columns before the existing sections' keys.
            let text = new[old.count...].map(EditionFile.encode).joined()
            add(start: lastSpan.end, column: 0, end: lastSpan.end, Self.shifted(text, by: lastSpan.column - 4))
        }
        return true
    }

    private mutating func editSection(
        _ map: Node.Mapping, span: (node: Node, start: Int, column: Int, end: Int), old: Section, new: Section
    ) -> Bool {
        guard let fields = entries(map, end: span.end), let lastField = fields.last else { return false }
        guard new.items.count >= old.items.count else { return false }
        guard let itemsEntry = fields.first(where: { $0.key == "items" }) else {
            if new.items.isEmpty { return true }
            let body = Self.shifted(new.items.map(EditionFile.encode).joined(), by: -4).joined(separator: "\n")
            add(
                start: lastField.end, column: 0, end: lastField.end,
                Self.entryLines("items", "\n" + body, column: span.column, indentFirst: true))
            return true
        }
        var nodes: [Node] = []
        if case .sequence(let sequence) = itemsEntry.value, sequence.style != .flow { nodes = Array(sequence) }
        guard nodes.count == old.items.count else { return false }
        if nodes.isEmpty {
            if new.items.isEmpty { return true }
            let body = new.items.map(EditionFile.encode).joined()
            // `encode` puts the items' dash six columns in, for an `items:` key four columns in.
            add(
                start: itemsEntry.start, column: itemsEntry.column, end: itemsEntry.end,
                Self.entryLines(
                    "items", "\n" + String(Self.shifted(body, by: -4).joined(separator: "\n")),
                    column: itemsEntry.column, indentFirst: false))
            return true
        }
        guard let spans = elements(nodes, end: itemsEntry.end), let lastSpan = spans.last else { return false }
        for (index, itemSpan) in spans.enumerated() {
            guard case .mapping(let itemMap) = itemSpan.node, let itemFields = entries(itemMap, end: itemSpan.end),
                let itemEnd = itemFields.last?.end
            else { return false }
            let before = EditionFile.itemFields(old.items[index])
            let after = EditionFile.itemFields(new.items[index])
            guard before.first?.1 == after.first?.1 else { return false }  // the kind never changes here
            guard sync(itemFields, mappingEnd: itemEnd, old: before, new: after) else { return false }
        }
        if new.items.count > old.items.count {
            let text = new.items[old.items.count...].map(EditionFile.encode).joined()
            // `encode` puts an item's keys eight columns in.
            add(start: lastSpan.end, column: 0, end: lastSpan.end, Self.shifted(text, by: lastSpan.column - 8))
        }
        return true
    }
}
