import Dispatch
import EventStore
import Foundation
import Logging
import TestSupport
import Testing

@testable import Delivery

/// An event whose delivered mark was lost after its dead letter was written, claimed by the journal re-feed
/// (`DeliveryDispatcher.refeed`: `JournalFeed.next` claims a page, reads and decodes it, then hands it to the
/// worker) while the operator's `dead-letters retry` of that letter ends: the retry marks the event delivered and
/// removes the letter in between. The worker then finds no letter (`holdsDeadLetter`) and must not run the hook
/// again.
@Suite("dead-letter retry against a re-feed page claimed before its mark")
struct DeadLetterRetryClaimedRefeedTests {
    @Test(
        "an event the re-feed claimed before a retry recorded it and removed its letter is not run again",
        .timeLimit(.minutes(10))
    )
    func pageClaimedBeforeTheRetryDoesNotRunTheHookAgain() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-retry-claimed")
        defer { temporary.remove() }
        let fixture = try RecordingHook(in: temporary.path)
        let (store, deadLetters, definition) = (fixture.store, fixture.deadLetters, fixture.definition)
        defer { store.close() }
        var runs: Int { fixture.runs }
        // Journaled for the hook, dead-lettered, its delivered mark lost (a crash): pending, and a letter.
        let stored = try #require(
            await store.accept(id: "evt-claimed", body: ExecAndDeadLetterFaultTests.payment, sinks: ["hook"])
                .storedEvent
        )
        let name = try deadLetters.write(ExecAndDeadLetterFaultTests.letter(of: stored))

        // The re-feed's first step: the page holding the event is claimed for the sink (the event is out) ...
        store.feedFromJournal(sink: "hook")
        let page = try store.journalFeed().next(sink: "hook", maxEvents: 16, maxBytes: 1 << 20, caughtUp: {})
        #expect(page.map(\.sequence) == [stored.sequence])

        // ... and before the page reaches the worker, the operator's retry ends: hook run, delivery recorded (the
        // event was still pending), letter removed.
        let dispatcher = try ExecAndDeadLetterFaultTests.delivery(
            store: store,
            deadLetters: deadLetters,
            hook: definition
        )
        let log = CapturedLog(level: .notice)
        try RequeueMarkers(deadLetters: deadLetters).create(name)
        let requeue = fixture.startRequeue(feeding: dispatcher, store: store, log: log)
        defer { withExtendedLifetime(requeue) {} }
        let retried = await eventually(within: 10) {
            log.messages.contains { $0.message.hasPrefix("dead letter delivered; its file is removed") }
        }
        #expect(retried, "the retry ran: \(log.messages.map(\.message))")
        #expect(runs == 1, "the retry ran the hook once")
        #expect(try !store.isPending(stored, sink: "hook"), "the retry recorded the delivery")

        // The claimed page reaches the worker (`ExecSinkWorker.refeed`), as the re-feed hands it over.
        let worker = try #require(dispatcher.current["hook"] as? ExecSinkWorker)
        worker.refeed(page.map(DeliverableEvent.init(decoding:)))
        let ranAgain = await eventually(within: 3) { runs > 1 }
        #expect(!ranAgain, "hook runs of the one event: \(runs) (the retry's, then the re-feed's)")
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now() + .seconds(2)) { continuation.resume() }
        }
    }
}
