import ArgumentParser
import Foundation
import Testing

@testable import WebhookDaemon

/// `reconcile` refuses, before it asks anyone, what a running daemon would refuse as "not a reconcile request".
@Suite("reconcile: the request's bounds")
struct ReconcileCommandBoundsTests {
    private func parse(_ arguments: [String]) throws -> ReconcileCommand {
        try ReconcileCommand.parse(["--config", "/etc/vipps-webhookd/config.yaml"] + arguments)
    }

    @Test("--since past 366 days is refused, in any unit", arguments: ["400d", "9000h", "527041m"])
    func sinceBeyondAYear(since: String) {
        #expect(throws: (any Error).self) { try parse(["--since", since]) }
    }

    @Test("--since up to 366 days is a request the daemon takes", arguments: ["366d", "8784h", "90s"])
    func sinceWithinAYear(since: String) throws {
        let seconds = try #require(ReconcileCommand.seconds(since))
        #expect(try parse(["--since", since]).since == since)
        let request = ReconcileRequest(references: [], sinceSeconds: seconds, msn: nil, endpoint: nil)
        #expect(ReconcileRequest(line: request.line) == request)
    }

    @Test("references over the daemon's request line or count are a problem; up to them, the daemon reads the line")
    func references() throws {
        let long = (0..<3000).map { "order-\(String(repeating: "0", count: 15))\($0)" }
        #expect(ReconcileRequest(references: long, sinceSeconds: 3600, msn: nil, endpoint: nil).problem != nil)
        let many = (0..<10_001).map { "r\($0)" }
        #expect(ReconcileRequest(references: many, sinceSeconds: 3600, msn: nil, endpoint: nil).problem != nil)
        let some = (0..<1000).map { "order-\($0)" }
        let request = ReconcileRequest(references: some, sinceSeconds: 3600, msn: nil, endpoint: nil)
        #expect(request.problem == nil)
        #expect(ReconcileRequest(line: request.line) == request)
        #expect(try parse(["--reference", "order-1", "--reference", "order-2"]).references == ["order-1", "order-2"])
    }
}
