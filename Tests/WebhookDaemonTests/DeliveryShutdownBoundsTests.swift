import Delivery
import EventStore
import Foundation
import Glibc
import POSIX
import Testing

@testable import WebhookDaemon

/// A reload or a shutdown is never held by a long backlog or by a journal that refuses delivered marks.
@Suite(.serialized) struct DeliveryShutdownBoundsTests {
    /// A removed sink with a backlog of 4,000 events: settling it (dead letters) runs in bounded re-feed passes, so
    /// a second reload (logrotate's SIGHUP, on the queue that also feeds the watchdog) or a shutdown with 1 s grace
    /// returns long before the backlog is settled.
    @Test(arguments: [false, true]) func shutdownAndReloadDoNotWaitForARemovedSinksWholeBacklog(
        reload: Bool
    )
        async throws
    {
        let harness = try DeliveryHarness()
        defer { harness.remove() }
        let blocker = harness.directory + "/blocked"
        #expect(FileManager.default.createFile(atPath: blocker, contents: nil))
        try harness.configure([shellSink("gone", "test ! -e \(blocker)", attempts: 100)])
        let total = 4000
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<16 {
                group.addTask {
                    for number in stride(from: sender, to: total, by: 16) {
                        _ = await harness.accept(
                            id: "evt-\(sender)-\(number)",
                            body: paymentBody(payment: sender, number: number),
                            sinks: ["gone"]
                        )
                    }
                }
            }
        }
        try harness.configure([])  // Every owed event becomes a dead letter of `gone`.
        // The old worker drains (its queued hooks are given back), then the removed sink's pass starts.
        while (try harness.deadLetters.list().count) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let before = try harness.deadLetters.list().count
        let started = Date()
        // A second SIGHUP (logrotate) runs `install` on the daemon's control queue, which also feeds the watchdog.
        if reload { try harness.configure([]) } else { await harness.stop(grace: 1) }
        let took = Date().timeIntervalSince(started)
        let after = try harness.deadLetters.list().count
        #expect(
            after < total,
            "\(reload ? "install" : "drain (grace 1 s)") waited \(took) s, until every dead letter was written: \(before) -> \(after) of \(total)"
        )
        if reload { await harness.stop() }
    }

    /// The journal refuses writes (ENOSPC) when a hook's delivered mark is written: the worker keeps retrying the
    /// mark, and shutdown still ends shortly after its deadline (the event stays pending for the restart).
    @Test func shutdownEndsWhileTheJournalRefusesMarks() async throws {
        let faults = SyscallFaults()
        let harness = try DeliveryHarness(faults: faults)
        defer { harness.remove() }
        let started = harness.directory + "/started"
        let out = harness.directory + "/runs.txt"
        try harness.configure([shellSink("hook", "touch \(started); sleep 0.5; cat >> \(out)", attempts: 1)])
        #expect(
            await harness.accept(id: "evt-0-0", body: paymentBody(payment: 0, number: 0), sinks: ["hook"]) != nil
        )
        while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(10)) }
        faults.fail("pwrite", errno: ENOSPC)
        try await Task.sleep(for: .seconds(1))  // The hook ends; its mark fails and is retried.
        let stopped = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    harness.dispatcher.drain(deadline: .now() + 1) { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(8))
                return false
            }
            let first = await group.next()!
            if !first { faults.clear() }  // Lets the hung drain end, so the test process does not leak it.
            _ = await group.next()
            return first
        }
        harness.store.close()
        #expect(stopped, "shutdown (grace 1 s) still draining after 8 s while the journal refuses marks")
    }
}
