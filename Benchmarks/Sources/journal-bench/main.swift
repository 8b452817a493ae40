// Load benchmark of the durable ingest path (not a test): closed-loop clients each call `EventStore.accept` with a
// unique ~300-byte event and wait for its completion before sending the next, like wrk's connections against the
// daemon; a marker thread marks every stored event delivered (like a file sink worker), so segments rotate and are
// retired while accepts run. Run it in release mode:
//   swift run -c release --package-path Benchmarks journal-bench \
//       [--clients 16,128] [--seconds 5] [--segment-mib 16] [--marks single|batch|none]
// It prints events/s, data syncs, events per sync and the completion latency (p50/p99/max) per client count.
import Dispatch
import EventStore
import Foundation
import Glibc
import Logging

struct Settings {
    var clients = [16, 128]
    var seconds = 5.0
    var segmentMiB: UInt64 = 16
    var marks = "single"
    var directory = "/tmp"

    init(arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { Self.usage("missing value after \(flag)") }
            switch flag {
            case "--clients": clients = value.split(separator: ",").compactMap { Int($0) }
            case "--seconds": seconds = Double(value) ?? seconds
            case "--segment-mib": segmentMiB = UInt64(value) ?? segmentMiB
            case "--marks": marks = value
            case "--dir": directory = value
            default: Self.usage("unknown option \(flag)")
            }
        }
        guard !clients.isEmpty, clients.allSatisfy({ $0 > 0 && $0 <= 1024 }), seconds > 0,
            ["single", "batch", "none"].contains(marks)
        else { Self.usage("bad option value") }
    }

    static func usage(_ problem: String) -> Never {
        FileHandle.standardError.write(
            Data(
                ("journal-bench: \(problem)\nusage: journal-bench [--clients 16,128] [--seconds 5] [--segment-mib 16]"
                    + " [--marks single|batch|none] [--dir /tmp]\n").utf8
            )
        )
        exit(2)
    }
}

/// Sequences stored but not yet marked, handed from completions to the marker thread.
final class MarkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var sequences: [UInt64] = []
    private var stopped = false

    func add(_ sequence: UInt64) {
        condition.lock()
        sequences.append(sequence)
        condition.signal()
        condition.unlock()
    }

    /// Waits for sequences; nil once stopped and empty.
    func take() -> [UInt64]? {
        condition.lock()
        defer { condition.unlock() }
        while sequences.isEmpty && !stopped { condition.wait() }
        if sequences.isEmpty { return nil }
        defer { sequences.removeAll(keepingCapacity: true) }
        return sequences
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Latencies (ns) of one client, written only by its thread.
final class ClientRecord: @unchecked Sendable {
    var latencies: [UInt64] = []
    var failures = 0
}

func run(clients: Int, settings: Settings, body: [UInt8]) throws {
    // mkdtemp replaces the trailing six template characters with a unique suffix.
    let suffix = String(repeating: "X", count: 6)
    var template = Array("\(settings.directory)/journal-bench-\(suffix)".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        Settings.usage("cannot create a directory under \(settings.directory)")
    }
    let directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = EventStoreOptions()
    options.segmentSize = settings.segmentMiB << 20
    var logger = Logger(label: "journal-bench")
    logger.logLevel = .warning
    let store = try EventStore(directory: directory, options: options, logger: logger)
    defer { store.close() }

    let marks = MarkQueue()
    let markerDone = DispatchSemaphore(value: 0)
    let markMode = settings.marks
    let marker = Thread {
        while let batch = marks.take() {
            let done = DispatchSemaphore(value: 0)
            switch markMode {
            case "batch":
                store.markDelivered(batch.map { ($0, "file", nil) }) { _ in done.signal() }
            default:
                for (index, sequence) in batch.enumerated() {
                    let last = index == batch.count - 1
                    store.markDelivered(sequence: sequence, sink: "file") { _ in if last { done.signal() } }
                }
            }
            done.wait()
        }
        markerDone.signal()
    }
    if markMode != "none" { marker.start() }

    let startSyncs = store.statistics.syncs
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(settings.seconds * 1e9)
    let records = (0..<clients).map { _ in ClientRecord() }
    let finished = DispatchSemaphore(value: 0)
    let started = DispatchTime.now().uptimeNanoseconds
    for client in 0..<clients {
        let record = records[client]
        let thread = Thread {
            let done = DispatchSemaphore(value: 0)
            var number = 0
            record.latencies.reserveCapacity(200_000)
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let sent = DispatchTime.now().uptimeNanoseconds
                store.accept(
                    id: "bench-\(client)-\(number)",
                    type: "epayments.payment.captured.v1",
                    endpoint: "/vipps/epayment",
                    receivedAtMillis: Int64(Date().timeIntervalSince1970 * 1000),
                    body: body,
                    sinks: ["file"]
                ) { outcome in
                    if case .stored(let event) = outcome {
                        if markMode != "none" { marks.add(event.sequence) }
                    } else {
                        record.failures += 1
                    }
                    done.signal()
                }
                done.wait()
                record.latencies.append(DispatchTime.now().uptimeNanoseconds - sent)
                number += 1
            }
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    for _ in 0..<clients { finished.wait() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    marks.stop()
    if markMode != "none" { markerDone.wait() }
    let statistics = store.statistics

    let latencies = records.flatMap(\.latencies).sorted()
    let failures = records.reduce(0) { $0 + $1.failures }
    let syncs = statistics.syncs - startSyncs
    func percentile(_ fraction: Double) -> String {
        guard !latencies.isEmpty else { return "-" }
        let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]
        return String(format: "%.2f", Double(value) / 1e6)
    }
    print(
        "clients \(clients): \(Int(Double(latencies.count) / elapsed)) events/s, \(syncs) syncs, "
            + String(format: "%.1f", Double(latencies.count) / Double(max(syncs, 1))) + " events/sync (incl. marks), "
            + "latency ms p50 \(percentile(0.5)) p99 \(percentile(0.99)) max \(percentile(1.0)), "
            + "failures \(failures), segments left \(statistics.segments)"
    )
}

let settings = Settings(arguments: Array(CommandLine.arguments.dropFirst()))
let body = Array(
    (#"{"msn":"123456","reference":"acme-shop-123-order-000042","pspReference":"7686f7788898767977","#
        + #""name":"AUTHORIZED","#
        + #""amount":{"currency":"NOK","value":49900},"timestamp":"2026-11-22T12:00:00.000Z","#
        + #""idempotencyKey":"b6d5f2c0-6c3a-4a8e-9d4b-2f1e7c9a0b11","success":true,"sub":"x-padding-to-300-bytes"}"#)
        .utf8
)
print("journal-bench: \(settings.seconds) s per run, segment \(settings.segmentMiB) MiB, marks \(settings.marks)")
for clients in settings.clients {
    try run(clients: clients, settings: settings, body: body)
}
