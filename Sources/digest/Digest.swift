import DigestCLI
import Foundation

/// The `digest` command: parses the command line and runs it in the live environment.
@main
struct Digest {
    static func main() async {
        exit(await DigestCommand.runMain())
    }
}
