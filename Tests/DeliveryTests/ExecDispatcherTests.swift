import Delivery
import Dispatch
import EventStore
import Foundation
import Glibc
import Logging
import POSIX
import TestSupport
import Testing

@Suite("ExecDispatcher")
struct ExecDispatcherTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func event(_ sequence: UInt64, reference: String) -> StoredEvent {
        StoredEvent(
            sequence: sequence,
            id: "evt-\(sequence)",
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1_700_000_000_000,
            body: Array(#"{"reference":"\#(reference)"}"#.utf8)
        )
    }

    static func context(reference: String) -> ExecSinkContext {
        ExecSinkContext(
            fields: { $0 == "reference" ? reference : nil },
            variables: ["VIPPS_REFERENCE": reference],
            line: Array(#"{"reference":"\#(reference)"}"#.utf8)
        )
    }

    static func dispatcher(
        _ argv: [String],
        dir: String,
        maxAttempts: Int,
        concurrency: Int = 4,
        timeout: Duration = .seconds(5),
        capacity: Int = 100
    ) throws -> (ExecDispatcher, DeadLetterStore) {
        let configuration = ExecSinkConfiguration(
            name: "hook",
            argv: argv,
            timeout: timeout,
            maxAttempts: maxAttempts,
            concurrency: concurrency,
            queueCapacity: capacity,
            terminationGrace: .zero
        )
        let store = try DeadLetterStore(stateDirectory: "\(dir)/state")
        let dispatcher = ExecDispatcher(
            sink: try ExecSink(configuration: configuration, runner: ProcessRunner(), logger: logger),
            retryPolicy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(10), jitter: .none),
            deadLetters: store,
            logger: logger
        )
        return (dispatcher, store)
    }

    static func deliver(
        _ dispatcher: ExecDispatcher,
        _ event: StoredEvent,
        reference: String,
        key: String? = nil
    )
        async -> ExecDeliveryOutcome
    {
        await withCheckedContinuation { continuation in
            let result = dispatcher.submit(event, context: context(reference: reference), orderingKey: key) {
                continuation.resume(returning: $0)
            }
            if result != .accepted { continuation.resume(returning: .pending(attempts: 0, reason: "\(result)")) }
        }
    }

    /// Submits `event` now, so that the queue has it before anything submitted after this call, and returns a task
    /// waiting for its outcome (a task started with `async let` may submit only when a thread is free for it).
    static func submitted(
        _ dispatcher: ExecDispatcher,
        _ event: StoredEvent,
        reference: String,
        key: String?
    ) -> Task<ExecDeliveryOutcome, Never> {
        let (outcomes, continuation) = AsyncStream.makeStream(of: ExecDeliveryOutcome.self)
        let result = dispatcher.submit(event, context: context(reference: reference), orderingKey: key) {
            continuation.yield($0)
            continuation.finish()
        }
        if result != .accepted {
            continuation.yield(.pending(attempts: 0, reason: "\(result)"))
            continuation.finish()
        }
        return Task {
            for await outcome in outcomes { return outcome }
            return .pending(attempts: 0, reason: "no outcome")
        }
    }

