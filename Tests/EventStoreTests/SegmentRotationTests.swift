import Dispatch
import Foundation
import Glibc
import TestSupport
import Testing

@testable import EventStore

/// Segment preparation in the background and rotation, including crashes around a prepared segment.
@Suite struct SegmentRotationTests {

    private func fileSize(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    @Test func rotationTakesThePreparedSegmentElseStartsAPlainOne() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Not a multiple of 4 KiB: a segment holds its checkpoint block and two batch blocks (12288 bytes).
        let options = testOptions(segmentSize: 14000, preallocate: true)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let preparer = try #require(store.journal.preparer)
        preparer.queue.sync {}  // the first preparation has finished
        let gate = DispatchSemaphore(value: 0)
        preparer.queue.async { gate.wait() }  // later preparations wait behind this
        var ids: [String] = []
        while store.statistics.plainRotations < 2 {
            ids.append("evt-\(ids.count)")
            #expect(await store.accept(id: ids.last!, body: paddedBody).storedEvent != nil)
            try #require(ids.count < 100)
        }
        #expect(store.statistics.preparedRotations == 1, "only the first rotation found a prepared segment")
        let segments = try segmentPaths(dir.path)
        #expect(try fileSize(segments[1]) == 14000, "the prepared segment was zero-filled to the segment size")
        #expect(try fileSize(segments[2]) < 14000, "the fallback segment grows as it is written")

        gate.signal()
        preparer.queue.sync {}  // abandoned preparations end, the current one finishes
        let rotations = store.statistics.plainRotations
        while store.statistics.preparedRotations < 2 {
            ids.append("evt-\(ids.count)")
            #expect(await store.accept(id: ids.last!, body: paddedBody).storedEvent != nil)
            try #require(ids.count < 100)
        }
        #expect(store.statistics.plainRotations == rotations)
        store.close()
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ids)
        store.close()
    }

    /// A crash can leave the ready `next-segment.tmp` and, mid-rotation, a renamed zero-filled segment whose
    /// checkpoint never became durable (all zeros, or a torn header). Neither held an acknowledged record.
    @Test(arguments: [false, true])
    func crashWithAPreparedButUnusedNextSegment(tornCheckpoint: Bool) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 64 << 10, preallocate: true)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(await store.accept(id: "a").storedEvent?.sequence == 1)
        #expect(await store.accept(id: "b").storedEvent?.sequence == 2)
        try #require(store.journal.preparer).queue.sync {}
        store.close()
        let prepared = dir.path + "/" + SegmentPreparer.fileName
        #expect(try fileSize(prepared) == 64 << 10, "a ready prepared segment is left on disk")
        let current = try #require(try segmentPaths(dir.path).last)
        let next = dir.path + "/segment-000000000002.log"
        #expect(current == dir.path + "/segment-000000000001.log")
        var zeros = [UInt8](repeating: 0, count: 64 << 10)
        if tornCheckpoint { zeros.replaceSubrange(0..<8, with: [40, 0, 0, 0, 9, 9, 9, 9]) }
        #expect(FileManager.default.createFile(atPath: next, contents: Data(zeros)))

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try segmentPaths(dir.path) == [current], "the empty newest segment is deleted")
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a", "b"])
        #expect(await store.accept(id: "a") == .duplicate)
        #expect(await store.accept(id: "c").storedEvent?.sequence == 3)
        #expect(store.statistics.segments == 1, "appends continue in the last segment with records")
        store.close()
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a", "b", "c"])
        store.close()
    }
}
