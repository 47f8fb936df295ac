/// The query parameters that only track a reader (`utm_source`, `fbclid`, …): a feed leaves them in its
/// links, digest takes them out of every link it mails, and gather ignores them when it compares links.
public enum TrackingParameters {
    /// Parameter names, lower case, besides every `utm_…` one.
    public static let names: Set<String> = [
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_hsenc", "_hsmi", "ref_src",
    ]

    public static func isTracking(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasPrefix("utm_") || names.contains(lower)
    }

    /// `url` without its tracking parameters; everything else (order, encoding, the fragment) as it was.
    public static func strip(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        let afterQuery = url[url.index(after: question)...]
        let hash = afterQuery.firstIndex(of: "#")
        let query = hash.map { afterQuery[..<$0] } ?? afterQuery
        let fragment = hash.map { String(afterQuery[$0...]) } ?? ""
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false)
        let kept = pairs.filter { pair in
            let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return !isTracking(String(name))
        }
        guard kept.count != pairs.count else { return url }
        let base = String(url[..<question])
        return (kept.isEmpty ? base : base + "?" + kept.joined(separator: "&")) + fragment
    }
}
