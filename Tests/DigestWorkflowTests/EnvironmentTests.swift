import DigestCore
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

@Suite("The verbs' environment")
struct EnvironmentTests {
    @Test func workspaceIsFoundUpwardsFromTheCurrentFolder() throws {
        let environment = DigestEnvironment(
            variables: [:], currentDirectory: Repository.root.appendingPathComponent("Editions/2017-11-18"))
        #expect(try environment.workspace(nil).root.standardizedFileURL == Repository.root.standardizedFileURL)
    }

    @Test func workspaceOptionWinsOverTheVariable() throws {
        let environment = DigestEnvironment(
            variables: ["DIGEST_WORKSPACE": "/nowhere"], currentDirectory: URL(fileURLWithPath: "/tmp"))
        #expect(try environment.workspace("/srv/news").root.path == "/srv/news")
        #expect(try environment.workspace(nil).root.path == "/nowhere")
    }

    @Test func noWorkspaceAboveSaysWhatToDo() throws {
        let environment = DigestEnvironment(variables: [:], currentDirectory: URL(fileURLWithPath: "/"))
        #expect(throws: Problem.self) { try environment.workspace(nil) }
    }

    @Test func todayIsTheDateInThePublicationsTimeZone() throws {
        // 23:30 UTC on 17 November is already 18 November in Istanbul (UTC+3).
        let moment = Date(timeIntervalSince1970: 1_510_961_400)
        let environment = DigestEnvironment(now: { moment }, variables: [:], currentDirectory: Repository.root)
        let publication = try Workspace(root: Repository.root).loadPublication()
        var istanbul = publication
        istanbul.timeZone = try #require(TimeZone(identifier: "Europe/Istanbul"))
        var utc = publication
        utc.timeZone = try #require(TimeZone(identifier: "UTC"))
        #expect(try environment.editionDate(nil, publication: istanbul).description == "2017-11-18")
        #expect(try environment.editionDate("today", publication: utc).description == "2017-11-17")
        #expect(try environment.editionDate("2017-11-01", publication: utc).description == "2017-11-01")
        // A wrong command line (exit status 64), not a problem in a file; the hint is today's date.
        let error = #expect(throws: WorkflowError.self) { try environment.editionDate("18/11/2017", publication: utc) }
        #expect(error?.kind == .usage)
        #expect(error?.message.contains("today is 2017-11-17") == true)
    }
}
