import Delivery
import Dispatch
import EventStore
import Foundation
import Synchronization
import TestSupport
import Testing

/// An event whose delivered mark was lost after its dead letter was written, re-fed from the journal while the
/// operator's `dead-letters retry` of that letter runs: `ExecSinkWorker.refeed` settles the event only while
/// `holdsDeadLetter` sees the letter, so a successful retry records the delivery (durably) before it removes the
/// letter. Were the letter removed first, a re-feed in between would run the hook a second time.
@Suite("dead-letter retry against a journal re-feed")
struct DeadLetterRetryRefeedWindowTests {
    @Test("a successful retry's event is never both still pending and without its letter")
    func successfulRetryRecordsTheDeliveryBeforeRemovingTheLetter() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-retry-window")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        defer { store.close() }
        let stored = try #require(
            await store.accept(id: "evt-window", body: ExecAndDeadLetterFaultTests.payment, sinks: ["hook"]).storedEvent
        )
        let (dispatcher, deadLetters) = try ExecDispatcherTests.dispatcher(
            ["/bin/true"],
            dir: dir,
            maxAttempts: 1
        )
        // The letter was written before a crash lost the event's delivered mark: the event is still pending.
        let name = try deadLetters.write(
            ExecAndDeadLetterFaultTests.letter(of: stored)
        )
        #expect(dispatcher.holdsDeadLetter(of: stored), "precondition: a re-feed now would settle it")
        #expect(try store.isPending(stored, sink: "hook"))
        // The operator's retry; what a re-feed would see at the moment the requeue learns the outcome (before its
        // mark, which it only asks for after this).
        let seen = Mutex<(pending: Bool, holds: Bool)?>(nil)
        let seenBeforeRemoval = Mutex<Bool?>(nil)
        let outcome: ExecDeliveryOutcome = await withCheckedContinuation { continuation in
            do {
                _ = try dispatcher.retryDeadLetter(
                    named: name,
                    whenDelivered: { letter, recorded in
                        // As `DeadLetterRequeue` does: the mark, durable, while the letter is still there.
                        let held = dispatcher.holdsDeadLetter(of: stored)
                        store.markDelivered(sequence: letter.event.sequence, sink: letter.sink) { _ in
                            seenBeforeRemoval.withLock { $0 = held }
                            // Off the store's queue, as `DeadLetterRequeue` calls it: the completion asks the store.
                            DispatchQueue.global().async { recorded(true) }
                        }
                    }
                ) { outcome in
                    seen.withLock {
                        let pending = (try? store.isPending(stored, sink: "hook")) ?? true
                        $0 = (pending, dispatcher.holdsDeadLetter(of: stored))
                    }
                    continuation.resume(returning: outcome)
                }
            } catch {
                Issue.record("\(error)")
            }
        }
        guard case .delivered = outcome else {
            Issue.record("retry: \(outcome)")
            return
        }
        let state = try #require(seen.withLock { $0 })
        #expect(seenBeforeRemoval.withLock { $0 } == true, "the delivery is recorded while the letter is still there")
        #expect(!state.holds, "the letter is removed once the delivery is recorded")
        // pending && !holds: ExecSinkWorker.refeed would enqueue the event and run the hook again.
        #expect(
            !(state.pending && !state.holds),
            "hook already run by the retry, letter removed, event still pending: a re-feed would run it again"
        )
    }
}
