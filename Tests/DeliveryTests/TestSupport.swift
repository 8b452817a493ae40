import Delivery
import EventStore
import Foundation
import Glibc
import Logging
import POSIX

/// A fresh directory under /tmp, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/delivery-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let created else { preconditionFailure("mkdtemp failed") }
        path = created
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "delivery-tests")
    logger.logLevel = .error
    return logger
}()

/// Small segments without pre-allocation.
func testOptions() -> EventStoreOptions {
    var options = EventStoreOptions()
    options.segmentSize = 1 << 20
    options.preallocateSegments = false
    return options
}

extension EventStore {
    /// `accept` awaiting its outcome, with test defaults.
    func accept(id: String, body: String = "{\"ok\":true}", sinks: [String] = ["file"]) async -> AcceptOutcome {
        await withCheckedContinuation { continuation in
            accept(
                id: id,
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps/epayment",
                receivedAtMillis: Int64(Date().timeIntervalSince1970 * 1000),
                body: Array(body.utf8),
                sinks: sinks
            ) { continuation.resume(returning: $0) }
        }
    }

    /// `markDelivered` awaiting durability.
    func mark(_ sequence: UInt64, _ sink: String, position: SinkPosition? = nil) async -> StorageError? {
        await withCheckedContinuation { continuation in
            markDelivered(sequence: sequence, sink: sink, position: position) { continuation.resume(returning: $0) }
        }
    }
}

extension AcceptOutcome {
    var storedEvent: StoredEvent? {
        if case .stored(let event) = self { return event }
        return nil
    }
}

extension FileSink {
    /// Writes one event read back as the journal re-feed reads it (its body decoded here).
    func write(_ event: StoredEvent) throws -> SinkPosition {
        try write(DeliverableEvent(decoding: event))
    }

    /// Writes a batch of events read back as the journal re-feed reads them.
    func write(_ events: [StoredEvent]) throws -> [SinkPosition] {
        try write(events.map(DeliverableEvent.init(decoding:)))
    }
}
