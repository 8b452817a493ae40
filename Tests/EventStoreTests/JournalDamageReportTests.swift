import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@testable import EventStore

/// Journal damage that is easy to cut quietly or to lose on the way: the last acknowledged record on a block
/// boundary, a torn batch whose first block is missing, an older segment read as zeros, and the copy aside failing
/// or being interrupted.
@Suite struct JournalDamageReportTests {
    private func bytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func event(_ sequence: UInt64, _ id: String, bodyCount: Int) -> StoredEvent {
        StoredEvent(
            sequence: sequence,
            id: id,
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: Int64(Date().timeIntervalSince1970 * 1000),
            body: Array(repeating: UInt8(ascii: "x"), count: bodyCount)
        )
    }

    private func asideCopies(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/corrupt")) ?? []).sorted()
    }

    /// `base` whose next `call` fails once with `errno`.
    private func failingOnce(_ call: String, errno: Int32, base: EventStoreOptions) -> EventStoreOptions {
        let faults = SyscallFaults()
        faults.fail(call, errno: errno, times: 1)
        var options = base
        options.faults = faults
        return options
    }

    /// A closed store holding "one", "two", "three" with a byte flipped inside "two"; the segment's path and bytes.
    private func journalWithDamagedMiddleEvent(_ directory: String) async throws -> (path: String, content: [UInt8]) {
        let store = try EventStore(directory: directory, options: testOptions(), logger: testLogger)
        for id in ["one", "two", "three"] { #expect(await store.accept(id: id).storedEvent != nil) }
        store.close()
        let segment = try #require(try segmentPaths(directory).last)
        var content = try bytes(segment)
        let start = try #require(content.firstRange(of: Array("two".utf8))?.lowerBound)
        content[start + 1] ^= 0x5A
        try Data(content).write(to: URL(fileURLWithPath: segment))
        return (segment, content)
    }

    /// An acknowledged event whose record ends exactly on a block boundary is still followed by a padding frame (a
    /// whole block), so a flipped byte in it is reported as damage and its sequence is never reused.
    @Test func damagedLastAcknowledgedRecordEndingOnABlockBoundaryIsReported() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "first").storedEvent?.sequence == 1)
        // A body that makes the frame of the next event exactly one block.
        let overhead = try JournalRecord.event(event(2, "exact", bodyCount: 0), sinks: ["file"]).frame().count
        let body = String(repeating: "x", count: 4096 - overhead)
        #expect(await store.accept(id: "exact", body: body).storedEvent?.sequence == 2)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        #expect(content.count % 4096 == 0)
        let padding = content.withUnsafeBytes { JournalFrame.check($0, at: content.count - 4096) }
        guard case .padding(4096) = padding else {
            Issue.record("the last acknowledged batch ends with a block of padding, found \(padding)")
            return
        }
        content[content.count - 4096 - 10] ^= 0x5A  // inside the acknowledged body of "exact"
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first"])
        #expect(store.journal.corruptRecords == 1, "an acknowledged record was damaged: report it")
        #expect(asideCopies(dir.path).count == 1)
        #expect(
            try #require(await store.accept(id: "new").storedEvent).sequence > 2,
            "sequence 2 was acknowledged; never hand it out again"
        )
        store.close()
    }

    /// A batch spanning two blocks torn by a power cut so that its second block reached the disk but its first did
    /// not (page writeback has no order) looks exactly like damage to the first block of an acknowledged last batch.
    /// Recovery cannot tell them apart: it keeps the readable records (a never-acknowledged one delivered is
    /// harmless: the sender's retry is then a duplicate), reports the region, and says that it lies in the last
    /// batch, where a torn write is possible too.
    @Test func tornMultiBlockBatchWhoseFirstBlockIsMissingIsReportedAsPossiblyTorn() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "a").storedEvent != nil)
        #expect(await store.accept(id: "b").storedEvent != nil)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        #expect(content.count % 4096 == 0)
        var batch = try JournalRecord.event(event(3, "big", bodyCount: 5000), sinks: ["file"]).frame()
        try JournalRecord.event(event(4, "orphan", bodyCount: 10), sinks: ["file"]).frame(into: &batch)
        JournalFrame.pad(&batch, startingAt: UInt64(content.count))
        for index in 0..<4096 { batch[index] = 0 }  // the first block never reached the disk
        content += batch
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a", "b", "orphan"])
        #expect(store.journal.corruptRecords == 1)
        #expect(store.journal.damageInLastBatch == 1, "the report says a torn write is possible")
        #expect(asideCopies(dir.path).count == 1)
        #expect(await store.accept(id: "orphan") == .duplicate, "a retry of the orphan is not delivered twice")
        #expect(await store.accept(id: "big").storedEvent != nil, "a retry of the lost one is accepted")
        store.close()
    }

    /// Damage before the last batch (a later batch was written, so it was acknowledged) is not called possibly torn.
    @Test func damageBeforeTheLastBatchIsNotCalledPossiblyTorn() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = try await journalWithDamagedMiddleEvent(dir.path)
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(store.journal.corruptRecords == 1)
        #expect(store.journal.damageInLastBatch == 0)
        store.close()
    }

    /// An older segment whose bytes were all lost (zeros) held at least its checkpoint: reported, set aside.
    @Test func olderSegmentReadingAsZerosIsReported() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(
            directory: dir.path,
            options: testOptions(segmentSize: 16384),
            logger: testLogger
        )
        let events = try await store.acceptPadded(8)
        store.close()
        let segments = try segmentPaths(dir.path)
        #expect(segments.count >= 2)
        let size = try bytes(segments[0]).count
        try Data(repeating: 0, count: size).write(to: URL(fileURLWithPath: segments[0]))

        store = try EventStore(directory: dir.path, options: testOptions(segmentSize: 16384), logger: testLogger)
        #expect(store.journal.corruptRecords >= 1, "a segment that is not the newest had records: report its loss")
        #expect(asideCopies(dir.path).count == 1)
        let pending = try store.pendingDeliveries()
        #expect(!pending.isEmpty && pending.count < events.count)
        #expect(try #require(await store.accept(id: "next").storedEvent).sequence > 8)
        store.close()
    }

    /// A damaged record found while the disk is full: the copy aside cannot be written (ENOSPC); the store opens
    /// anyway (error logged and counted), and the damaged segment is not retired until a later open copies it.
    @Test func fullDiskWhileSettingDamageAsideStillOpens() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (_, content) = try await journalWithDamagedMiddleEvent(dir.path)
        // The first write of the open is the copy aside.
        let options = failingOnce("pwrite", errno: ENOSPC, base: testOptions())
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["one", "three"])
        #expect(store.journal.uncopiedSegments.count == 1)
        #expect(asideCopies(dir.path).isEmpty, "no partial copy left behind")
        store.close()

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(store.journal.uncopiedSegments.isEmpty)
        let copies = asideCopies(dir.path)
        #expect(copies.count == 1)
        #expect(try bytes(dir.path + "/corrupt/" + copies[0]) == content, "the next open made the copy")
        store.close()
    }

    /// An older damaged segment whose copy failed is kept even when all its events are delivered; once a later open
    /// copied it, it is retired.
    @Test func damagedSegmentIsNotRetiredBeforeItsCopyExists() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let small = testOptions(segmentSize: 16 << 10)
        var store = try EventStore(directory: dir.path, options: small, logger: testLogger)
        _ = try await store.acceptPadded(9)
        store.close()
        let segments = try segmentPaths(dir.path)
        #expect(segments.count >= 3)
        var content = try bytes(segments[0])
        let start = try #require(content.firstRange(of: Array("evt-1".utf8))?.lowerBound)
        content[start + 1] ^= 0x5A
        try Data(content).write(to: URL(fileURLWithPath: segments[0]))
        let options = failingOnce("pwrite", errno: ENOSPC, base: small)

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(store.journal.uncopiedSegments.count == 1)
        #expect(await store.markAll(try store.pendingDeliveries().map(\.event)) == nil)
        _ = store.statistics  // waits for retirements under way
        #expect(FileManager.default.fileExists(atPath: segments[0]), "kept: its damage is copied nowhere yet")
        store.close()

        store = try EventStore(directory: dir.path, options: small, logger: testLogger)
        _ = store.statistics
        #expect(asideCopies(dir.path).count == 1)
        #expect(!FileManager.default.fileExists(atPath: segments[0]), "copied now, so retired")
        store.close()
    }

    /// A crash while the damaged segment is being copied leaves at most a partial file under a temporary name, never
    /// under the copy's name (written, synced, then renamed); a failed sync leaves no copy; the next open makes the
    /// whole copy.
    @Test func partialCopyLeftByACrashIsNotTrustedAsTheCopy() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (_, content) = try await journalWithDamagedMiddleEvent(dir.path)
        let options = failingOnce("fsync", errno: EIO, base: testOptions())  // the copy's sync, before its rename
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        store.close()
        #expect(asideCopies(dir.path).isEmpty, "an unsynced copy never gets the copy's name")
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        store.close()
        let copies = asideCopies(dir.path)
        #expect(copies.count == 1 && copies[0].hasPrefix("segment-000000000001.log.damaged-at-"))
        let copy = dir.path + "/corrupt/" + copies[0]
        #expect(try bytes(copy) == content, "the copy aside is whole")
        // What a crash between the copy's write and its rename leaves: no copy, part of it under the temporary name.
        try FileManager.default.removeItem(atPath: copy)
        try Data(content.prefix(100)).write(to: URL(fileURLWithPath: copy + ".partial"))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        store.close()
        #expect(asideCopies(dir.path) == copies, "renamed over: no partial file left")
        #expect(try bytes(copy) == content, "the copy aside is whole")
    }

    /// A rotation cut short in a preallocated segment (zeros, torn checkpoint) is set aside as a sparse copy: its
    /// data, not its 16 MiB, each time it happens.
    @Test func rotationCutShortIsSetAsideWithoutCopyingItsZeros() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "kept").storedEvent != nil)
        store.close()
        var torn = [UInt8](repeating: 0, count: 16 << 20)
        let checkpoint = try JournalRecord.checkpoint(nextSequence: 2, positions: [:]).frame()
        torn.replaceSubrange(0..<checkpoint.count, with: checkpoint)
        torn[9] ^= 0xFF  // its payload's first bytes never landed
        let cut = dir.path + "/segment-000000000002.log"
        try Data(torn).write(to: URL(fileURLWithPath: cut))

        let reopened = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try reopened.pendingDeliveries().map(\.event.id) == ["kept"])
        #expect(!FileManager.default.fileExists(atPath: cut), "never held a record: removed")
        let copies = asideCopies(dir.path)
        #expect(copies.count == 1)
        var info = stat()
        #expect(stat(dir.path + "/corrupt/" + copies[0], &info) == 0)
        #expect(info.st_size == 16 << 20)
        #expect(Int(info.st_blocks) * 512 <= 64 << 10, "the zeros are a hole, not 16 MiB of disk")
        reopened.close()
    }
}
