import Foundation
import TestSupport
import Testing

/// Recurring charge `transactionId` through the real daemon to a real hook.
@Suite("daemon: Recurring transactionId")
struct DaemonTransactionIDTests {
    @Test("two partial captures of one charge are two events, each hook run sees its VIPPS_TRANSACTION_ID")
    func twoPartialCaptures() throws {
        let hook = """
            #!/bin/sh
            printf '%s %s\\n' "$VIPPS_CHARGE_ID" "${VIPPS_TRANSACTION_ID-unset}" >> "$DIR/runs"
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#),
            files: Fixture.hookFiles(hook)
        )
        func capture(_ transaction: String) -> String {
            #"{"agreementId":"agr_7","chargeId":"chr-7","amount":10000,"currency":"NOK","chargeType":"RECURRING","#
                + #""occurred":"2025-12-02T10:00:00.123456789Z","amountCaptured":5000,"#
                + #""eventType":"recurring.charge-captured.v1","transactionId":\#(transaction)}"#
        }
        #expect(try harness.send(capture(#""tx-0001""#)).status == 200)
        #expect(try harness.send(capture(#""tx-0002""#)).status == 200)
        #expect(try harness.send(capture("null")).status == 200)
        try waitUntil("three hook runs", log: harness.daemon.log) { harness.lines("runs").count == 3 }
        #expect(harness.lines("runs") == ["chr-7 tx-0001", "chr-7 tx-0002", "chr-7 unset"])
        let ids = try harness.waitForRecords("events.jsonl", count: 3).compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 3)
        #expect(try harness.daemon.stop() == 0)
    }
}
