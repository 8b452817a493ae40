import EventStore
import Foundation
import Glibc
import TestSupport
import Testing

@testable import Delivery

/// Shutdown drains the sink workers while the server still journals and hands out webhooks, and a reload drains a
/// replaced worker while reconciliation may still deliver to it: an event handed to a draining file worker must be
/// written or given back to the journal, never kept in its inbox (where nothing would take it, nor any event after
/// it: a kept inbox gets no further hand-off).
@Suite("file sink: arrivals during a drain", .serialized)
struct FileSinkDrainTests {
    /// Whether an event is still referenced (by the worker, once the test has let go of it).
    private final class Watch: @unchecked Sendable {
        weak var event: DeliverableEvent?
        init(_ event: DeliverableEvent) { self.event = event }
    }

    @Test("events arriving while a batch is scheduled and a drain begins are written or given back, none kept")
    func arrivalsAfterADrainAreNotKept() async throws {
        for trial in 0..<12 {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let store = try EventStore(directory: directory.path + "/state", options: testOptions(), logger: testLogger)
            defer { store.close() }
            var stored: [StoredEvent] = []
            for index in 0..<30 {
                stored.append(try #require(await store.accept(id: "t\(trial)-e\(index)").storedEvent))
            }
            let output = directory.path + "/out.jsonl"
            let sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
            let worker = FileSinkWorker(
                name: "file",
                sink: sink,
                store: store,
                metrics: NoDeliveryMetrics(),
                logger: testLogger
            )
            var watches: [Watch] = []
            func give(_ event: StoredEvent) {
                _ = store.handOut(sequence: event.sequence, sinks: ["file"])
                let deliverable = DeliverableEvent(decoding: event)
                watches.append(Watch(deliverable))
                worker.deliver(deliverable)
            }
            func lines() -> Int {
                (try? String(contentsOfFile: output, encoding: .utf8))?.split(separator: "\n").count ?? 0
            }
            give(stored[0])
            try #require(eventually(5, every: 0.0001) { lines() >= 1 }, "the first event is written at once")
            give(stored[1])  // within the 10 ms pacing: a batch is scheduled
            give(stored[2])  // and this one waits in the inbox for it
            await withCheckedContinuation { (drained: CheckedContinuation<Void, Never>) in
                worker.drain(deadline: .now() + 5) { drained.resume() }
                for index in 3..<30 {
                    give(stored[index])
                    usleep(200)
                }
            }
            // What the worker's queues still hand over (a batch written, events given back) lets go of them a moment
            // after the drain's completion: waited for, bounded.
            func kept() -> [Int] { watches.indices.filter { watches[$0].event != nil } }
            _ = await eventually(within: 10) { kept().isEmpty }
            #expect(kept().isEmpty, "trial \(trial): events \(kept()) still held by the drained worker")
        }
    }
}