    @Test("a hook failing twice then succeeding runs exactly three times")
    func retriesUntilSuccess() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script(
            "n=$(cat \(dir)/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(dir)/count; [ $n -ge 3 ]",
            in: dir
        )
        let (dispatcher, store) = try Self.dispatcher([hook], dir: dir, maxAttempts: 5)
        let outcome = await Self.deliver(dispatcher, Self.event(1, reference: "r1"), reference: "r1")
        #expect(outcome == .delivered(attempts: 3))
        #expect(ExecTestSupport.read("\(dir)/count") == "3")
        #expect(try store.list().isEmpty)
        // The outcome is reported just before the job leaves the queue.
        #expect(await eventually(within: 10) { dispatcher.depth == 0 })
    }

    @Test("an always-failing hook ends in the dead letters with its last error and can be re-queued")
    func deadLetterAndRequeue() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script(
            "echo run >> \(dir)/runs\n[ -e \(dir)/fixed ] && exit 0\necho \"no stock for $1\" >&2\nexit 4",
            in: dir
        )
        let (dispatcher, store) = try Self.dispatcher([hook, "{reference}"], dir: dir, maxAttempts: 3)
        let event = Self.event(42, reference: "order-9")
        let outcome = await Self.deliver(dispatcher, event, reference: "order-9")
        let failure = ExecSinkFailure(kind: .exit, exitCode: 4, message: "exit 4", stderrTail: "no stock for order-9\n")
        let name = DeadLetterStore.fileName(sequence: 42, sink: "hook", eventID: event.id)
        #expect(outcome == .deadLettered(attempts: 3, lastError: failure, name: name))
        #expect(ExecTestSupport.read("\(dir)/runs")?.split(separator: "\n").count == 3)
        let names = try store.list()
        #expect(names == [name])
        let letter = try store.load(names[0])
        #expect(letter.event == event)
        #expect(letter.attempts == 3)
        #expect(letter.lastError == failure)

        #expect(FileManager.default.createFile(atPath: "\(dir)/fixed", contents: nil))
        let again: ExecDeliveryOutcome = try await withCheckedThrowingContinuation { continuation in
            do {
                try dispatcher.retryDeadLetter(named: names[0]) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
        #expect(again == .delivered(attempts: 1))
        #expect(try store.list().isEmpty)
    }

    @Test("same key: a slow, retrying first event finishes before the second starts; another key runs meanwhile")
    func perKeyOrdering() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script(
            """
            echo "start $1" >> \(dir)/log
            if [ "$1" = authorized ]; then
              n=$(cat \(dir)/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(dir)/count
              # Runs until the other key's hook has ended (at most 10 s): that one must not wait for this one.
              i=0; while [ $i -lt 100 ] && ! grep -q "end other" \(dir)/log; do sleep 0.1; i=$((i+1)); done
              if [ $n -lt 2 ]; then echo "fail $1" >> \(dir)/log; exit 1; fi
            fi
            echo "end $1" >> \(dir)/log
            """,
            in: dir
        )
        let (dispatcher, _) = try Self.dispatcher([hook, "{reference}"], dir: dir, maxAttempts: 3)
        // Submitted in this order, whatever the scheduler does: the authorized event first.
        let authorized = Self.submitted(
            dispatcher,
            Self.event(1, reference: "authorized"),
            reference: "authorized",
            key: "pay-1"
        )
        let captured = Self.submitted(
            dispatcher,
            Self.event(2, reference: "captured"),
            reference: "captured",
            key: "pay-1"
        )
        let other = Self.submitted(dispatcher, Self.event(3, reference: "other"), reference: "other", key: "pay-2")
        let outcomes = [await authorized.value, await captured.value, await other.value]
        #expect(outcomes == [.delivered(attempts: 2), .delivered(attempts: 1), .delivered(attempts: 1)])
        let log = try #require(ExecTestSupport.read("\(dir)/log")).split(separator: "\n").map(String.init)
        #expect(
            log.filter { $0.hasSuffix(" authorized") } == [
                "start authorized", "fail authorized", "start authorized", "end authorized",
            ]
        )
        let index = { (entry: String) in log.lastIndex(of: entry) ?? -1 }
        #expect(index("end authorized") < index("start captured"))
        #expect(index("end other") < log.firstIndex(of: "fail authorized") ?? -1)
    }

    @Test("a timed-out hook is killed with its children and retried, then dead-lettered as a timeout")
    func timeoutKillsChildren() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script("sleep 30 &\necho $! >> \(dir)/children\nwait", in: dir)
        // Room for a loaded machine to start the shell and its child, and write the pid, before the deadline.
        let (dispatcher, _) = try Self.dispatcher([hook], dir: dir, maxAttempts: 2, timeout: .seconds(2))
        let outcome = await Self.deliver(dispatcher, Self.event(5, reference: "r"), reference: "r")
        guard case .deadLettered(let attempts, let error, _) = outcome else {
            Issue.record("expected a dead letter, got \(outcome)")
            return
        }
        #expect(attempts == 2)
        #expect(error.kind == .timeout)
        let children = try #require(ExecTestSupport.read("\(dir)/children")).split(separator: "\n").compactMap {
            Int32($0)
        }
        #expect(children.count == 2)
        for child in children {
            #expect(await ExecTestSupport.processEnds(child))
        }
    }

    @Test("drain: queued events end pending at once, hooks running past the deadline are killed and end pending")
    func drainAtShutdown() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        // The hook reports its pid, then never ends by itself: a full test run can leave this test's task
        // waiting for a thread for over a minute, and a hook that exited 0 meanwhile would be delivered. Only the
        // drain may end it; if the drain fails to, the test kills it and fails instead of hanging.
        let started = "\(dir)/started"
        let (dispatcher, store) = try Self.dispatcher(
            ["/bin/sh", "-c", "echo $$ > \(started).partial; mv \(started).partial \(started); exec /bin/sleep 86400"],
            dir: dir,
            maxAttempts: 1,
            concurrency: 1,
            // Far beyond any wait for a thread: a full run under load kept this test's task waiting 200 s, the hook
            // timed out first (120 s then) and was dead-lettered instead of killed by the drain.
            timeout: .seconds(3600),
            capacity: 2
        )
        let outcomes = EventLog()
        let done = DispatchGroup()
        for sequence in 1...2 {
            done.enter()
            let result = dispatcher.submit(
                Self.event(UInt64(sequence), reference: "r"),
                context: Self.context(reference: "r"),
                orderingKey: nil
            ) {
                outcomes.append("\(sequence) \($0)")
                done.leave()
            }
            #expect(result == .accepted)
        }
        #expect(
            dispatcher.submit(Self.event(3, reference: "r"), context: Self.context(reference: "r"), orderingKey: nil) {
                _ in
            } == .full
        )
        let deadline = ContinuousClock.now + .seconds(30)
        while !FileManager.default.fileExists(atPath: started), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try #require(FileManager.default.fileExists(atPath: started), "the first hook never started")
        let killed: Int = await withCheckedContinuation { continuation in
            dispatcher.drain(deadline: .now() + .milliseconds(50)) { continuation.resume(returning: $0) }
        }
        #expect(killed == 1)
        #expect(outcomes.all.count == 2, "the drain ends after the outcome of the hook it killed: \(outcomes.all)")
        let ended = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: done.wait(timeout: .now() + 120) == .success)
            }
        }
        if !ended, let pid = ExecTestSupport.read(started).flatMap({ Int32($0) }) {
            kill(pid, SIGKILL)  // The hook whose outcome never came: most likely still sleeping.
        }
        try #require(ended, "the killed hook's outcome never came")
        #expect(Set(outcomes.all.map { String($0.prefix(10)) }) == ["1 pending(", "2 pending("])
        #expect(try store.list().isEmpty)
    }

    @Test("12 concurrent hooks complete without reaching their timeouts (event-driven)")
    func twelveConcurrentHooks() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-test")
        defer { temporary.remove() }
        let dir = temporary.path
        // Run one after another, the last would end after 12 s, past its 6 s; run together each ends after about
        // 1 s, with 5 s to spare for twelve spawns on a loaded machine.
        let (dispatcher, _) = try Self.dispatcher(
            ["/bin/sleep", "1"],
            dir: dir,
            maxAttempts: 1,
            concurrency: 12,
            timeout: .seconds(6)
        )
        let outcomes = await withTaskGroup(of: ExecDeliveryOutcome.self) { group in
            for sequence in 1...12 {
                group.addTask {
                    await Self.deliver(
                        dispatcher,
                        Self.event(UInt64(sequence), reference: "r\(sequence)"),
                        reference: "r\(sequence)",
                        key: "r\(sequence)"
                    )
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 12)
        #expect(outcomes.allSatisfy { $0 == .delivered(attempts: 1) })
    }
}
