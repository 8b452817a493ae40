import Foundation
import TestSupport
import Testing
import VippsCrypto

/// Issue 13: a state directory written by a version whose ids were the `webhook-id` header keeps deduplicating after
/// the upgrade, and across a further restart.
@Suite("daemon upgrade of the dedup state")
struct DaemonUpgradeTests {
    @Test(
        "journal events get new ids from their bodies; old dedup.log entries still catch redeliveries; a restart keeps both"
    )
    func upgradeKeepsDedup() throws {
        let directory = TemporaryDirectory()
        let now = Date()
        let pending = Fixture.payment()  // in the journal, not yet delivered
        let delivered = Fixture.payment()  // in the journal, delivered
        let retiredWithID = Fixture.payment()  // only in dedup.log, by its webhook-id
        let retiredWithoutID = Fixture.payment()  // only in dedup.log, by its body hash
        let expired = Fixture.payment()  // only in dedup.log, older than the retention
        var state = try LegacyStateDirectory(stateDirectory: directory.path + "/state")
        state.event(
            sequence: 1,
            oldID: "wh-pending",
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAt: now.addingTimeInterval(-60),
            body: pending,
            sinks: ["events"]
        )
        state.event(
            sequence: 2,
            oldID: Digest.hex(Digest.sha256(Array(delivered.utf8))),
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAt: now.addingTimeInterval(-50),
            body: delivered,
            sinks: ["events"]
        )
        state.delivered(sequence: 2, sink: "events")
        state.retired(oldID: "wh-retired", acceptedAt: now.addingTimeInterval(-3 * 86400))
        state.retired(
            oldID: Digest.hex(Digest.sha256(Array(retiredWithoutID.utf8))),
            acceptedAt: now.addingTimeInterval(-86400)
        )
        state.retired(oldID: "wh-expired", acceptedAt: now.addingTimeInterval(-8 * 86400))
        try state.write()

        let harness = try DaemonHarness(directory: directory)
        // The pending event is delivered under its new id, with its old id as webhook_id.
        let recovered = try #require(try harness.waitForRecords("events.jsonl", count: 1).first)
        #expect(recovered["id"] as? String == ExpectedEventID.of(pending))
        #expect(recovered["webhook_id"] as? String == "wh-pending")
        #expect(recovered["source"] as? String == "webhook")
        let migrated = try #require(
            harness.daemon.logged(
                "dedup state migrated to ids derived from signed content; earlier ids kept as legacy entries"
            ).first
        )
        #expect(migrated["from_dedup_log"] as? Int == 2, "\(migrated)")
        #expect(migrated["from_journal"] as? Int == 2)

        /// Sends every redelivery; each must be a duplicate.
        func redeliver() throws {
            let cases: [(String, String, String?)] = [
                ("journal event, another webhook-id", pending, "wh-other"),
                ("delivered journal event, no webhook-id", delivered, nil),
                ("retired event, same webhook-id", retiredWithID, "wh-retired"),
                ("retired event without webhook-id, same body", retiredWithoutID, nil),
            ]
            for (name, body, webhookID) in cases {
                let answer = try harness.send(body, webhookID: webhookID)
                #expect(answer.status == 200 && answer.text.contains("duplicate"), "\(name): \(answer)")
            }
        }
        try redeliver()
        // Past the retention the old entry is gone: that event is accepted again.
        #expect(try harness.send(expired, webhookID: "wh-expired").text.contains("stored"))
        let fresh = Fixture.payment()
        #expect(try harness.send(fresh, webhookID: "wh-fresh").text.contains("stored"))
        #expect(try harness.send(fresh, webhookID: "wh-fresh-again").text.contains("duplicate"))
        try harness.waitForRecords("events.jsonl", count: 3)
        #expect(
            harness.daemon.logged(
                "duplicate of an event accepted before the upgrade (legacy dedup entry); not stored again"
            ).count == 2
        )
        #expect(try DaemonExecTests.metric(harness, "vipps_webhookd_dedup_legacy_hits_total", [:]) == 2)

        #expect(try harness.daemon.stop(timeout: 15) == 0)
        try harness.daemon.restart()
        #expect(
            harness.daemon.logged(
                "dedup state migrated to ids derived from signed content; earlier ids kept as legacy entries"
            ).count == 1,
            "the migration runs once"
        )
        try redeliver()
        #expect(try harness.send(fresh, webhookID: "wh-fresh-3").text.contains("duplicate"))
        #expect(try harness.send(expired).text.contains("duplicate"))
        let fence = Fixture.payment()
        #expect(try harness.send(fence).status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 4)
        #expect(records.compactMap { $0["id"] as? String } == [pending, expired, fresh, fence].map(ExpectedEventID.of))
        #expect(FileManager.default.fileExists(atPath: directory.path + "/state/journal/dedup.signed-ids"))
    }
}
