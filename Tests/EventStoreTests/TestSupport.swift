import Foundation
import Glibc
import Logging
import POSIX
import Testing

@testable import EventStore

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

/// Small segments without pre-allocation unless a test says otherwise.
func testOptions(
    segmentSize: UInt64 = 1 << 20,
    preallocate: Bool = false,
    faults: SyscallFaults? = nil
) -> EventStoreOptions {
    var options = EventStoreOptions()
    options.segmentSize = segmentSize
    options.preallocateSegments = preallocate
    options.faults = faults
    return options
}

/// A ~900-byte event body (each batch takes a 4 KiB block of a small test segment, so rotation and retirement
/// happen quickly).
let paddedBody = "{\"pad\":\"\(String(repeating: "p", count: 900))\"}"

extension EventStore {
    /// Accepts `count` padded events with ids `evt-0`, `evt-1`, … and returns them as stored.
    func acceptPadded(_ count: Int) async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        for number in 0..<count {
            events.append(try #require(await accept(id: "evt-\(number)", body: paddedBody).storedEvent))
        }
        return events
    }

    /// `accept` awaiting its outcome, with test defaults.
    func accept(
        id: String,
        body: String = "{\"ok\":true}",
        sinks: [String] = ["file"],
        receivedAtMillis: Int64? = nil
    ) async -> AcceptOutcome {
        let millis = receivedAtMillis ?? Int64(Date().timeIntervalSince1970 * 1000)
        return await withCheckedContinuation { continuation in
            accept(
                id: id,
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps/epayment",
                receivedAtMillis: millis,
                body: Array(body.utf8),
                sinks: sinks
            ) { continuation.resume(returning: $0) }
        }
    }

    /// Marks `events` delivered to `sink` in one batch, awaiting durability.
    func markAll(_ events: some Sequence<StoredEvent>, _ sink: String = "file") async -> StorageError? {
        let marks = events.map { (sequence: $0.sequence, sink: sink, position: SinkPosition?.none) }
        return await withCheckedContinuation { continuation in
            markDelivered(marks) { continuation.resume(returning: $0) }
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

    var failure: StorageError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

/// The segment files of a store directory, oldest first.
func segmentPaths(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasPrefix("segment-") }.sorted().map { directory + "/" + $0 }
}
