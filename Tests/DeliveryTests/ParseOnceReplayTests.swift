import Delivery
import Dispatch
import EventStore
import Foundation
import Logging
import POSIX
import TestSupport
import Testing
import VippsWebhooks

/// The body is decoded once: on the ingest path the decode made for identity and routing is handed to the sinks;
/// after a restart each pending record is decoded once when the journal re-feed reads it. Both paths must give the
/// file sink and the hook exactly the same: the same line, the same `VIPPS_*` environment, the same `{field}`
/// arguments, the same stdin.
@Suite struct ParseOnceReplayTests {
    /// An ePayment event whose JSON holds a line break (spliced into the line as a space) and a nested field.
    static let payment = Array(
        """
        {"msn":"123456","reference":"order-7","pspReference":"psp-1","name":"CAPTURED",
        "amount":{"currency":"NOK","value":4200},"timestamp":"2026-01-01T00:00:00Z","success":true}
        """.utf8
    )
    /// A body that is not JSON: its line carries it as a string, the hook gets no field of it.
    static let notJSON = Array("reference=order-7&amount=4200".utf8)

    @Test(
        "a live ingest and a restart replay hand the same decoded fields to the file sink and the hook",
        arguments: [payment, notJSON]
    )
    func liveAndReplayedDeliveriesAreIdentical(body: [UInt8]) async throws {
        let live = TemporaryDirectory()
        let replayed = TemporaryDirectory()
        defer {
            live.remove()
            replayed.remove()
        }

        var run = try DeliveryRun(directory: live.path)
        let decoded = DecodedEvent.decode(body: body)
        let event = try #require(await run.accept(body, decoded: decoded).storedEvent)
        run.dispatcher.deliver(event, decoded: decoded, to: DeliveryRun.sinks)
        #expect(await run.settled())
        await run.stop()

        // Journaled, answered, and the process stops before any sink got it: the restart replays it.
        run = try DeliveryRun(directory: replayed.path, installWorkers: false)
        #expect(try #require(await run.accept(body, decoded: decoded).storedEvent) == event)
        await run.stop()
        run = try DeliveryRun(directory: replayed.path)
        #expect(await run.settled())
        await run.stop()

        let outputs = ["events.jsonl", "env", "args", "stdin"]
        for output in outputs {
            let first = try #require(FileManager.default.contents(atPath: "\(live.path)/\(output)"), "\(output)")
            let second = try #require(FileManager.default.contents(atPath: "\(replayed.path)/\(output)"), "\(output)")
            #expect(first == second, "\(output) differs between the live and the replayed delivery")
        }
        // Each is what an independent parse of the body gives, and the hook ran once per path.
        let line = Data(EventLine.render(event))
        #expect(FileManager.default.contents(atPath: "\(replayed.path)/events.jsonl") == line)
        #expect(FileManager.default.contents(atPath: "\(replayed.path)/stdin") == line, "the line, one newline")
        let environment = try String(contentsOfFile: "\(replayed.path)/env", encoding: .utf8)
        for variable in decoded.environment {
            #expect(environment.contains("\(variable.name)=\(variable.value)\n"))
        }
        #expect(environment.contains("VIPPS_EVENT_ID=\(event.id)\n"))
        let arguments = try String(contentsOfFile: "\(replayed.path)/args", encoding: .utf8)
        let expected = decoded.json == nil ? "\n\n" : "order-7\n4200\n"
        #expect(arguments == expected)
    }
}

/// A store, a dispatcher and the workers of a file sink and an exec sink in `directory`, wired as the daemon wires
/// them; the hook writes its `VIPPS_*` environment, its two field arguments and its stdin next to the journal.
private struct DeliveryRun {
    static let sinks = ["file", "hook"]

    let store: EventStore
    let dispatcher: DeliveryDispatcher

    init(directory: String, installWorkers: Bool = true) throws {
        store = try EventStore(directory: directory + "/journal", options: testOptions(), logger: testLogger)
        let deadLetters = try DeadLetterStore(stateDirectory: directory)
        let metrics = NoDeliveryMetrics()
        dispatcher = DeliveryDispatcher(store: store, deadLetters: deadLetters, metrics: metrics, logger: testLogger)
        guard installWorkers else { return }
        let factory = SinkFactory(
            store: store,
            deadLetters: deadLetters,
            runner: ProcessRunner(),
            metrics: metrics,
            logger: testLogger
        )
        let script = """
            env | grep '^VIPPS_' | sort > '\(directory)/env'
            printf '%s\\n' "$1" "$2" >> '\(directory)/args'
            cat >> '\(directory)/stdin'
            """
        let definitions = [
            SinkDefinition(name: "file", kind: .file(path: directory + "/events.jsonl")),
            SinkDefinition(
                name: "hook",
                kind: .exec(
                    argv: ["/bin/sh", "-c", script, "sh", "{reference}", "{amount.value}"],
                    timeoutSeconds: 10,
                    maxAttempts: 1,
                    concurrency: 1
                )
            ),
        ]
        dispatcher.install(try factory.workers(for: definitions, existing: [:]))
    }

    /// Journals `body` as the ingest path does (identity and type from its decode), at a fixed time.
    func accept(_ body: [UInt8], decoded: DecodedEvent) async -> AcceptOutcome {
        await withCheckedContinuation { continuation in
            store.accept(
                id: EventIdentity.id(body: body, decoded: decoded),
                type: decoded.type,
                endpoint: "/vipps/epayment",
                receivedAtMillis: 1_767_225_600_000,
                body: body,
                sinks: Self.sinks
            ) { continuation.resume(returning: $0) }
        }
    }

    /// Waits until no event is owed to any sink; false after 10 s.
    func settled() async -> Bool {
        for _ in 0..<200 {
            if store.owedPerSink.isEmpty { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now() + 5) { continuation.resume() }
        }
        store.close()
    }
}

/// Metrics that record nothing (the names and labels are tested with the daemon's metrics).
struct NoDeliveryMetrics: DeliveryMetrics {
    func deliveries(sink: String, outcome: String, count: Int) {}
    func storageError(operation: String) {}
    func recordOverflow(sink: String, count: Int) {}
}
