import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@testable import EventStore

/// Damaged journal segments are copied aside before anything of them goes: never taken for an older copy of the same
/// number, never cut as a torn tail when the copy failed.
@Suite struct JournalDamageCopyTests {
    private func bytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A rotation cut short is set aside as `segment-N.log.damaged-at-0` and its number N is used again. When the
    /// new segment N is later damaged at offset 0 (its checkpoint block), copyDurably finds that name and skips the
    /// copy, so the damaged segment is retired with no copy of it anywhere.
    @Test("a damaged segment whose number an earlier cut-short rotation used is copied aside before it is retired")
    func damagedSegmentReusingANumberIsCopiedAside() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 16 << 10)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(await store.accept(id: "kept").storedEvent != nil)
        store.close()
        // A crash cut the rotation to segment 2 short (torn checkpoint).
        var torn = [UInt8](repeating: 0, count: 8192)
        let checkpoint = try JournalRecord.checkpoint(nextSequence: 2, positions: [:]).frame()
        torn.replaceSubrange(0..<checkpoint.count, with: checkpoint)
        torn[9] ^= 0xFF
        let second = dir.path + "/segment-000000000002.log"
        try Data(torn).write(to: URL(fileURLWithPath: second))
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(!FileManager.default.fileExists(atPath: second))
        let oldCopies = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/corrupt")
        #expect(oldCopies.count == 1 && oldCopies[0].hasPrefix("segment-000000000002.log.damaged-at-0-"))
        // Number 2 is used again, and a third segment follows it.
        var count = 0
        while try segmentPaths(dir.path).count < 3 {
            #expect(await store.accept(id: "evt-\(count)", body: paddedBody).storedEvent != nil)
            count += 1
            try #require(count < 100)
        }
        store.close()
        // Later, segment 2's first block is damaged.
        var content = try bytes(second)
        content[12] ^= 0x5A
        try Data(content).write(to: URL(fileURLWithPath: second))
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(store.journal.corruptRecords == 1)
        let copies = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/corrupt")
        let copied = try copies.contains {
            try bytes(dir.path + "/corrupt/" + $0).prefix(content.count) == content[...]
        }
        #expect(copied, "the damaged segment 2 is copied aside (found only the old torn rotation's copy: \(copies))")
        // Delivered: segment 2 is retired; its damaged bytes then exist nowhere.
        #expect(await store.markAll(try store.pendingDeliveries().map(\.event)) == nil)
        _ = store.statistics
        #expect(!FileManager.default.fileExists(atPath: second))
        store.close()
    }

    /// An older segment whose tail is damaged (reported, copy aside failed on a full disk) becomes the active one
    /// when the newer segment is removed as an empty, cut-short rotation; Journal.init then cuts the "torn tail"
    /// (cutTail) of what it just reported as damage, so the damaged bytes are gone before any copy exists and the
    /// next open finds nothing to copy.
    @Test("reported damage whose copy failed is kept in its segment, even when a removed rotation makes it the newest")
    func reportedDamageIsNotCutWhenItsSegmentBecomesActive() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        for id in ["one", "two"] { #expect(await store.accept(id: id).storedEvent != nil) }
        store.close()
        let first = try #require(try segmentPaths(dir.path).last)
        let damage = [UInt8](repeating: 0xAB, count: 100)
        let handle = try #require(FileHandle(forWritingAtPath: first))
        handle.seekToEndOfFile()
        handle.write(Data(damage))
        handle.closeFile()
        let before = try bytes(first)
        // A rotation to segment 2 cut short (zeros).
        try Data(count: 8192).write(to: URL(fileURLWithPath: dir.path + "/segment-000000000002.log"))
        let faults = SyscallFaults()
        faults.fail("pwrite", errno: ENOSPC, times: 1)  // the copy aside
        store = try EventStore(directory: dir.path, options: testOptions(faults: faults), logger: testLogger)
        #expect(store.journal.corruptRecords == 1)
        #expect(store.journal.uncopiedSegments == [1])
        store.close()
        #expect(try bytes(first) == before, "damage reported but not copied must stay in the segment")
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let copies = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/corrupt")) ?? []
        #expect(!copies.isEmpty, "a later open copies the damaged segment")
        store.close()
    }

    @Test("an event whose record would pass the journal's limit fails alone; the store goes on")
    func recordOverTheLimitFailsAlone() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try EventStore(directory: dir.path, options: testOptions(segmentSize: 16 << 20), logger: testLogger)
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: JournalRecord.maxPayloadSize - 4096)
        let sinks = (0..<40).map { "sink-" + String(repeating: "s", count: 120) + "-\($0)" }
        let outcome = await withCheckedContinuation { continuation in
            store.accept(
                id: "big",
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps/epayment",
                receivedAtMillis: Int64(Date().timeIntervalSince1970 * 1000),
                body: body,
                sinks: sinks
            ) { continuation.resume(returning: $0) }
        }
        guard case .failed(let error) = outcome else {
            Issue.record("a record over the limit was taken: \(outcome)")
            return
        }
        #expect(error.code == .invalidArgument)
        #expect(await store.accept(id: "next").storedEvent != nil)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["next"])
        store.close()
    }
}
