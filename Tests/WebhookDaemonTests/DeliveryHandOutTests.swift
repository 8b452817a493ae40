import Delivery
import EventStore
import Foundation
import Testing

@testable import WebhookDaemon

/// The delivery path with real files, real hooks (child processes) and a real journal: spills to the journal,
/// re-feeds under continuing traffic, reloads that replace or remove sinks, and shutdown.
@Suite(.serialized) struct DeliveryHandOutTests {
    /// Sends `count` events of `payments` payments from `senders` concurrent tasks; returns the ids stored.
    private func send(
        _ harness: DeliveryHarness,
        count: Int,
        payments: Int = 10,
        senders: Int = 16,
        sinks: [String],
        pad: Int = 0,
        prefix: String = "evt"
    ) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            for sender in 0..<senders {
                group.addTask {
                    var stored: [String] = []
                    // A payment is sent by one sender only, so its events are stored in send order.
                    precondition(payments >= senders)
                    for number in stride(from: sender, to: count, by: senders) {
                        let payment = sender % payments
                        let id = "\(prefix)-\(payment)-\(number)"
                        if await harness.accept(
                            id: id,
                            body: paymentBody(payment: payment, number: number, pad: pad),
                            sinks: sinks
                        ) != nil {
                            stored.append(id)
                        }
                    }
                    return stored
                }
            }
            var all: [String] = []
            for await ids in group { all += ids }
            return all
        }
    }

    /// The two bounds of what a worker holds: a few events, or a few events' worth of bytes (each event here costs
    /// about 1 KB held: ``DeliverableEvent/heldBytes``).
    static let memoryBounds: [(events: Int, bytes: Int)] = [(4, 64 << 20), (100_000, 6 * 1024)]

    @Test(arguments: memoryBounds)
    func fileSinkSpillUnderTrafficWritesEveryEventOnceInOrder(bound: (events: Int, bytes: Int)) async throws {
        let harness = try DeliveryHarness(memoryLimit: bound.events, memoryBytes: bound.bytes)
        defer { harness.remove() }
        let path = harness.directory + "/out.jsonl"
        let sink = "spill-file-\(bound.events)-\(bound.bytes)"  // its own spill counter
        try harness.configure([.init(name: sink, kind: .file(path: path))])
        // Once the new worker has caught up with the journal, arrivals go to it directly until it is full.
        let warmUp = await send(harness, count: 1, payments: 1, senders: 1, sinks: [sink], prefix: "warm")
        #expect(await harness.settled(within: 10))
        let stored = await send(harness, count: 2000, payments: 16, senders: 16, sinks: [sink]) + warmUp
        #expect(stored.count == 2001)
        #expect(await harness.settled(within: 60))
        try await Task.sleep(for: .seconds(1.5))  // Re-feed passes that would double-deliver run meanwhile.
        await harness.stop()
        #expect(deliveriesCounted(sink: sink, outcome: "spilled") > 0, "the worker spilled to the journal")
        let ids = lineIDs(path)
        #expect(duplicates(ids) == [])
        #expect(Set(ids) == Set(stored))
        #expect(ids.count == stored.count)
        #expect(inPaymentOrder(ids))
    }

    /// Arrivals while a file-sink batch is scheduled (within the 10 ms pacing of the previous one) wait in the
    /// worker's inbox without waking its queue; the scheduled batch must take them, with no later arrival to do it.
    @Test func fileSinkArrivalsWhileABatchIsScheduledAreWrittenByIt() async throws {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        let path = harness.directory + "/paced.jsonl"
        let sink = "paced-file"
        try harness.configure([.init(name: sink, kind: .file(path: path))])
        for round in 0..<5 {
            // The first of each round is written at once; the rest arrive within its pacing interval, and nothing
            // arrives after them.
            let stored = await send(harness, count: 8, payments: 1, senders: 1, sinks: [sink], prefix: "round-\(round)")
            #expect(stored.count == 8)
            #expect(await harness.settled(within: 10), "round \(round): every event written without a later arrival")
            try await Task.sleep(for: .milliseconds(30))
        }
        await harness.stop()
        let ids = lineIDs(path)
        #expect(ids.count == 40 && duplicates(ids) == [])
    }

    @Test(arguments: memoryBounds)
    func execSinkSpillRunsEveryHookOnceInPaymentOrder(bound: (events: Int, bytes: Int)) async throws {
        let harness = try DeliveryHarness(memoryLimit: bound.events, memoryBytes: bound.bytes)
        harness.factory.hookQueueCapacity = 4
        defer { harness.remove() }
        let out = harness.directory + "/runs.jsonl"
        let sink = "spill-hook-\(bound.events)-\(bound.bytes)"  // its own spill counter
        try harness.configure([shellSink(sink, "cat >> \(out)", concurrency: 4)])
        let warmUp = await send(harness, count: 1, payments: 1, senders: 1, sinks: [sink], prefix: "warm")
        #expect(await harness.settled(within: 10))
        let stored = await send(harness, count: 400, payments: 8, senders: 8, sinks: [sink]) + warmUp
        #expect(stored.count == 401)
        #expect(await harness.settled(within: 90))
        try await Task.sleep(for: .seconds(1.5))
        await harness.stop()
        #expect(deliveriesCounted(sink: sink, outcome: "spilled") > 0, "the worker spilled to the journal")
        let ids = lineIDs(out)
        #expect(duplicates(ids) == [])
        #expect(Set(ids) == Set(stored))
        #expect(inPaymentOrder(ids))
    }

    /// Events that wait in the exec worker's overflow are kept without their decode and decoded again when they
    /// leave it: the hook's placeholders must still come out of each event's own body.
    @Test func execOverflowGivesEachHookItsOwnFields() async throws {
        let harness = try DeliveryHarness(memoryLimit: 1000)
        harness.factory.hookQueueCapacity = 2
        defer { harness.remove() }
        let out = harness.directory + "/args.txt"
        let script = "sleep 0.01; printf '%s %s\\n' \"$1\" \"$2\" >> \(out)"
        try harness.configure([
            .init(
                name: "args-hook",
                kind: .exec(
                    argv: ["/bin/sh", "-c", script, "sh", "{reference}", "{pspReference}"],
                    timeoutSeconds: 10,
                    maxAttempts: 1,
                    concurrency: 1
                )
            )
        ])
        let stored = await send(harness, count: 60, payments: 3, senders: 3, sinks: ["args-hook"])
        #expect(stored.count == 60)
        #expect(await harness.settled(within: 60))
        await harness.stop()
        #expect(deliveriesCounted(sink: "args-hook", outcome: "spilled") == 0, "overflow, not the journal")
        let lines = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        let expected = stored.map { id in
            let parts = id.split(separator: "-")
            return "order-\(parts[1]) psp-\(parts[2])"
        }
        #expect(lines.sorted() == expected.sorted())
    }

    @Test func reloadRemovingASinkDeadLettersWhatIsOwedAndRetiresTheJournal() async throws {
        let harness = try DeliveryHarness(segmentSize: 8192)
        defer { harness.remove() }
        let flag = harness.directory + "/down"
        #expect(FileManager.default.createFile(atPath: flag, contents: nil))
        let ok = harness.directory + "/ok.jsonl"
        let file = harness.directory + "/file.jsonl"
        // The hook fails while `flag` exists, with many attempts: events stay owed to it.
        let hook = DaemonConfiguration.Sink(
            name: "hook",
            kind: .exec(
                argv: ["/bin/sh", "-c", "test ! -e \(flag) && cat >> \(ok)"],
                timeoutSeconds: 5,
                maxAttempts: 100,
                concurrency: 2
            )
        )
        let fileSink = DaemonConfiguration.Sink(name: "file", kind: .file(path: file))
        try harness.configure([hook, fileSink])
        let before = await send(harness, count: 120, payments: 4, senders: 4, sinks: ["hook", "file"], pad: 400)
        #expect(before.count == 120)
        #expect(harness.segmentCount > 3)
        try harness.configure([fileSink])
        // Routed under the old table, stored after the swap: settled too.
        let late = await send(
            harness,
            count: 20,
            payments: 2,
            senders: 2,
            sinks: ["hook", "file"],
            pad: 400,
            prefix: "late"
        )
        #expect(await harness.settled(within: 60))
        #expect(
            await harness.segments(atMost: 2, within: 30),
            "delivered segments retire once nothing is owed: \(harness.segmentCount) left"
        )
        await harness.stop()
        let letters = try harness.deadLetters.list().map { try harness.deadLetters.load($0) }
        let byHook = letters.filter { $0.sink == "hook" }
        #expect(Set(byHook.map(\.event.id)) == Set(before + late))
        #expect(byHook.count == before.count + late.count)
        #expect(byHook.allSatisfy { $0.lastError.kind == .sinkRemoved && $0.lastError.message == "sink removed" })
        #expect(lineIDs(ok) == [], "the hook never succeeded")
        #expect(duplicates(lineIDs(file)) == [] && lineIDs(file).count == 140)
    }

    @Test func startWithASinkRemovedDeadLettersWhatIsOwed() async throws {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        // Stored for a sink that has no worker yet (its config is gone at the next start).
        for number in 0..<5 {
            await harness.accept(
                id: "evt-0-\(number)",
                body: paymentBody(payment: 0, number: number),
                sinks: ["gone"]
            )
        }
        try harness.configure([])
        #expect(await harness.settled(within: 30))
        await harness.stop()
        #expect(try harness.deadLetters.list().count == 5)
    }

    /// With a hook queue of 2 the replaced worker also holds events in its overflow (kept without their decode) when
    /// the reload drains it: they go back to the journal and reach the new worker in order.
    @Test(arguments: [10_000, 2])
    func hookThatFailsThenRecoversAcrossAReloadKeepsPaymentOrder(hookQueueCapacity: Int) async throws {
        let harness = try DeliveryHarness()
        harness.factory.hookQueueCapacity = hookQueueCapacity
        defer { harness.remove() }
        let flag = harness.directory + "/down"
        #expect(FileManager.default.createFile(atPath: flag, contents: nil))
        let out = harness.directory + "/runs.txt"
        func hook(_ version: String) -> DaemonConfiguration.Sink {
            shellSink(
                "hook",
                "test ! -e \(flag) && cat >> \(out)",
                version: version,
                timeout: 5,
                attempts: 100,
                concurrency: 3
            )
        }
        try harness.configure([hook("v1")])
        let first = await send(harness, count: 60, payments: 3, senders: 3, sinks: ["hook"])
        try harness.configure([hook("v2")])  // Changed argv while v1's hooks fail and retry.
        let second = await send(harness, count: 60, payments: 3, senders: 3, sinks: ["hook"], prefix: "evt2")
        try FileManager.default.removeItem(atPath: flag)
        #expect(await harness.settled(within: 90))
        await harness.stop()
        let ids = lineIDs(out)
        #expect(duplicates(ids) == [])
        #expect(Set(ids) == Set(first + second))
        // Per payment: all of the first batch, in order, then the second batch, in order.
        for payment in 0..<3 {
            let mine = ids.filter { $0.split(separator: "-")[1] == "\(payment)" }
            let numbers = mine.map { ($0.hasPrefix("evt2") ? 1_000_000 : 0) + Int($0.split(separator: "-")[2])! }
            #expect(numbers == numbers.sorted(), "payment \(payment): \(mine)")
        }
    }

    @Test func shutdownWaitsForAReplacedWorkersRunningHook() async throws {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        let out = harness.directory + "/runs.txt"
        let started = harness.directory + "/started"
        func hook(_ version: String) -> DaemonConfiguration.Sink {
            shellSink("hook", "touch \(started); sleep 1; cat >> \(out)", version: version, attempts: 1)
        }
        try harness.configure([hook("v1")])
        let sequence = try #require(
            await harness.accept(
                id: "evt-0-0",
                body: paymentBody(payment: 0, number: 0),
                sinks: ["hook"]
            )
        )
        while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(20)) }
        try harness.configure([hook("v2")])
        await harness.stop(grace: 10)
        #expect(lineIDs(out) == ["evt-0-0"])
        let reopened = try EventStore(directory: harness.directory + "/journal", logger: harness.logger)
        #expect(!reopened.isPending(sequence: sequence, sink: "hook"), "the old worker's mark was recorded")
        reopened.close()
    }
}
