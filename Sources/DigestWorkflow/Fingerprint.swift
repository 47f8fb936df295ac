import Crypto
import DigestCore
import Foundation

/// SHA-256 fingerprints of what a rendering depends on, to tell whether an edition changed since it was
/// frozen or checked.
enum Fingerprint {
    /// The edition file's bytes.
    static func edition(_ loaded: LoadedEdition) -> String {
        let data = FileManager.default.contents(atPath: loaded.workspace.editionFile(loaded.edition.date).path)
        return hex(SHA256.hash(data: data ?? Data()))
    }

    /// publication.yaml and every file under the templates folder (names and bytes, in name order).
    static func templates(_ loaded: LoadedEdition) -> String {
        var hasher = SHA256()
        hasher.update(data: FileManager.default.contents(atPath: loaded.workspace.configFile.path) ?? Data())
        let folder = loaded.workspace.templatesFolder(for: loaded.publication)
        let names = (FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []).sorted()
        for name in names {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                continue
            }
            hasher.update(data: Data(name.utf8))
            hasher.update(data: data)
        }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
