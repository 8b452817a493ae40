import Foundation
import Glibc
import TestSupport
import Testing

@testable import EventStore

@Suite struct JournalTests {
    @Test func appendReopenAndReadBack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for preallocate in [false, true] {
            let path = dir.path + "/prealloc-\(preallocate)"
            var store = try EventStore(
                directory: path,
                options: testOptions(segmentSize: 64 << 10, preallocate: preallocate),
                logger: testLogger
            )
            var stored: [StoredEvent] = []
            for number in 0..<3 {
                let outcome = await store.accept(id: "evt-\(number)", body: "{\"n\":\(number),\"name\":\"Ærlig\"}")
                stored.append(try #require(outcome.storedEvent))
            }
            #expect(stored.map(\.sequence) == [1, 2, 3])
            store.close()
            store = try EventStore(directory: path, options: testOptions(), logger: testLogger)
            let pending = try store.pendingDeliveries()
            #expect(pending.map(\.event) == stored)
            #expect(pending.allSatisfy { $0.sinks == ["file"] })
            let next = await store.accept(id: "evt-after-restart")
            #expect(next.storedEvent?.sequence == 4)
            store.close()
        }
    }

    @Test func truncatedLastRecordIsCutOnOpen() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        _ = await store.accept(id: "a")
        _ = await store.accept(id: "b", body: "{\"long\":\"\(String(repeating: "x", count: 200))\"}")
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int)
        // Each batch ends on a 4 KiB boundary: "b" starts the last block; cut inside its record.
        #expect(size % 4096 == 0)
        #expect(truncate(segment, off_t(size - 4096 + 50)) == 0)

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a"])
        let again = await store.accept(id: "b")
        #expect(again.storedEvent?.sequence == 2, "a cut record was never acknowledged: its id is not a duplicate")
        store.close()
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a", "b"])
        store.close()
    }

    @Test(arguments: [false, true])
    func garbageTailIsCutOnOpen(preallocate: Bool) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 64 << 10, preallocate: preallocate)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        _ = await store.accept(id: "a")
        _ = await store.accept(id: "b")
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        let content = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        let validEnd = (content.lastIndex(where: { $0 != 0 }) ?? -1) + 1
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        try handle.seek(toOffset: UInt64(validEnd))
        // A plausible header (length 20) with a wrong CRC, then junk: a torn batch.
        try handle.write(contentsOf: Data([20, 0, 0, 0, 1, 2, 3, 4] + (0..<40).map { UInt8($0 * 7 & 0xFF) }))
        try handle.close()

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a", "b"])
        #expect(await store.accept(id: "c").storedEvent?.sequence == 3)
        store.close()
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a", "b", "c"])
        store.close()
    }

    @Test func concurrentAppendsShareSyncs() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let count = 200
        let writer = store
        let outcomes = await withTaskGroup(of: AcceptOutcome.self) { group in
            for number in 0..<count {
                group.addTask { await writer.accept(id: "evt-\(number)") }
            }
            return await group.reduce(into: [AcceptOutcome]()) { $0.append($1) }
        }
        let sequences = outcomes.compactMap(\.storedEvent?.sequence)
        #expect(sequences.count == count)
        #expect(Set(sequences) == Set(1...UInt64(count)))
        let statistics = store.statistics
        #expect(statistics.appendedEvents == count)
        #expect(statistics.syncs < count, "group commit: fewer syncs than appends")
        store.close()
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.sequence) == Array(1...UInt64(count)))
        store.close()
    }

    @Test func segmentsRotateAndDeliveredOnesAreDeleted() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 16 << 10)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let events = try await store.acceptPadded(20)
        #expect(store.statistics.segments > 3)
        #expect(await store.markAll(events.prefix(19)) == nil)
        #expect(store.statistics.segments <= 2, "fully delivered segments are deleted, the active one kept")
        store.close()

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["evt-19"])
        #expect(await store.accept(id: "evt-0") == .duplicate, "ids of deleted segments live on in dedup.log")
        #expect(await store.accept(id: "evt-new").storedEvent?.sequence == 21)
        store.close()
    }
}
