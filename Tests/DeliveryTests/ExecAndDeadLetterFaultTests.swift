import Delivery
import Dispatch
import EventStore
import Foundation
import Glibc
import Logging
import POSIX
import TestSupport
import Testing
import VippsWebhooks

/// Exec sinks, retries, dead letters and their requeue under the faults that make a hook run twice or never: an
/// upgrade's dead letters, a crash between a dead letter and its mark, a journal that starts its sequence again, a
/// retry cut short by a drain, a field too long for the hook's environment.
@Suite("exec sinks and dead letters under faults")
struct ExecAndDeadLetterFaultTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A dead letter exactly as the release the CHANGELOG upgrades from (424e75c) wrote it: named
    /// `<sequence>-<sink>.json`, the event's id its `webhook-id`, no `source`.
    static func writeLegacyDeadLetter(
        in directory: String,
        sequence: UInt64,
        sink: String,
        body: String
    ) throws
        -> String
    {
        let digits = String(sequence)
        let name = String(repeating: "0", count: 20 - digits.count) + digits + "-\(sink).json"
        let json = """
            {
              "attempts" : 3,
              "dead_lettered_at_ms" : 1763900000000,
              "event" : {
                "body_base64" : "\(Data(body.utf8).base64EncodedString())",
                "endpoint" : "/vipps/epayment",
                "id" : "6f1d0c52-legacy-webhook-id",
                "received_at_ms" : 1763890000000,
                "sequence" : \(sequence),
                "type" : "epayments.payment.captured.v1"
              },
              "first_attempt_at_ms" : 1763890000000,
              "last_error" : {
                "exit_code" : 4,
                "kind" : "exit",
                "message" : "exit 4",
                "stderr_tail" : ""
              },
              "line" : "{}",
              "sink" : "\(sink)",
              "version" : 1
            }

            """
        #expect(FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data(json.utf8)))
        return name
    }

    /// A dispatcher over `store` and `deadLetters` feeding the sink `hook`, set up as the daemon sets it up.
    static func delivery(
        store: EventStore,
        deadLetters: DeadLetterStore,
        hook: SinkDefinition
    ) throws -> DeliveryDispatcher {
        let metrics = NoDeliveryMetrics()
        let dispatcher = DeliveryDispatcher(
            store: store,
            deadLetters: deadLetters,
            metrics: metrics,
            logger: testLogger
        )
        let factory = SinkFactory(
            store: store,
            deadLetters: deadLetters,
            runner: ProcessRunner(),
            metrics: metrics,
            logger: testLogger
        )
        dispatcher.install(try factory.workers(for: [hook], existing: [:]))
        return dispatcher
    }

    static func retry(_ dispatcher: ExecDispatcher, _ name: String) async throws -> ExecDeliveryOutcome {
        try await withCheckedThrowingContinuation { continuation in
            do {
                let result = try dispatcher.retryDeadLetter(named: name) { continuation.resume(returning: $0) }
                if result != .accepted { continuation.resume(returning: .pending(attempts: 0, reason: "\(result)")) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    static let payment = """
        {"msn":"123456","reference":"order-42","pspReference":"psp-42","name":"CAPTURED",\
        "amount":{"currency":"NOK","value":4200},"timestamp":"2026-11-20T10:00:00Z","success":true}
        """

    @Test(
        "upgrade: a dead letter of 424e75c that fails its retry again stays ONE dead letter, so a later retry runs the hook once"
    )
    func legacyDeadLetterFailingRetryIsNotDuplicated() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script(
            "[ -e \(dir)/fixed ] && { echo ok >> \(dir)/delivered; exit 0; }\nexit 4",
            in: dir
        )
        let (dispatcher, store) = try ExecDispatcherTests.dispatcher([hook], dir: dir, maxAttempts: 1)
        let legacy = try Self.writeLegacyDeadLetter(in: store.directory, sequence: 42, sink: "hook", body: Self.payment)
        #expect(try store.list() == [legacy])

        // The operator retries it; the hook still fails: the dead letter is rewritten (README: "if it fails again,
        // the dead letter is rewritten").
        let outcome = try await Self.retry(dispatcher, legacy)
        guard case .deadLettered = outcome else {
            Issue.record("expected the retry to end dead-lettered, got \(outcome)")
            return
        }
        let afterFailedRetry = try store.list()
        #expect(afterFailedRetry.count == 1, "one event, one sink: \(afterFailedRetry)")

        // Fixed, the operator retries everything listed (`dead-letters retry --all`): the hook must run once.
        #expect(FileManager.default.createFile(atPath: "\(dir)/fixed", contents: nil))
        for name in afterFailedRetry { _ = try await Self.retry(dispatcher, name) }
        let runs = ExecTestSupport.read("\(dir)/delivered")?.split(separator: "\n").count ?? 0
        #expect(runs == 1, "the hook ran \(runs) times for one event")
    }

    @Test("upgrade: a dead letter of 424e75c is counted in vipps_webhookd_dead_letters{sink}")
    func legacyDeadLetterIsCounted() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let store = try DeadLetterStore(stateDirectory: temporary.path)
        _ = try Self.writeLegacyDeadLetter(in: store.directory, sequence: 42, sink: "hook", body: Self.payment)
        _ = try Self.writeLegacyDeadLetter(in: store.directory, sequence: 43, sink: "fulfil-order", body: "{}")
        #expect(try store.list().count == 2)
        let counts = try store.waitingCounts(sinks: ["hook", "fulfil-order"])
        #expect(counts == ["hook": 1, "fulfil-order": 1])
    }

    @Test(
        "crash after the dead letter is durable but before the delivered mark: the restart leaves dead letter XOR delivery"
    )
    func deadLetterAndDeliveryAcrossACrash() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let dir = temporary.path
        let body = Array(Self.payment.utf8)
        let decoded = DecodedEvent.decode(body: body)

        // Before the crash: the event is journaled for the hook, and its hook gave up: the dead letter is written
        // (fsync of file and folder) but the process dies before the journal's delivered mark is synced.
        var store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        let accepted: AcceptOutcome = await withCheckedContinuation { continuation in
            store.accept(
                id: EventIdentity.id(body: body, decoded: decoded),
                type: decoded.type,
                endpoint: "/vipps/epayment",
                receivedAtMillis: 1_767_225_600_000,
                body: body,
                sinks: ["hook"]
            ) { continuation.resume(returning: $0) }
        }
        let event = try #require(accepted.storedEvent)
        let deadLetters = try DeadLetterStore(stateDirectory: dir)
        try deadLetters.write(
            DeadLetter(
                event: event,
                sink: "hook",
                attempts: 8,
                lastError: ExecSinkFailure(kind: .exit, exitCode: 1, message: "exit 1"),
                firstAttemptAtMillis: 1_767_225_600_000,
                deadLetteredAtMillis: 1_767_225_900_000,
                line: String(decoding: EventLine.render(event), as: UTF8.self)
            )
        )
        store.close()

        // The restart, with the hook working again.
        store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        let hook = try ExecTestSupport.script("echo \"$VIPPS_EVENT_ID\" >> \(dir)/runs", in: dir)
        let definition = SinkDefinition(
            name: "hook",
            kind: .exec(argv: [hook], timeoutSeconds: 10, maxAttempts: 8, concurrency: 1)
        )
        let dispatcher = try Self.delivery(store: store, deadLetters: deadLetters, hook: definition)
        let settled = await eventually(within: 10, every: 0.05) { store.owedPerSink.isEmpty }
        #expect(settled)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now() + 5) { continuation.resume() }
        }
        store.close()

        let runs = ExecTestSupport.read("\(dir)/runs")?.split(separator: "\n").count ?? 0
        let letters = try deadLetters.list()
        #expect(
            !(runs > 0 && !letters.isEmpty),
            "the hook ran \(runs) time(s) after the restart AND the dead letter \(letters) still waits: `dead-letters retry --all` runs the hook again"
        )
    }

    @Test(
        "an authentic event with one field over 128 KiB (max_body_bytes allows 16 MiB) still starts a hook that reads only stdin"
    )
    func longFieldDoesNotMakeTheHookUnstartable() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let dir = temporary.path
        let hook = try ExecTestSupport.script("cat > \(dir)/stdin", in: dir)
        let sink = try ExecSink(
            configuration: .init(
                name: "stdin-only",
                argv: [hook],
                timeout: .seconds(5),
                maxAttempts: 1,
                concurrency: 1
            ),
            runner: ProcessRunner(),
            logger: Self.logger
        )
        let address = String(repeating: "a", count: 200 * 1024)
        let body = """
            {"msn":"123456","reference":"order-1","pspReference":"psp-1","name":"CAPTURED",\
            "amount":{"currency":"NOK","value":100},"timestamp":"2026-11-20T10:00:00Z","success":true,\
            "shippingDetails":{"address":{"addressLine1":"\(address)"}}}
            """
        let stored = StoredEvent(
            sequence: 1,
            id: "evt-long",
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1_767_225_600_000,
            body: Array(body.utf8)
        )
        let event = DeliverableEvent(decoding: stored)
        let failure: ExecSinkFailure? = await withCheckedContinuation { continuation in
            sink.attempt(stored, context: ExecSinkContext(event), attempt: 1) { continuation.resume(returning: $0) }
        }
        #expect(failure == nil, "\(failure?.kind.rawValue ?? "") \(failure?.message ?? "")")
    }

    @Test(
        "a dead-letter retry cut short by a drain keeps its marker (README: left for the next start or scan)",
        .timeLimit(.minutes(10))
    )
    func interruptedRetriesKeepTheirMarkers() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let dir = temporary.path
        let store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        defer { store.close() }
        let deadLetters = try DeadLetterStore(stateDirectory: dir)
        // The hook outlives any wait of this test for a thread (minutes in a full run under load): only the drain
        // below may end it (a hook of 5 s once succeeded first, and its letter was delivered, not interrupted).
        let definition = SinkDefinition(
            name: "hook",
            kind: .exec(argv: ["/bin/sleep", "600"], timeoutSeconds: 900, maxAttempts: 1, concurrency: 1)
        )
        let dispatcher = try Self.delivery(store: store, deadLetters: deadLetters, hook: definition)

        let count = 40
        var names: [String] = []
        for sequence in 1...UInt64(count) {
            let event = StoredEvent(
                sequence: sequence,
                id: "evt-\(sequence)",
                type: "unknown",
                endpoint: "/vipps/epayment",
                receivedAtMillis: 1_767_225_600_000,
                body: Array(#"{"n":\#(sequence)}"#.utf8)
            )
            names.append(
                try deadLetters.write(
                    ExecAndDeadLetterFaultTests.letter(of: event)
                )
            )
        }
        let markers = RequeueMarkers(deadLetters: deadLetters)
        for name in names { try markers.create(name) }

        // The daemon scans every second; scanning often only makes the window easy to hit.
        let log = CapturedLog(level: .notice)
        let requeue = DeadLetterRequeue(
            deadLetters: deadLetters,
            dispatcher: dispatcher,
            store: store,
            logger: log.logger
        )
        requeue.start(interval: .milliseconds(2))
        #expect(await eventually(within: 10) { (try? markers.names().isEmpty) == true }, "all queued")

        // A shutdown (or a reload replacing the sink) cuts every retry short: one hook killed, the rest interrupted.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now() + .milliseconds(200)) { continuation.resume() }
        }
        // A killed hook's outcome (which marks its letter again) may come a moment after the drain's completion.
        _ = await eventually(within: 10) { (try? markers.names().count) == count }
        let left = try markers.names()
        let dropped = log.messages.filter { $0.message == "dead letter is being retried already; marker dropped" }.count
        #expect(
            left.count == count,
            "\(count - left.count) of \(count) interrupted retries lost their marker; \(dropped) 'marker dropped' notices"
        )
        #expect(try deadLetters.list().count == count)
    }

    @Test(
        "after the journal starts its sequence again, a delivered dead-letter retry never marks ANOTHER event delivered",
        .timeLimit(.minutes(10))
    )
    func deadLetterRetryMarksOnlyItsOwnEvent() async throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let dir = temporary.path
        // A fresh journal next to the dead letters of an earlier one (the case DeadLetterStore's names are built for).
        var store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        let deadLetters = try DeadLetterStore(stateDirectory: dir)
        // The old event's hook succeeds at once; the new event's hook outlasts any wait of this test for a thread
        // (minutes in a full run under load; 10 s could end, and deliver it, before the drain below).
        let hook = try ExecTestSupport.script(
            "echo \"$VIPPS_EVENT_ID\" >> \(dir)/runs\n[ \"$VIPPS_EVENT_ID\" = old-event ] && exit 0\nsleep 600",
            in: dir
        )
        let definition = SinkDefinition(
            name: "hook",
            kind: .exec(argv: [hook], timeoutSeconds: 900, maxAttempts: 3, concurrency: 2)
        )
        let dispatcher = try Self.delivery(store: store, deadLetters: deadLetters, hook: definition)

        // The new journal's first event, owed to the hook.
        let fresh = await store.accept(id: "new-event", body: #"{"new":true}"#, sinks: ["hook"])
        let event = try #require(fresh.storedEvent)
        #expect(event.sequence == 1)
        dispatcher.deliver(event, decoded: DecodedEvent.decode(body: event.body), to: ["hook"])
        #expect(await eventually(within: 20) { ExecTestSupport.read("\(dir)/runs")?.contains("new-event") == true })

        // An old dead letter with the same sequence number, retried by the operator.
        let old = StoredEvent(
            sequence: 1,
            id: "old-event",
            type: "unknown",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1_700_000_000_000,
            body: Array(#"{"old":true}"#.utf8)
        )
        let name = try deadLetters.write(
            DeadLetter(
                event: old,
                sink: "hook",
                attempts: 3,
                lastError: ExecSinkFailure(kind: .exit, exitCode: 1, message: "exit 1"),
                firstAttemptAtMillis: 1_700_000_000_000,
                deadLetteredAtMillis: 1_700_000_000_000,
                line: "{}"
            )
        )
        try RequeueMarkers(deadLetters: deadLetters).create(name)
        let requeue = DeadLetterRequeue(
            deadLetters: deadLetters,
            dispatcher: dispatcher,
            store: store,
            logger: testLogger
        )
        requeue.start(interval: .milliseconds(50))
        #expect(await eventually(within: 10) { (try? deadLetters.list().isEmpty) == true }, "old dead letter delivered")
        try await Task.sleep(for: .milliseconds(300))

        // The new event's hook has not succeeded: a restart now must still owe it to the hook.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now()) { continuation.resume() }
        }
        store.close()
        store = try EventStore(directory: dir + "/journal", options: testOptions(), logger: testLogger)
        defer { store.close() }
        #expect(
            store.owedPerSink["hook"] == 1,
            "event new-event (sequence 1) was never delivered by its hook but is no longer owed: \(store.owedPerSink)"
        )
    }

    /// The dead letter of `event` for sink `hook`, after one failed attempt.
    static func letter(of event: StoredEvent) -> DeadLetter {
        DeadLetter(
            event: event,
            sink: "hook",
            attempts: 1,
            lastError: ExecSinkFailure(kind: .exit, exitCode: 1, message: "exit 1"),
            firstAttemptAtMillis: 1_767_225_600_000,
            deadLetteredAtMillis: 1_767_225_600_000,
            line: "{}"
        )
    }

    /// A dead-letter folder in `directory` holding one letter, of sink `fulfil-2` (whose name also reads as sink
    /// `fulfil`'s with the suffix of a taken name).
    static func storeWithALetterOfFulfil2(in directory: TemporaryDirectory) throws -> DeadLetterStore {
        let store = try DeadLetterStore(stateDirectory: directory.path)
        let event = StoredEvent(
            sequence: 7,
            id: "evt-7",
            type: "unknown",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 1_767_225_600_000,
            body: Array("{}".utf8)
        )
        try store.write(
            DeadLetter(
                event: event,
                sink: "fulfil-2",
                attempts: 1,
                lastError: ExecSinkFailure(kind: .exit, exitCode: 1, message: "exit 1"),
                firstAttemptAtMillis: 0,
                deadLetteredAtMillis: 0,
                line: "{}"
            )
        )
        return store
    }

    @Test("vipps_webhookd_dead_letters{sink}: a letter of sink \"fulfil-2\" is not also counted for sink \"fulfil\"")
    func waitingCountsKeepSinksWithDigitSuffixesApart() throws {
        let temporary = TemporaryDirectory(prefix: "vipps-exec-faults")
        defer { temporary.remove() }
        let store = try Self.storeWithALetterOfFulfil2(in: temporary)
        let counts = try store.waitingCounts(sinks: ["fulfil", "fulfil-2"])
        #expect(counts == ["fulfil": 0, "fulfil-2": 1])
    }
}
