import Delivery
import Dispatch
import EventStore
import Foundation
import Glibc
import Logging
import POSIX
import TestSupport
import Testing

/// Dead letters counted after a restart (a removed sink whose name looks like another's with a suffix), and a
/// dead-letter retry whose delivered mark fails (the letter stays, so a restart does not run the hook again).
@Suite("dead letters: counted after a restart, kept when a retry's mark fails")
struct DeadLetterRetryMarkFailureTests {
    /// As `Daemon.prepareMetrics` counts at start: exec sinks configured, plus `otherSinks(besides:)`.
    @Test("letters of removed sink fulfil-2 are counted for fulfil-2, not for configured sink fulfil")
    func otherSinksFindsARemovedSinkWithADigitSuffix() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        let store = try ExecAndDeadLetterFaultTests.storeWithALetterOfFulfil2(in: temporary)
        // Configured exec sinks after the operator removed "fulfil-2": only "fulfil".
        let configured = ["fulfil"]
        let others = try store.otherSinks(besides: configured)
        let counts = try store.waitingCounts(sinks: configured + others)
        #expect(others == ["fulfil-2"], "sinks no longer configured whose letters wait: \(others)")
        #expect(
            counts["fulfil"] == 0 && counts["fulfil-2"] == 1,
            "vipps_webhookd_dead_letters after the restart: \(counts) (fulfil has no letter)"
        )
    }

    @Test(
        "a dead-letter retry whose delivered mark fails (disk full) keeps its letter: the restart settles the event, not runs it",
        .timeLimit(.minutes(1))
    )
    func retryWhoseMarkFailsKeepsItsLetter() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        let dir = temporary.path
        let faults = SyscallFaults()
        var store = try EventStore(
            directory: dir + "/journal",
            options: testOptions(faults: faults),
            logger: testLogger
        )
        let deadLetters = try DeadLetterStore(stateDirectory: dir)
        let hook = try ExecTestSupport.script("echo \"$VIPPS_EVENT_ID\" >> \(dir)/runs\nexit 0", in: dir)
        let definition = SinkDefinition(
            name: "hook",
            kind: .exec(argv: [hook], timeoutSeconds: 10, maxAttempts: 1, concurrency: 1)
        )
        // The event is still pending for the hook (its mark after the dead-lettering was lost) and is a dead letter.
        let stored = try #require(
            await store.accept(id: "evt-markfail", body: ExecAndDeadLetterFaultTests.payment, sinks: ["hook"])
                .storedEvent
        )
        let name = try deadLetters.write(
            ExecAndDeadLetterFaultTests.letter(of: stored)
        )
        let dispatcher = try ExecAndDeadLetterFaultTests.delivery(
            store: store,
            deadLetters: deadLetters,
            hook: definition
        )
        #expect(store.isPending(stored, sink: "hook"), "precondition")

        // The disk is full for a moment (the journal refuses writes); the operator retries the letter meanwhile.
        faults.fail("fdatasync", errno: ENOSPC)
        try RequeueMarkers(deadLetters: deadLetters).create(name)
        let log = CapturedLog(level: .notice)
        let requeue = DeadLetterRequeue(
            deadLetters: deadLetters,
            dispatcher: dispatcher,
            store: store,
            logger: log.logger
        )
        requeue.start(interval: .milliseconds(50))
        let delivered = await eventually(within: 10) {
            log.messages.contains { $0.message == "dead letter delivered; its file is removed" }
        }
        #expect(delivered, "retry delivered: \(log.messages.map(\.message))")
        let markFailed = log.messages.contains { $0.message.hasPrefix("cannot record delivery") }
        let pendingWithoutLetter = store.isPending(stored, sink: "hook") && !deadLetters.holds(stored, sink: "hook")
        faults.clear()

        // The disk has room again; the daemon is restarted.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now() + .seconds(2)) { continuation.resume() }
        }
        store.close()
        store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        defer { store.close() }
        let restarted = try ExecAndDeadLetterFaultTests.delivery(
            store: store,
            deadLetters: deadLetters,
            hook: definition
        )
        try await Task.sleep(for: .seconds(2))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            restarted.drain(deadline: .now() + .seconds(2)) { continuation.resume() }
        }
        let runs = (ExecTestSupport.read("\(dir)/runs") ?? "").split(separator: "\n").count
        #expect(markFailed, "precondition: the delivered mark failed")
        #expect(
            !pendingWithoutLetter,
            "after the retry: event still pending for the sink and its letter removed (the mark failed, the letter went anyway)"
        )
        #expect(runs == 1, "hook runs of the one event: \(runs) (the retry's, then the restart's re-feed)")
    }
}
