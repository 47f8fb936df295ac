import DigestBounces
import Foundation

/// `digest bounces inspect`: what digest reads from one bounce, complaint or auto-reply.
public enum BounceInspection {
    public static func inspect(file: String, environment: DigestEnvironment) throws -> InspectedMessage {
        let url = environment.path(file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw WorkflowError("cannot read \(file): give the path of a message saved as .eml", kind: .badInput)
        }
        return BounceReader.inspect(Array(data))
    }
}
