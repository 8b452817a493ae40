import Delivery
import EventStore
import Foundation
import Logging
import POSIX
import TestSupport
import Testing

@testable import WebhookDaemon

@Suite("dead-letter requeue across a reload")
struct RequeueAcrossReloadTests {
    @Test("a dead letter retried during a reload waits for the replaced worker: never beside its hook of the payment")
    func requeuedDeadLetterDoesNotRunBesideALiveHookOfTheSamePayment() async throws {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        let dir = harness.directory
        let script = """
            mkdir \(dir)/lock 2>/dev/null || echo "overlap $VIPPS_EVENT_ID" >> \(dir)/overlap
            if [ -e \(dir)/fail ]; then rmdir \(dir)/lock; exit 1; fi
            echo "$VIPPS_EVENT_ID start" >> \(dir)/runs
            if [ "$VIPPS_EVENT_ID" = evt-0-1 ]; then sleep 3; fi
            echo "$VIPPS_EVENT_ID end" >> \(dir)/runs
            rmdir \(dir)/lock 2>/dev/null
            exit 0
            """
        func hook(_ version: String) -> DaemonConfiguration.Sink {
            shellSink("hook", script, version: version, timeout: 10, attempts: 1, concurrency: 4)
        }
        try harness.configure([hook("v1")])
        // Event A of payment 0 fails its only attempt: a dead letter.
        #expect(FileManager.default.createFile(atPath: dir + "/fail", contents: nil))
        _ = await harness.accept(id: "evt-0-0", body: paymentBody(payment: 0, number: 0), sinks: ["hook"])
        #expect(await eventually(within: 10, every: 0.05) { ((try? harness.deadLetters.list()) ?? []).count == 1 })
        #expect(await harness.settled(within: 10))
        try FileManager.default.removeItem(atPath: dir + "/fail")
        let name = try harness.deadLetters.list()[0]
        // Event B of the same payment is running (slowly) on the v1 worker ...
        _ = await harness.accept(id: "evt-0-1", body: paymentBody(payment: 0, number: 1), sinks: ["hook"])
        #expect(
            await eventually(within: 10, every: 0.02) {
                ((try? String(contentsOfFile: dir + "/runs", encoding: .utf8)) ?? "").contains("evt-0-1 start")
            }
        )
        // ... when a reload changes the sink, and the operator retries A's dead letter.
        try harness.configure([hook("v2")])
        try RequeueMarkers(deadLetters: harness.deadLetters).create(name)
        harness.startRequeue()
        #expect(await eventually(within: 15, every: 0.05) { ((try? harness.deadLetters.list()) ?? []).isEmpty })
        #expect(await harness.settled(within: 15))
        await harness.stop()
        let runs = (try? String(contentsOfFile: dir + "/runs", encoding: .utf8)) ?? ""
        let overlap = (try? String(contentsOfFile: dir + "/overlap", encoding: .utf8)) ?? ""
        #expect(overlap.isEmpty, "two hooks of payment 0 ran at once:\n\(runs)")
    }
}
