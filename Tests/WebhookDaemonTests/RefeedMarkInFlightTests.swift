import Foundation
import Testing

@testable import Delivery
@testable import EventStore
@testable import WebhookDaemon

/// A journal re-feed while a finished hook's mark is still queued on the store (a long group commit): on 424e75c the
/// re-feed's snapshot listed that event as pending and ran its hook a second time.
@Suite struct RefeedMarkInFlightTests {
    @Test func aHookWhoseMarkIsInFlightIsNotRunAgain() async throws {
        let harness = try DeliveryHarness(memoryLimit: 1)
        harness.factory.hookQueueCapacity = 1
        defer { harness.remove() }
        let out = harness.directory + "/runs.txt"
        try harness.configure([
            shellSink("inflight", "sleep 0.5; cat >> \(out)", attempts: 1)
        ])
        #expect(await harness.settled(within: 5))
        for number in 0..<3 {
            await harness.accept(
                id: "evt-0-\(number)",
                body: paymentBody(payment: number, number: number),
                sinks: ["inflight"]
            )
        }
        while lineIDs(out).count < 1 { try await Task.sleep(for: .milliseconds(5)) }
        // The second hook runs now: hold the store's queue while it finishes and re-feed passes come.
        let hold = DispatchSemaphore(value: 0)
        harness.store.queue.async { hold.wait() }
        try await Task.sleep(for: .seconds(3))
        hold.signal()
        #expect(await harness.settled(within: 10))
        try await Task.sleep(for: .seconds(1.5))
        await harness.stop()
        #expect(lineIDs(out) == ["evt-0-0", "evt-0-1", "evt-0-2"])
    }
}
