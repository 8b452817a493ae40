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

    /// The state both tests start from: `hook` owed an event that is also its dead letter (the mark after the
    /// dead-lettering was lost), the journal's `failing` call refusing writes (a full disk) before the dispatcher
    /// starts, so its re-feed cannot settle the event either, and the operator's retry marker for the letter.
    private struct PendingLetter {
        let directory: String
        let faults = SyscallFaults()
        let hook: RecordingHook
        let store: EventStore
        let deadLetters: DeadLetterStore
        let definition: SinkDefinition
        let stored: StoredEvent
        let dispatcher: DeliveryDispatcher
        let log = CapturedLog(level: .notice)
        let requeue: DeadLetterRequeue

        /// The journal's segment, moved away by `hideSegment` (its record then cannot be read).
        var segment: String { directory + "/journal/segment-000000000001.log" }

        init(
            in directory: String,
            failing call: String,
            hideSegment: Bool = false,
            hookRan: Bool = false
        ) async throws {
            self.directory = directory
            hook = try RecordingHook(in: directory, faults: faults)
            (store, deadLetters, definition) = (hook.store, hook.deadLetters, hook.definition)
            stored = try #require(
                await store.accept(id: "evt-markfail", body: ExecAndDeadLetterFaultTests.payment, sinks: ["hook"])
                    .storedEvent
            )
            let name = try deadLetters.write(ExecAndDeadLetterFaultTests.letter(of: stored))
            faults.fail(call, errno: ENOSPC)
            let segment = directory + "/journal/segment-000000000001.log"
            if hideSegment { #expect(rename(segment, segment + ".away") == 0) }
            dispatcher = try ExecAndDeadLetterFaultTests.delivery(
                store: store,
                deadLetters: deadLetters,
                hook: definition
            )
            // As an earlier retry leaves a letter whose hook ran while the journal could not record it.
            if hookRan { try HookRanMarkers(deadLetters: deadLetters).create(name) }
            try RequeueMarkers(deadLetters: deadLetters).create(name)
            requeue = hook.startRequeue(feeding: dispatcher, store: store, log: log)
        }

        var runs: Int { hook.runs }

        func logged(_ prefix: String) -> Bool {
            log.messages.contains { $0.message.hasPrefix(prefix) }
        }

        func drain(_ dispatcher: DeliveryDispatcher) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                dispatcher.drain(deadline: .now() + .seconds(2)) { continuation.resume() }
            }
        }

        /// Closes the journal, opens it again with the disk mended and lets a new dispatcher re-feed `hook`.
        func restart() async throws -> (store: EventStore, holdsLetter: Bool) {
            await drain(dispatcher)
            store.close()
            faults.clear()
            if access(segment, F_OK) != 0 { #expect(rename(segment + ".away", segment) == 0) }
            let reopened = try EventStore(
                directory: directory + "/journal",
                options: testOptions(),
                logger: testLogger
            )
            let restarted = try ExecAndDeadLetterFaultTests.delivery(
                store: reopened,
                deadLetters: deadLetters,
                hook: definition
            )
            _ = await eventually(within: 10) { !((try? reopened.isPending(stored, sink: "hook")) ?? true) }
            await drain(restarted)
            return (reopened, deadLetters.holds(stored, sink: "hook"))
        }
    }

    @Test(
        "a dead-letter retry whose delivered mark fails (disk full) keeps its letter until the mark succeeds, then removes it",
        .timeLimit(.minutes(10))
    )
    func retryWhoseMarkFailsKeepsItsLetterUntilRecorded() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        // A failed write the journal can undo: it takes the next one.
        let state = try await PendingLetter(in: temporary.path, failing: "pwrite")
        let triedToRecord = await eventually(within: 10) { state.logged("cannot record deliveries; trying again") }
        #expect(triedToRecord, "the retry's mark failed: \(state.log.messages.map(\.message))")
        #expect(state.runs == 1, "the retry ran the hook once")
        #expect(try state.store.isPending(state.stored, sink: "hook"), "the full disk keeps the event pending")
        #expect(state.deadLetters.holds(state.stored, sink: "hook"), "its letter stays while the mark fails")
        #expect(!state.logged("dead letter delivered"), "the retry is not over while its delivery is unrecorded")

        // The disk has room again: the mark goes through, then the letter goes.
        state.faults.clear()
        let removed = await eventually(within: 10) {
            state.logged("dead letter delivered; its file is removed")
                && !state.deadLetters.holds(state.stored, sink: "hook")
        }
        #expect(removed, "letter removed once the delivery is recorded: \(state.log.messages.map(\.message))")
        #expect(try !state.store.isPending(state.stored, sink: "hook"), "the delivery is recorded")

        let (reopened, holdsLetter) = try await state.restart()
        defer { reopened.close() }
        #expect(state.runs == 1, "hook runs of the one event after the restart: \(state.runs)")
        #expect(!holdsLetter, "no dead letter is left for an event delivered once")
    }

    @Test(
        "a dead-letter retry whose delivered mark the journal refuses until its restart keeps its letter: the restart settles the event, not runs it",
        .timeLimit(.minutes(10))
    )
    func retryWhoseMarkFailsUntilShutdownKeepsItsLetter() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        // A failed flush the journal cannot undo: it refuses every write until the restart.
        let state = try await PendingLetter(in: temporary.path, failing: "fdatasync")
        try await Self.expectKeptLetterSettledByRestart(state)
        // The requeue's log only: the restart settles the event, it never delivers it again.
        let contradicting = state.log.messages.map(\.message).filter { $0.contains("happen again after the restart") }
        #expect(
            contradicting.isEmpty,
            "the operator is told both that the hook must not run again and that it will: \(contradicting)"
        )
    }

    @Test(
        "a dead-letter retry that cannot read whether its event is still pending keeps its letter: the restart settles the event, not runs it",
        .timeLimit(.minutes(10))
    )
    func retryThatCannotReadTheJournalKeepsItsLetter() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        // The record of the event cannot be read (its segment is gone for a moment), so neither the re-feed nor the
        // retry can tell whether the journal still owes the event to the hook.
        let state = try await PendingLetter(in: temporary.path, failing: "pwrite", hideSegment: true)
        try await Self.expectKeptLetterSettledByRestart(state)
        #expect(state.logged("cannot tell whether the event is still pending"), "the read failure is logged")
    }

    /// The retry's hook ran once and its delivery could not be recorded: the kept letter is reported, stays, and the
    /// restart's re-feed settles the event without running the hook again.
    private static func expectKeptLetterSettledByRestart(_ state: PendingLetter) async throws {
        let keptLogged = await eventually(within: 10) {
            state.logged("dead letter delivered, but its delivery could not be recorded")
        }
        #expect(keptLogged, "the kept letter is reported: \(state.log.messages.map(\.message))")
        #expect(state.runs == 1, "the retry ran the hook once")
        #expect(state.deadLetters.holds(state.stored, sink: "hook"), "the letter stays")
        let (reopened, holdsLetter) = try await state.restart()
        defer { reopened.close() }
        #expect(holdsLetter, "the letter stays: the event was pending in the journal")
        #expect(try !reopened.isPending(state.stored, sink: "hook"), "the restart's re-feed settles the event")
        #expect(state.runs == 1, "hook runs of the one event: \(state.runs) (the retry's only)")

        // The operator retries the kept letter (`retry --all`): it goes, its hook is not run a second time.
        let names = try state.deadLetters.list()
        let name = try #require(names.first, "the kept letter")
        let hookRan = HookRanMarkers(deadLetters: state.deadLetters)
        #expect(hookRan.contains(name), "the kept letter is marked as run")
        let dispatcher = try ExecAndDeadLetterFaultTests.delivery(
            store: reopened,
            deadLetters: state.deadLetters,
            hook: state.definition
        )
        let log = CapturedLog(level: .notice)
        try RequeueMarkers(deadLetters: state.deadLetters).create(name)
        let requeue = state.hook.startRequeue(feeding: dispatcher, store: reopened, log: log)
        let removed = await eventually(within: 10) {
            log.messages.contains { $0.message.hasPrefix("dead letter whose hook had already run removed") }
        }
        await state.drain(dispatcher)
        withExtendedLifetime(requeue) {}
        #expect(removed, "the retry of a letter whose hook ran: \(log.messages.map(\.message))")
        #expect(try state.deadLetters.list().isEmpty, "the letter is gone")
        #expect(!hookRan.contains(name), "its mark is gone with it")
        #expect(state.runs == 1, "hook runs of the one event after its retry: \(state.runs)")
    }

    /// On a full disk (ext4), an empty file can still be made in an existing folder, but a new folder cannot
    /// (`mkdir` needs a block: ENOSPC). A full disk is what keeps a retry's mark failing until the shutdown, whose
    /// drain then marks the kept letter as run: the folder must be there by then.
    @Test("the folder of hook-ran markers exists once the requeue has started, before any marker is needed")
    func hookRanFolderIsMadeAtStart() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        let fixture = try RecordingHook(in: temporary.path)
        defer { fixture.store.close() }
        let dispatcher = try ExecAndDeadLetterFaultTests.delivery(
            store: fixture.store,
            deadLetters: fixture.deadLetters,
            hook: fixture.definition
        )
        let requeue = fixture.startRequeue(feeding: dispatcher, store: fixture.store, log: CapturedLog(level: .notice))
        defer { withExtendedLifetime(requeue) {} }
        var info = stat()
        let made =
            stat(fixture.deadLetters.directory + "/hook-ran", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        #expect(
            made,
            "dead-letters/hook-ran/ is made only when the first marker is, which a full disk refuses (ENOSPC)"
        )
    }

    @Test(
        "a shutdown while the retry of a letter whose hook has run tries its mark again (disk full) leaves the retry asked for the next start",
        .timeLimit(.minutes(10))
    )
    func shutdownDuringASettlingRetryLeavesItsMarker() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        let state = try await PendingLetter(in: temporary.path, failing: "pwrite", hookRan: true)
        let name = try #require(try state.deadLetters.list().first)
        let requeueMarkers = RequeueMarkers(deadLetters: state.deadLetters)
        let retrying = await eventually(within: 10) {
            state.logged("cannot record deliveries; trying again") && !requeueMarkers.contains(name)
        }
        #expect(retrying, "the settling retry's mark is tried again: \(state.log.messages.map(\.message))")
        #expect(state.runs == 0, "the hook is not run for a letter whose hook has run")

        // SIGTERM, as `Daemon.shutdown` does it: drain the dispatcher, close the journal, then `exit(0)` at once.
        await state.drain(state.dispatcher)
        state.store.close()
        let atExit = requeueMarkers.contains(name)
        let ended = await eventually(within: 5) {
            state.logged("dead letter's hook has run, but its delivery still cannot be recorded")
                || state.logged("dead letter retry interrupted")
        }
        #expect(ended, "the settling retry ends: \(state.log.messages.map(\.message))")
        #expect(state.deadLetters.holds(state.stored, sink: "hook"), "the letter stays")
        #expect(
            atExit,
            """
            the operator's retry, cut short by the shutdown, is not asked for again by the time the daemon exits (an \
            interrupted retry's marker is left for the next start): the letter waits for another `retry`; logged: \
            \(state.log.messages.map(\.message))
            """
        )
    }

    @Test(
        "a shutdown while a dead-letter retry's delivered mark is tried again (disk full) reports the kept letter before the journal closes",
        .timeLimit(.minutes(10))
    )
    func shutdownDuringARetriedMarkReportsTheKeptLetter() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-dead-letter-marks")
        defer { temporary.remove() }
        let state = try await PendingLetter(in: temporary.path, failing: "pwrite")
        let retrying = await eventually(within: 10) { state.logged("cannot record deliveries; trying again") }
        #expect(retrying, "the retry's mark is tried again: \(state.log.messages.map(\.message))")
        #expect(state.runs == 1, "the retry ran the hook once")

        // SIGTERM, as `Daemon.shutdown` does it: drain the dispatcher, close the journal, then `exit(0)` at once.
        await state.drain(state.dispatcher)
        state.store.close()
        let atExit = state.log.messages.map(\.message)
        #expect(state.deadLetters.holds(state.stored, sink: "hook"), "the letter stays (the restart settles the event)")
        #expect(
            atExit.contains { $0.hasPrefix("dead letter delivered, but its delivery could not be recorded") },
            """
            by the time the journal closes (the daemon exits next) nothing says that the kept letter's hook has run: \
            after the restart it is an ordinary dead letter, and its retry runs the hook a second time; logged so far: \
            \(atExit)
            """
        )
        // Only the next attempt, a second later, finds the journal closed and tells it: in the daemon, after exit(0).
        let lateReport = await eventually(within: 5) {
            state.logged("dead letter delivered, but its delivery could not be recorded")
        }
        #expect(lateReport, "the report comes, but late")
    }
}
