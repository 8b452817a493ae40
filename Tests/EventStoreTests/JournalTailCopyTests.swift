import Foundation
import POSIX
import TestSupport
import Testing

@testable import EventStore

/// The invalid tail an open cuts from the active segment is copied aside first: a torn unacknowledged batch cannot be
/// told from an acknowledged one whose last block (padding frame included) was damaged.
@Suite("journal: the cut tail of the active segment")
struct JournalTailCopyTests {
    private func bytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func asideCopies(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/corrupt")) ?? []).sorted()
    }

    @Test("an acknowledged batch whose block is damaged to its end, padding frame included, is cut and kept aside")
    func damagedEndOfAnAcknowledgedBatchIsKept() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "first").storedEvent?.sequence == 1)
        #expect(await store.accept(id: "second-acknowledged").storedEvent?.sequence == 2)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        let id = try #require(content.firstRange(of: Array("second-acknowledged".utf8))?.lowerBound)
        let batchStart = id / JournalFrame.blockSize * JournalFrame.blockSize
        let blockEnd = batchStart + JournalFrame.blockSize
        #expect(content.count == blockEnd, "the second batch is the segment's last block")
        for index in (id + 6)..<blockEnd { content[index] = 0xA5 }
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        defer { store.close() }
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first"])
        let copies = asideCopies(dir.path)
        #expect(
            copies.count == 1 && copies.allSatisfy { $0.hasPrefix("segment-000000000001.log.cut-at-\(batchStart)-") }
        )
        #expect(try copies.map { try bytes(dir.path + "/corrupt/" + $0) } == [Array(content[batchStart...])])
        #expect(try bytes(segment)[batchStart...].allSatisfy { $0 == 0 }, "cut back to the end of the first batch")
    }

    @Test("a tail whose copy fails is not cut: a new segment takes the appends; the next open copies it as damage")
    func tailWhoseCopyFailsIsKept() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "first").storedEvent?.sequence == 1)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        let torn = try bytes(segment) + Array(repeating: 0xA5, count: 60)
        try Data(torn).write(to: URL(fileURLWithPath: segment))

        let faults = SyscallFaults()
        faults.fail("pwrite", errno: ENOSPC, times: 1)
        store = try EventStore(directory: dir.path, options: testOptions(faults: faults), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first"])
        #expect(asideCopies(dir.path).isEmpty)
        #expect(try bytes(segment) == torn, "not cut")
        #expect(await store.accept(id: "after").storedEvent?.sequence == 2)
        #expect(try segmentPaths(dir.path).count == 2, "appended to a new segment")
        store.close()

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        defer { store.close() }
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first", "after"])
        #expect(store.journal.corruptRecords == 1, "no longer the active segment: its invalid end is damage")
        #expect(asideCopies(dir.path).map { $0.hasPrefix("segment-000000000001.log.damaged-at-") } == [true])
    }

    @Test(
        "on a full disk, a torn tail that cannot be copied is cut without a copy: the store opens in its last segment",
        arguments: [false, true]
    )
    func tornTailOnAFullDiskStillOpens(preallocate: Bool) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(
            directory: dir.path,
            options: testOptions(preallocate: preallocate),
            logger: testLogger
        )
        #expect(await store.accept(id: "first").storedEvent?.sequence == 1)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        let end = try #require(content.lastIndex { $0 != 0 }) + 1
        let blockEnd = (end + JournalFrame.blockSize - 1) / JournalFrame.blockSize * JournalFrame.blockSize
        if content.count < blockEnd + 60 { content += Array(repeating: 0, count: blockEnd + 60 - content.count) }
        for index in blockEnd..<(blockEnd + 60) { content[index] = 0xA5 }  // 60 bytes of a torn batch
        try Data(content).write(to: URL(fileURLWithPath: segment))
        // The disk is full: every write needing a new block fails; cutting and syncing still work.
        let faults = SyscallFaults()
        faults.fail("pwrite", errno: ENOSPC)
        faults.fail("write", errno: ENOSPC)
        store = try EventStore(
            directory: dir.path,
            options: testOptions(preallocate: preallocate, faults: faults),
            logger: testLogger
        )
        defer { store.close() }
        faults.clear()
        #expect(try segmentPaths(dir.path) == [segment])
        #expect(asideCopies(dir.path).isEmpty)
        #expect(try bytes(segment)[blockEnd...].allSatisfy { $0 == 0 }, "the torn tail cut")
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first"])
        #expect(await store.accept(id: "after").storedEvent?.sequence == 2)
    }
}
