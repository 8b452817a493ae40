import Foundation
import Synchronization
import TestSupport
import Testing

/// Durability across a crash: what was answered 200 is delivered exactly once to file sinks, pending hooks run after
/// the restart, and dedup remembers accepted events.
@Suite("daemon restart and durability")
struct DaemonRestartTests {
    @Test("every event answered 200 before SIGKILL is in the file sink exactly once after the restart")
    func crashKeepsEveryAcceptedEvent() throws {
        let harness = try DaemonHarness()
        var accepted: [String] = []
        for index in 0..<40 {
            let id = "wh-crash-\(index)"
            let response = try harness.send(Fixture.payment(), webhookID: id)
            #expect(response.status == 200, "\(response)")
            if response.status == 200 { accepted.append(id) }
        }
        try harness.daemon.crash()
        try harness.daemon.restart()
        try harness.waitForRecords("events.jsonl", count: accepted.count)
        // An event sent after the restart: once it is written, everything recovered before it is written too.
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-after").status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: accepted.count + 1)
        let ids = records.compactMap { $0["webhook_id"] as? String }
        #expect(ids.count == accepted.count + 1, "lines: \(ids.count)")
        #expect(Set(ids) == Set(accepted + ["wh-after"]))
        #expect(ids.count == Set(ids).count, "a line was written twice")
        // Every line is whole JSON.
        #expect(harness.lines("events.jsonl").count == records.count)
    }

    @Test("SIGKILL in the middle of concurrent traffic: every 200 is written once, nothing else appears")
    func crashDuringTraffic() throws {
        let harness = try DaemonHarness()
        let port = harness.port
        let outcomes = Outcomes()
        let group = DispatchGroup()
        for sender in 0..<4 {
            DispatchQueue.global().async(group: group) {
                for index in 0..<100 {
                    let id = "wh-\(sender)-\(index)"
                    let body = Array(Fixture.payment().utf8)
                    guard
                        let headers = try? TestSigner.headers(
                            secret: Fixture.secret,
                            url: "http://127.0.0.1:\(port)/vipps/epayment",
                            body: body,
                            webhookID: id
                        )
                    else { return }
                    outcomes.attempted(id)
                    guard
                        let response = try? TestHTTPClient.post(
                            port: port,
                            path: "/vipps/epayment",
                            headers: headers,
                            body: body
                        )
                    else { return }  // The daemon is gone: stop sending.
                    if response.status == 200 { outcomes.accepted(id) }
                }
            }
        }
        try waitUntil("traffic under way", log: harness.daemon.log) { outcomes.acceptedCount >= 40 }
        try harness.daemon.crash()
        group.wait()
        let (attempted, accepted) = outcomes.snapshot
        #expect(accepted.count < attempted.count, "precondition: the crash came during traffic")

        try harness.daemon.restart()
        try harness.waitForRecords("events.jsonl", count: accepted.count)
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-after").status == 200)
        try waitUntil("fence written", log: harness.daemon.log) {
            harness.records("events.jsonl").contains { $0["webhook_id"] as? String == "wh-after" }
        }
        let lines = harness.lines("events.jsonl")
        let ids = harness.records("events.jsonl").compactMap { $0["webhook_id"] as? String }
        #expect(ids.count == lines.count, "every line is whole JSON")
        #expect(ids.count == Set(ids).count, "a line was written twice")
        #expect(Set(ids).isSuperset(of: accepted), "lost: \(accepted.subtracting(ids).sorted())")
        #expect(Set(ids).isSubset(of: attempted.union(["wh-after"])))
    }

    @Test("events still pending for a slow exec sink at SIGKILL are delivered after the restart")
    func crashWithPendingHooks() throws {
        let hook = """
            #!/bin/sh
            WID=$(sed -n 's/.*"webhook_id": "\\([^"]*\\)".*/\\1/p')
            sleep 0.3
            echo "$WID" >> "$DIR/hooked"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1),
            files: Fixture.hookFiles(hook)
        )
        let ids = (0..<6).map { "wh-pending-\($0)" }
        for id in ids {
            #expect(try harness.send(Fixture.payment(), webhookID: id).status == 200)
        }
        try harness.daemon.crash()
        let doneAtCrash = Set(harness.lines("hooked"))
        #expect(doneAtCrash.count < ids.count, "precondition: some hooks were still pending at the crash")
        try harness.daemon.restart()
        try waitUntil("every event hooked", timeout: 30, log: harness.daemon.log) {
            Set(harness.lines("hooked")).isSuperset(of: ids)
        }
        try harness.waitForRecords("events.jsonl", count: ids.count)
        #expect(Set(harness.records("events.jsonl").compactMap { $0["webhook_id"] as? String }) == Set(ids))
        #expect(harness.lines("events.jsonl").count == ids.count)
    }

    @Test("dedup survives a restart: a redelivery afterwards is answered 200 and not written again")
    func dedupAfterRestart() throws {
        let harness = try DaemonHarness()
        let body = Fixture.payment()
        let noHeaderBody = Fixture.payment()
        #expect(try harness.send(body, webhookID: "wh-restart-dup").status == 200)
        #expect(try harness.send(noHeaderBody).status == 200)
        try harness.waitForRecords("events.jsonl", count: 2)
        try harness.daemon.crash()
        try harness.daemon.restart()
        let again = try harness.send(body, webhookID: "wh-restart-dup", date: Date().addingTimeInterval(-3))
        #expect(again.status == 200, "\(again)")
        #expect(try harness.send(noHeaderBody, date: Date().addingTimeInterval(-3)).status == 200)
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-fence").status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 3)
        let ids = records.compactMap { $0["id"] as? String }
        #expect(ids.count == 3 && Set(ids).count == 3, "\(ids)")
        #expect(Array(ids.prefix(2)) == [body, noHeaderBody].map(ExpectedEventID.of))
        #expect(records.last?["webhook_id"] as? String == "wh-fence")
    }
}

/// What the concurrent senders of `crashDuringTraffic` saw.
private final class Outcomes: Sendable {
    private let ids = Mutex<(attempted: Set<String>, accepted: Set<String>)>(([], []))

    func attempted(_ id: String) {
        ids.withLock { _ = $0.attempted.insert(id) }
    }

    func accepted(_ id: String) {
        ids.withLock { _ = $0.accepted.insert(id) }
    }

    var acceptedCount: Int {
        ids.withLock { $0.accepted.count }
    }

    var snapshot: (attempted: Set<String>, accepted: Set<String>) {
        ids.withLock { $0 }
    }
}
