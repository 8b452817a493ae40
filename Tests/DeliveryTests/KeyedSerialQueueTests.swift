import Delivery
import Dispatch
import Foundation
import Synchronization
import TestSupport
import Testing

/// A thread-safe event log for the tests.
final class EventLog: Sendable {
    private struct State {
        var entries: [String] = []
        var running = 0
        var maxRunning = 0
    }

    private let state = Mutex(State())

    /// The most jobs that ran at the same time.
    var maxRunning: Int { state.withLock { $0.maxRunning } }
    func append(_ entry: String) { state.withLock { $0.entries.append(entry) } }
    var all: [String] { state.withLock { $0.entries } }
    func enter() {
        state.withLock {
            $0.running += 1
            $0.maxRunning = max($0.maxRunning, $0.running)
        }
    }
    func leave() { state.withLock { $0.running -= 1 } }
    func index(_ entry: String) -> Int? { all.firstIndex(of: entry) }
}

@Suite("KeyedSerialQueue")
struct KeyedSerialQueueTests {
    /// A job that logs start/end, takes `millis`, and asks for `retries` retries before finishing. With `awaiting`, its
    /// first attempt also runs until that entry is in the log (at most 10 s more): it runs while another job runs and
    /// ends, however late a loaded machine runs that one.
    static func job(
        _ name: String,
        log: EventLog,
        millis: Int,
        retries: Int = 0,
        awaiting awaited: String? = nil,
        done: @escaping @Sendable () -> Void
    )
        -> KeyedSerialQueue.Attempt
    {
        { attempt, finish in
            log.enter()
            log.append("start \(name) \(attempt)")
            let giveUp = DispatchTime.now() + .seconds(10)
            @Sendable func end() {
                if attempt == 1, let awaited, log.index(awaited) == nil, DispatchTime.now() < giveUp {
                    return DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(5), execute: end)
                }
                log.append("end \(name) \(attempt)")
                log.leave()
                if attempt <= retries {
                    finish(.retry(after: .milliseconds(10)))
                } else {
                    done()
                    finish(.done)
                }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(millis), execute: end)
        }
    }

    @Test("same key: strict order, retries included; other keys in parallel up to the cap")
    func orderingAndConcurrency() async {
        let queue = KeyedSerialQueue(concurrency: 2, capacity: 100)
        let log = EventLog()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            func add(_ name: String, key: String?, millis: Int, retries: Int = 0, awaiting: String? = nil) {
                group.enter()
                let result = queue.submit(
                    key: key,
                    run: Self.job(name, log: log, millis: millis, retries: retries, awaiting: awaiting) {
                        group.leave()
                    },
                    interrupted: { _ in Issue.record("interrupted") }
                )
                #expect(result == .accepted)
            }
            add("A1", key: "A", millis: 60, retries: 1, awaiting: "end B1 1")  // B1 runs beside it
            add("A2", key: "A", millis: 5)
            add("B1", key: "B", millis: 5)
            add("N1", key: nil, millis: 5)
            add("N2", key: nil, millis: 5)
            group.notify(queue: .global()) { continuation.resume() }
        }
        let order = log.all
        let index = { (entry: String) in order.firstIndex(of: entry) ?? -1 }
        #expect(index("end A1 1") < index("start A1 2"))
        #expect(index("end A1 2") < index("start A2 1"))
        #expect(index("end B1 1") < index("end A1 1"))
        #expect(log.maxRunning <= 2)
        // `finish(.done)` reaches the queue asynchronously, just after the jobs signalled the group.
        #expect(await eventually(within: 10) { queue.depth == 0 })
    }

    @Test(
        "a full queue answers .full at once; drain interrupts queued jobs and reports running ones",
        .timeLimit(.minutes(10))
    )
    func boundedAndDrain() async {
        let queue = KeyedSerialQueue(concurrency: 1, capacity: 2)
        let log = EventLog()
        let interrupted = EventLog()
        let nextInterrupted = DispatchGroup()
        nextInterrupted.enter()
        // The running job ends only when the test says so: no sleep races the scheduler.
        let slow = HeldAttempt(name: "slow", log: log)
        #expect(
            queue.submit(key: "K", run: slow.attempt, interrupted: { _ in interrupted.append("slow") }) == .accepted
        )
        #expect(
            queue.submit(
                key: "K",
                run: Self.job("next", log: log, millis: 5) {},
                interrupted: { n in
                    interrupted.append("next \(n)")
                    nextInterrupted.leave()
                }
            ) == .accepted
        )
        #expect(queue.submit(key: nil, run: Self.job("x", log: log, millis: 5) {}, interrupted: { _ in }) == .full)
        await wait(for: slow.started)

        let stillRunning: Int = await withCheckedContinuation { continuation in
            queue.drain(deadline: .now() + .milliseconds(20)) { continuation.resume(returning: $0) }
        }
        #expect(stillRunning == 1)
        #expect(queue.submit(key: nil, run: Self.job("y", log: log, millis: 5) {}, interrupted: { _ in }) == .draining)
        await wait(for: nextInterrupted)
        #expect(interrupted.all == ["next 0"])

        // The running job ends after the drain: it frees its place, and the interrupted job never starts.
        slow.finish(.done)
        #expect(queue.depth == 0)
        #expect(interrupted.all == ["next 0"])
        #expect(log.all == ["start slow 1"])
    }

    @Test("a drain completes only after every interrupted job's callback has returned", .timeLimit(.minutes(10)))
    func drainWaitsForInterruptedCallbacks() async {
        let queue = KeyedSerialQueue(concurrency: 1, capacity: 10)
        let log = EventLog()
        let interrupted = EventLog()
        let slow = HeldAttempt(name: "slow", log: log)
        #expect(queue.submit(key: "K", run: slow.attempt, interrupted: { _ in }) == .accepted)
        for number in 0..<5 {
            let run = Self.job("queued \(number)", log: log, millis: 5) {}
            let admitted = queue.submit(key: "K", run: run) { _ in
                // A slow callback (a worker giving the event back): the drain must not complete before it.
                Thread.sleep(forTimeInterval: 0.1)
                interrupted.append("queued \(number)")
            }
            #expect(admitted == .accepted)
        }
        await wait(for: slow.started)
        // The running job outlasts the deadline: the completion reports it, after the interrupted callbacks.
        let (stillRunning, seenAtCompletion): (Int, [String]) = await withCheckedContinuation { continuation in
            queue.drain(deadline: .now() + .milliseconds(30)) { continuation.resume(returning: ($0, interrupted.all)) }
        }
        slow.finish(.done)
        #expect(stillRunning == 1)
        #expect(seenAtCompletion.sorted() == (0..<5).map { "queued \($0)" })
    }

    @Test(
        "with stop, a drain completes after the stopped attempts have ended (an interrupted retry, or done)",
        .timeLimit(.minutes(10))
    )
    func drainWithStopWaitsForStoppedAttempts() async {
        let queue = KeyedSerialQueue(concurrency: 2, capacity: 10)
        let log = EventLog()
        let outcomes = EventLog()
        let killed = HeldAttempt(name: "killed", log: log)
        let exited = HeldAttempt(name: "exited", log: log)
        #expect(
            queue.submit(key: "a", run: killed.attempt, interrupted: { n in outcomes.append("killed \(n)") })
                == .accepted
        )
        #expect(
            queue.submit(key: "b", run: exited.attempt, interrupted: { _ in outcomes.append("exited?") }) == .accepted
        )
        await wait(for: killed.started)
        await wait(for: exited.started)
        // What `stop` starts ends each attempt a little later, on another thread, as a killed process is reaped.
        let stopped = EventLog()
        let (stillRunning, seenAtCompletion): (Int, [String]) = await withCheckedContinuation { continuation in
            queue.drain(
                deadline: .now() + .milliseconds(20),
                stopGrace: .seconds(60),  // the attempts' ends complete it, however late a loaded machine runs them
                stop: { running in
                    stopped.append("\(running)")
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
                        killed.finish(.retry(after: .zero))
                        exited.finish(.done)
                    }
                },
                completion: { continuation.resume(returning: ($0, outcomes.all)) }
            )
        }
        #expect(stillRunning == 2)
        #expect(stopped.all == ["2"])
        #expect(seenAtCompletion == ["killed 1"], "the killed job interrupted, the other done, before the completion")
        #expect(queue.depth == 0)
    }

    @Test(
        "with stop, a drain whose stopped attempt never ends completes after the stop grace",
        .timeLimit(.minutes(10))
    )
    func drainWithStopGivesUpAfterTheGrace() async {
        let queue = KeyedSerialQueue(concurrency: 1, capacity: 10)
        let log = EventLog()
        let stuck = HeldAttempt(name: "stuck", log: log)
        #expect(queue.submit(key: nil, run: stuck.attempt, interrupted: { _ in }) == .accepted)
        await wait(for: stuck.started)
        let stillRunning: Int = await withCheckedContinuation { continuation in
            queue.drain(deadline: .now() + .milliseconds(20), stopGrace: .milliseconds(50), stop: { _ in }) {
                continuation.resume(returning: $0)
            }
        }
        #expect(stillRunning == 1)
        #expect(queue.depth == 1, "the stuck attempt still holds its place")
        stuck.finish(.done)
        #expect(queue.depth == 0)
    }

    private func wait(for group: DispatchGroup) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { continuation.resume() }
        }
    }
}

/// One attempt that starts, signals `started`, and ends only when `finish` is called.
final class HeldAttempt: Sendable {
    /// Left when the attempt has started.
    let started = DispatchGroup()
    private let name: String
    private let log: EventLog
    private let pending = Mutex<(@Sendable (KeyedSerialQueue.Step) -> Void)?>(nil)

    init(name: String, log: EventLog) {
        self.name = name
        self.log = log
        started.enter()
    }

    /// The attempt to submit (it must run only once).
    var attempt: KeyedSerialQueue.Attempt {
        { [self] attempt, finish in
            log.append("start \(name) \(attempt)")
            pending.withLock { $0 = finish }
            started.leave()
        }
    }

    /// Ends the started attempt with `step`; the queue gets it before any later call on the queue.
    func finish(_ step: KeyedSerialQueue.Step) {
        pending.withLock { $0.take() }?(step)
    }
}
