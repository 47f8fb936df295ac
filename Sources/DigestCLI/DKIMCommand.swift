import ArgumentParser
import DigestCore
import DigestMail
import DigestWorkflow
import Foundation

struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Manage the publication's DKIM keys.",
        subcommands: [KeygenCommand.self]
    )

    struct KeygenCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen",
            abstract: "Write a new DKIM key pair and print the DNS TXT record to publish.",
            discussion: """
                The private key is written to keys/<selector>.pem in the workspace (readable only by you; keys/
                is never committed). Publish the printed record, then add the selector to publication.yaml:
                  dkim:
                    signatures:
                      - selector: <selector>
                        key_file: keys/<selector>.pem
                Gmail verifies only RSA: sign with an RSA key, and add an Ed25519 one as a second signature.
                """
        )

        enum Algorithm: String, ExpressibleByArgument, CaseIterable {
            case rsa, ed25519
        }

        @Option(help: "The selector: the DNS name part before ._domainkey (e.g. digest2026).")
        var selector: String

        @Option(help: "rsa (2048 bits) or ed25519.")
        var algorithm: Algorithm = .rsa

        @Option(help: "Where to write the private key. Default: keys/<selector>.pem in the workspace.")
        var out: String?

        @OptionGroup var options: WorkspaceOptions

        func validate() throws {
            guard let first = selector.first, first.isLetter || first.isNumber,
                selector.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
            else { throw ValidationError("the selector must be letters, digits, hyphens and dots") }
        }

        func run() async throws {
            let environment = Live.environment
            let workspace = try environment.workspace(options.workspace)
            let publication = try workspace.loadPublication()
            let domain = publication.dkim?.domain ?? publication.domain
            let file =
                out.map { URL(fileURLWithPath: $0, relativeTo: environment.currentDirectory).standardizedFileURL }
                ?? workspace.root.appendingPathComponent("keys/\(selector).pem")
            guard !FileManager.default.fileExists(atPath: file.path) else {
                throw CommandFailure(
                    message: "\(workspace.displayPath(file)) exists already; choose a new selector or remove it")
            }
            let key = try DKIMKey.generate(
                algorithm == .rsa ? .rsaSHA256 : .ed25519SHA256, selector: selector, domain: domain)
            do {
                try FileManager.default.createDirectory(
                    at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                // Created readable by the owner only, before a byte of the key is written.
                guard
                    FileManager.default.createFile(
                        atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
                else { throw CommandFailure(message: "cannot create \(file.path)") }
                let handle = try FileHandle(forWritingTo: file)
                try handle.write(contentsOf: Data(key.privateKeyPEM.utf8))
                try handle.close()
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure(message: "cannot write \(file.path): \(error.localizedDescription)")
            }
            Console.out("wrote the private key to \(workspace.displayPath(file)) (mode 600)")
            Console.out("publish this DNS record:")
            Console.out(key.dnsRecord)
        }
    }
}
