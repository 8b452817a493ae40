import Foundation
import Glibc
import Testing

@testable import Delivery

/// Adversarial review of journal recovery (review branch): cases where damage is cut quietly or a torn tail is
/// reported as damage. These tests FAIL on 227d687 and document defects.
@Suite struct ReviewJournalAdversarialTests {
    private func bytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func event(_ sequence: UInt64, _ id: String, bodyCount: Int) -> StoredEvent {
        StoredEvent(
            sequence: sequence,
            id: id,
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps/epayment",
            receivedAtMillis: 0,
            body: Array(repeating: UInt8(ascii: "x"), count: bodyCount),
            webhookID: nil,
            source: .webhook
        )
    }

    /// An acknowledged event whose batch ends exactly on a block boundary (so no padding frame follows it) is the last
    /// frame of the newest segment. A flipped byte in it must be reported as damage, and its sequence never reused;
    /// today it is cut as "torn write of an unacknowledged batch" (warning only, no counter, no copy).
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
        content[content.count - 10] ^= 0x5A  // inside the acknowledged body of "exact"
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first"])
        #expect(store.journal.corruptRecords == 1, "an acknowledged record was damaged: report it")
        #expect(
            try #require(await store.accept(id: "new").storedEvent).sequence > 2,
            "sequence 2 was acknowledged; never hand it out again")
        store.close()
    }

    /// A batch spanning two blocks torn by a power cut so that its second block reached the disk but its first did
    /// not (page writeback has no order). The batch was never acknowledged: a quiet cut, not a corruption report.
    @Test func tornMultiBlockBatchWhoseFirstBlockIsMissingIsNotReportedAsDamage() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "a").storedEvent != nil)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        #expect(content.count % 4096 == 0)
        var batch = try JournalRecord.event(event(2, "big", bodyCount: 5000), sinks: ["file"]).frame()
        try JournalRecord.event(event(3, "orphan", bodyCount: 10), sinks: ["file"]).frame(into: &batch)
        JournalFrame.pad(&batch, startingAt: UInt64(content.count))
        for index in 0..<4096 { batch[index] = 0 }  // the first block never reached the disk
        content += batch
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(store.journal.corruptRecords == 0, "a torn unacknowledged batch stays a quiet cut")
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/corrupt")) ?? []).isEmpty,
            "nothing to set aside")
        store.close()
    }

    /// An older segment whose bytes were all lost (zeros) held acknowledged events: today recovery finds no frame,
    /// reports nothing, and retirement later deletes the segment.
    @Test func olderSegmentReadingAsZerosIsReported() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(
            directory: dir.path, options: testOptions(segmentSize: 16384), logger: testLogger)
        _ = try await store.acceptPadded(8)
        store.close()
        let segments = try segmentPaths(dir.path)
        #expect(segments.count >= 2)
        let size = try bytes(segments[0]).count
        try Data(repeating: 0, count: size).write(to: URL(fileURLWithPath: segments[0]))

        store = try EventStore(directory: dir.path, options: testOptions(segmentSize: 16384), logger: testLogger)
        #expect(store.journal.corruptRecords >= 1, "a segment that is not the newest had records: report its loss")
        store.close()
    }

    /// A damaged record found while the disk is full: the copy aside cannot be written (ENOSPC), and today the whole
    /// store refuses to open, so the daemon cannot start and every webhook is refused, although nothing needs the
    /// copy until the segment is retired.
    @Test func fullDiskWhileSettingDamageAsideStillOpens() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        for id in ["one", "two", "three"] { #expect(await store.accept(id: id).storedEvent != nil) }
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        let start = try #require(content.firstRange(of: Array("two".utf8))?.lowerBound)
        content[start + 1] ^= 0x5A
        try Data(content).write(to: URL(fileURLWithPath: segment))
        let faults = SyscallFaults()
        var options = testOptions()
        options.faults = faults
        faults.fail("pwrite", errno: ENOSPC, times: 1)  // the first write of the open is the copy aside
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["one", "three"])
        store.close()
    }

    /// A crash while the damaged segment was being copied aside (before its fsync) leaves a partial copy under the
    /// final name; the next open finds the name taken and keeps that partial copy for good, and the segment itself
    /// is later retired. The copy should be written under a temporary name and renamed once synced.
    @Test func partialCopyLeftByACrashIsNotTrustedAsTheCopy() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        for id in ["one", "two", "three"] { #expect(await store.accept(id: id).storedEvent != nil) }
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        let start = try #require(content.firstRange(of: Array("two".utf8))?.lowerBound)
        content[start + 1] ^= 0x5A
        try Data(content).write(to: URL(fileURLWithPath: segment))
        // What a crash in the middle of the first open's copy leaves: the name, with part of the bytes.
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        store.close()
        let copies = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/corrupt")
        #expect(copies.count == 1)
        let copy = dir.path + "/corrupt/" + copies[0]
        try Data(content.prefix(100)).write(to: URL(fileURLWithPath: copy))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        store.close()
        #expect(try bytes(copy) == content, "the copy aside is whole")
    }
}
