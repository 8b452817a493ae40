import Dispatch
import Foundation
import TestSupport
import Testing

@testable import EventStore

/// Deleting delivered segments happens off the store's queue and keeps deduplication.
@Suite struct RetirementTests {
    @Test func acceptsCompleteWhileARetirementIsHeld() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 16 << 10)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let events = try await store.acceptPadded(12)
        let before = try segmentPaths(dir.path)
        #expect(before.count >= 3)
        let gate = DispatchSemaphore(value: 0)
        store.retireQueue.async { gate.wait() }
        let marks = events.map { (sequence: $0.sequence, sink: "file", position: SinkPosition?.none) }
        let error = await withCheckedContinuation { continuation in
            store.markDelivered(marks) { continuation.resume(returning: $0) }
        }
        #expect(error == nil)
        // The retirement is handed off but cannot run: accepts must not wait for it.
        for number in 12..<15 {
            #expect(await store.accept(id: "evt-\(number)", body: paddedBody).storedEvent != nil)
        }
        #expect(try segmentPaths(dir.path).starts(with: before), "nothing deleted while the retirement is held")
        gate.signal()
        #expect(store.statistics.segments <= 2, "delivered segments deleted once the retirement ran")
        #expect(await store.accept(id: "evt-0") == .duplicate)
        store.close()

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(await store.accept(id: "evt-0") == .duplicate, "ids of deleted segments live on in dedup.log")
        #expect(await store.accept(id: "evt-11") == .duplicate)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["evt-12", "evt-13", "evt-14"])
        store.close()
    }

    @Test func dedupFileCompactionKeepsTheNewestLiveEntries() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var index = DedupIndex(capacity: 100)
        var file = try DedupFile(directory: dir.path, faults: nil, loadingInto: &index, notBefore: 0)
        let entries = (0..<10).map { (key: DedupKey(id: "id-\($0)"), millis: Int64(1000 + $0) * 1000) }
        try file.append(Array(entries.prefix(6)))
        try file.append(Array(entries.suffix(4)))
        #expect(file.entryCount == 10)
        try file.compact(notBefore: 1_002_000, keepingAtMost: 5)
        #expect(file.entryCount == 5)
        file.close()

        var reloaded = DedupIndex(capacity: 100)
        file = try DedupFile(directory: dir.path, faults: nil, loadingInto: &reloaded, notBefore: 0)
        #expect(file.entryCount == 5)
        #expect(Array(reloaded.entries.map(\.millis)) == [1_005_000, 1_006_000, 1_007_000, 1_008_000, 1_009_000])
        #expect(reloaded.contains(DedupKey(id: "id-9")) && !reloaded.contains(DedupKey(id: "id-4")))
        try file.append([(DedupKey(id: "id-10"), 1_010_000)])
        file.close()
        var again = DedupIndex(capacity: 100)
        file = try DedupFile(directory: dir.path, faults: nil, loadingInto: &again, notBefore: 0)
        #expect(again.count == 6, "appends after a compaction land in the new file")
        file.close()
    }
}
