import Delivery
import EventStore
import Foundation
import Glibc
import Logging
import POSIX
import TestSupport
import VippsWebhooks

@testable import WebhookDaemon

/// A store, dead letters, sink factory and dispatcher in a fresh directory under /tmp, wired as the daemon wires
/// them (arrivals are handed to the dispatcher from the accept completion, on the store's queue).
final class DeliveryHarness: @unchecked Sendable {
    private let folder = TemporaryDirectory(prefix: "delivery-path", removedOnRelease: false)
    var directory: String { folder.path }
    let store: EventStore
    let deadLetters: DeadLetterStore
    let dispatcher: DeliveryDispatcher
    var factory: SinkFactory
    let logger: Logger
    /// Requeuers started by ``startRequeue(interval:)``.
    private var requeues: [DeadLetterRequeue] = []

    init(
        segmentSize: UInt64 = 1 << 20,
        memoryLimit: Int = 100_000,
        memoryBytes: Int = 64 << 20,
        faults: SyscallFaults? = nil
    ) throws {
        var logger = Logger(label: "delivery-path-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["HARNESS_LOG"] == nil ? .critical : .info
        self.logger = logger
        let options = testOptions(segmentSize: segmentSize, faults: faults)
        store = try EventStore(directory: folder.path + "/journal", options: options, logger: logger)
        deadLetters = try DeadLetterStore(stateDirectory: folder.path)
        let metrics = DaemonMetrics.bootstrap()
        factory = SinkFactory(
            store: store,
            deadLetters: deadLetters,
            runner: ProcessRunner(),
            metrics: metrics,
            logger: logger
        )
        factory.memoryLimit = memoryLimit
        factory.memoryBytes = memoryBytes
        dispatcher = DeliveryDispatcher(store: store, deadLetters: deadLetters, metrics: metrics, logger: logger)
    }

    /// Builds the workers of `sinks` (reusing unchanged ones) and installs them, as start-up and reload do.
    func configure(_ sinks: [DaemonConfiguration.Sink]) throws {
        dispatcher.install(try factory.workers(for: sinks, existing: dispatcher.current))
    }

    /// Accepts an event routed to `sinks` and hands it to the dispatcher as the ingest path does.
    @discardableResult
    func accept(id: String, body: String, sinks: [String]) async -> UInt64? {
        await withCheckedContinuation { continuation in
            store.accept(
                id: id,
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps",
                receivedAtMillis: 1_700_000_000_000,
                body: Array(body.utf8),
                sinks: sinks
            ) { [dispatcher] outcome in
                guard case .stored(let event) = outcome else { return continuation.resume(returning: nil) }
                dispatcher.deliver(event, decoded: DecodedEvent.decode(body: event.body), to: sinks)
                continuation.resume(returning: event.sequence)
            }
        }
    }

    /// Starts a dead-letter requeuer over this harness's store and dispatcher, scanning every `interval` (the first at
    /// once); the harness keeps it (its timer holds it weakly).
    func startRequeue(interval: DispatchTimeInterval = .milliseconds(100)) {
        let requeue = DeadLetterRequeue(deadLetters: deadLetters, dispatcher: dispatcher, store: store, logger: logger)
        requeue.start(interval: interval)
        requeues.append(requeue)
    }

    /// Waits until no event is owed to any sink; false after `seconds`.
    func settled(within seconds: Double) async -> Bool {
        await eventually(within: seconds, every: 0.05) { store.owedPerSink.isEmpty }
    }

    /// Waits until the journal holds at most `count` segments (retirement runs on the store's own queue after the
    /// last delivery of a segment is marked); returns whether it did within `seconds`.
    func segments(atMost count: Int, within seconds: Double) async -> Bool {
        await eventually(within: seconds, every: 0.05) { segmentCount <= count }
    }

    /// Drains the workers (as shutdown does) and closes the store.
    func stop(grace: Double = 10) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            dispatcher.drain(deadline: .now() + grace) { continuation.resume() }
        }
        store.close()
    }

    func remove() {
        folder.remove()
    }

    /// Journal segment files left.
    var segmentCount: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/journal")) ?? [])
            .filter { $0.hasPrefix("segment-") }.count
    }
}

/// An ePayment body of `payment` (its ordering key), numbered `number`.
func paymentBody(payment: Int, number: Int, pad: Int = 0) -> String {
    """
    {"msn":"123456","reference":"order-\(payment)","pspReference":"psp-\(number)","name":"AUTHORIZED",\
    "amount":{"currency":"NOK","value":100},"timestamp":"2026-01-01T00:00:00Z","success":true,\
    "pad":"\(String(repeating: "p", count: pad))"}
    """
}

/// The `id` of each JSON line of `path`, in file order.
func lineIDs(_ path: String) -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
    }
}

/// Ids appearing more than once.
func duplicates(_ ids: [String]) -> [String] {
    Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
}

/// Whether the ids of each payment (`<prefix>-<payment>-<number>`) appear with increasing numbers.
func inPaymentOrder(_ ids: [String]) -> Bool {
    var last: [String: Int] = [:]
    for id in ids {
        let parts = id.split(separator: "-")
        guard parts.count == 3, let number = Int(parts[2]) else { return false }
        let payment = "\(parts[0])-\(parts[1])"
        if let previous = last[payment], previous >= number { return false }
        last[payment] = number
    }
    return true
}

/// The daemon's `vipps_webhookd_sink_deliveries_total` for `sink` and `outcome` (0 when never counted).
func deliveriesCounted(sink: String, outcome: String) -> Int {
    let text = String(decoding: DaemonMetrics.bootstrap().exposition(), as: UTF8.self)
    return text.split(separator: "\n").filter {
        $0.hasPrefix("vipps_webhookd_sink_deliveries_total") && $0.contains("sink=\"\(sink)\"")
            && $0.contains("outcome=\"\(outcome)\"")
    }.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
}

/// An exec sink running `/bin/sh -c script`; `version` is the shell's `$0`, so changing it changes the sink's
/// settings (a reload then replaces its worker).
func shellSink(
    _ name: String,
    _ script: String,
    version: String = "v1",
    timeout: Int = 10,
    attempts: Int = 3,
    concurrency: Int = 1
) -> DaemonConfiguration.Sink {
    .init(
        name: name,
        kind: .exec(
            argv: ["/bin/sh", "-c", script, version],
            timeoutSeconds: timeout,
            maxAttempts: attempts,
            concurrency: concurrency
        )
    )
}
