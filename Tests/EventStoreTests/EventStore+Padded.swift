import Foundation
import TestSupport
import Testing

@testable import EventStore

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

    /// Marks `events` delivered to `sink` in one batch, awaiting durability.
    func markAll(_ events: some Sequence<StoredEvent>, _ sink: String = "file") async -> StorageError? {
        let marks = events.map { (sequence: $0.sequence, sink: sink, position: SinkPosition?.none) }
        return await withCheckedContinuation { continuation in
            markDelivered(marks) { continuation.resume(returning: $0) }
        }
    }
}

/// The segment files of a store directory, oldest first.
func segmentPaths(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasPrefix("segment-") }.sorted().map { directory + "/" + $0 }
}
