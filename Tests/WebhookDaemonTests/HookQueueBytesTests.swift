import Foundation
import Testing

@testable import Delivery
@testable import WebhookDaemon

/// An exec sink's hook queue is bounded by bytes as well as by count: behind a slow hook, events of large bodies
/// wait in the worker's overflow (kept without their decode) and then in the journal, not all in the queue.
@Suite struct HookQueueBytesTests {
    @Test("behind a slow hook the hook queue holds the byte bound's worth of events; every hook runs once, in order")
    func hookQueueIsBoundedByBytes() async throws {
        // Each event below holds ~4 × 1 KiB + 512 bytes with its decode: 16 KiB take 3 of them.
        let harness = try DeliveryHarness(memoryLimit: 100_000, memoryBytes: 16 * 1024)
        defer { harness.remove() }
        let out = harness.directory + "/runs.jsonl"
        try harness.configure([shellSink("slow-hook", "sleep 0.05; cat >> \(out)")])
        let worker = try #require(harness.dispatcher.current["slow-hook"] as? ExecSinkWorker)
        var stored: [String] = []
        var deepest = 0
        for number in 0..<30 {
            let id = "big-\(number % 3)-\(number)"
            let body = paymentBody(payment: number % 3, number: number, pad: 1024)
            if await harness.accept(id: id, body: body, sinks: ["slow-hook"]) != nil { stored.append(id) }
            deepest = max(deepest, worker.dispatcher.depth)
        }
        while !(await harness.settled(within: 0.05)) { deepest = max(deepest, worker.dispatcher.depth) }
        await harness.stop()
        #expect(deepest <= 3, "the hook queue held \(deepest) events of ~4.5 KiB under a 16 KiB bound")
        let ids = lineIDs(out)
        #expect(ids.count == 30 && Set(ids) == Set(stored) && duplicates(ids) == [] && inPaymentOrder(ids))
    }
}
