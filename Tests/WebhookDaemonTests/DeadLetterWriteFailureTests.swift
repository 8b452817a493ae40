import Delivery
import Foundation
import TestSupport
import Testing

@testable import WebhookDaemon

/// A hook that gave up while its dead letter cannot be written keeps its payment's place: the next event of the
/// payment waits, the hook is not run again, and the letter is written once the folder can take it.
@Suite(.serialized) struct DeadLetterWriteFailureTests {
    @Test func deadLetterWriteFailureKeepsPaymentOrder() async throws {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        let folder = harness.deadLetters.directory
        try FileManager.default.removeItem(atPath: folder)  // Dead letters cannot be written.
        let runs = harness.directory + "/runs.txt"
        let script = """
            line=$(cat); printf '%s\\n' "$line" >> \(runs); case "$line" in *'"evt-0-1"'*) exit 1;; esac; exit 0
            """
        try harness.configure([shellSink("ordered", script, attempts: 1, concurrency: 1)])
        for number in 1...2 {
            let stored = await harness.accept(
                id: "evt-0-\(number)",
                body: paymentBody(payment: 0, number: number),
                sinks: ["ordered"]
            )
            #expect(stored != nil)
        }
        // The first event's hook runs and fails (waited for: a loaded machine may take seconds to spawn it); then
        // re-feed passes (every 0.5 s) and dead-letter write retries (1 s) run.
        _ = await eventually(within: 30, every: 0.05) { !lineIDs(runs).isEmpty }
        try await Task.sleep(for: .seconds(2.5))
        #expect(lineIDs(runs) == ["evt-0-1"], "the payment's next event waits; the failed hook is not run again")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        // The write is retried after 1 s, doubling up to a minute: under load the folder may come back just after
        // a retry, so the next one can be a minute away.
        _ = await eventually(within: 75, every: 0.05) { lineIDs(runs).count >= 2 }
        #expect(lineIDs(runs) == ["evt-0-1", "evt-0-2"])
        #expect(try harness.deadLetters.list().count == 1)
        await harness.stop()
    }
}
