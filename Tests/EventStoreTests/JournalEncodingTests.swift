import Dispatch
import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@testable import EventStore

/// The journal's bytes after the store path was made cheaper: padding checksums come from a table, event and mark
/// frames are built without a record value, and a batch is padded in place. The bytes must be what the layout in
/// `JournalRecord` describes, byte for byte, and damage must still be found.
@Suite struct JournalEncodingTests {
    /// A padding frame built the plain way: header, then the padding mark's kind and zeros, checksummed in full.
    private func referencePadding(count: Int) -> [UInt8] {
        let payload = [JournalFrame.paddingKind] + [UInt8](repeating: 0, count: count - JournalRecord.headerSize - 1)
        return littleEndian(UInt32(payload.count)) + littleEndian(CRC32.checksum(payload)) + payload
    }

    private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// A length-prefixed (`u16`) UTF-8 string.
    private func text(_ value: String) -> [UInt8] {
        littleEndian(UInt16(value.utf8.count)) + Array(value.utf8)
    }

    /// The frame of an event record spelled out from the documented layout.
    private func referenceEventFrame(_ event: StoredEvent, sinks: [String]) -> [UInt8] {
        var payload: [UInt8] = [1] + littleEndian(event.sequence) + littleEndian(event.receivedAtMillis)
        payload += text(event.id) + text(event.type) + text(event.endpoint)
        payload += littleEndian(UInt16(sinks.count)) + sinks.flatMap(text)
        payload += littleEndian(UInt32(event.body.count)) + event.body
        payload += [1] + littleEndian(UInt16(1)) + [1]  // identity scheme: id derived from the signed body
        payload += [2] + text(event.source.rawValue)
        if let webhookID = event.webhookID { payload += [3] + text(webhookID) }
        return littleEndian(UInt32(payload.count)) + littleEndian(CRC32.checksum(payload)) + payload
    }

    @Test("every padding frame size gives the bytes of a padding frame checksummed in full")
    func paddingFromTheTableEqualsPaddingComputedInFull() {
        var mismatches: [Int] = []
        let counts =
            Array(JournalFrame.minimumPadding...JournalFrame.maximumPadding) + [JournalFrame.maximumPadding + 1, 8191]
        for count in counts {
            var frame: [UInt8] = [0xAB]  // appended after earlier bytes, as in a batch
            JournalFrame.appendPadding(count: count, to: &frame)
            if frame != [0xAB] + referencePadding(count: count) { mismatches.append(count) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("a checksum continued over a second part equals the checksum of both parts, at every split")
    func checksumContinuesAcrossParts() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<100).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = CRC32.checksum(data)
        var mismatches: [Int] = []
        for split in 0...data.count {
            let first = CRC32.checksum(data[..<split])
            let continued = data[split...].withUnsafeBytes { CRC32.checksum($0, continuing: first) }
            if continued != whole { mismatches.append(split) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("event and delivered frames are the documented bytes, and decode back", arguments: [nil, "wh-1"])
    func framesAreTheDocumentedBytes(webhookID: String?) throws {
        let event = StoredEvent(
            sequence: 0,
            id: "id-ø",
            type: "epayments.payment.captured.v1",
            endpoint: "/vipps",
            receivedAtMillis: 1_800_000_000_123,
            body: Array("{\"a\":1}".utf8),
            webhookID: webhookID,
            source: .reconciliation
        )
        let sinks = ["file", "hook", "file"]
        var output: [UInt8] = [0xEE]
        try JournalRecord.frameEvent(event, sequence: 42, sinks: sinks, into: &output)
        var numbered = event
        numbered.sequence = 42
        #expect(output == [0xEE] + referenceEventFrame(numbered, sinks: sinks))
        #expect(try JournalRecord.event(numbered, sinks: sinks).frame() == Array(output.dropFirst()))
        let check = output.withUnsafeBytes { JournalFrame.check($0, at: 1) }
        guard case .record(.event(let decoded, let decodedSinks), output.count - 1) = check else {
            Issue.record("the frame reads back, found \(check)")
            return
        }
        #expect(decoded == numbered && decodedSinks == sinks)

        let position = SinkPosition(device: 1, inode: 2, offset: 3)
        var mark: [UInt8] = []
        try JournalRecord.frameDelivered(sequence: 42, sink: "hook", position: position, into: &mark)
        let positionBytes = [1, 2, 3].flatMap { littleEndian(UInt64($0)) }
        let payload = [2] + littleEndian(UInt64(42)) + text("hook") + [1] + positionBytes
        #expect(mark == littleEndian(UInt32(payload.count)) + littleEndian(CRC32.checksum(payload)) + payload)
    }

    @Test("a frame that cannot be encoded leaves the batch's earlier bytes as they were")
    func failedFrameLeavesTheBatchUntouched() {
        let event = StoredEvent(
            sequence: 0,
            id: String(repeating: "x", count: 70_000),
            type: "t",
            endpoint: "/e",
            receivedAtMillis: 0,
            body: []
        )
        var output: [UInt8] = [1, 2, 3]
        #expect(throws: StorageError.self) {
            try JournalRecord.frameEvent(event, sequence: 1, sinks: [], into: &output)
        }
        #expect(output == [1, 2, 3])
    }

    @Test("a record whose fields together pass the journal's limit is refused, never framed unreadable")
    func recordOverTheLimitIsRefused() throws {
        let sinks = (0..<40).map { "sink-\($0)-" + String(repeating: "s", count: 120) }
        func event(body: Int) -> StoredEvent {
            StoredEvent(
                sequence: 0,
                id: "id",
                type: "t",
                endpoint: "/e",
                receivedAtMillis: 0,
                body: [UInt8](repeating: 0x61, count: body)
            )
        }
        // The body alone is under the limit; with 40 long sink names the record is not.
        var output: [UInt8] = [1, 2, 3]
        #expect(throws: StorageError.self) {
            try JournalRecord.frameEvent(
                event(body: JournalRecord.maxPayloadSize - 4096),
                sequence: 1,
                sinks: sinks,
                into: &output
            )
        }
        #expect(output == [1, 2, 3])
        // What fits is framed, and reads back.
        var fits: [UInt8] = []
        try JournalRecord.frameEvent(
            event(body: JournalRecord.maxPayloadSize - 8192),
            sequence: 1,
            sinks: sinks,
            into: &fits
        )
        let length = fits.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        #expect(length <= JournalRecord.maxPayloadSize)
        guard case .event(let read, let readSinks) = try JournalRecord.decode(fits[JournalRecord.headerSize...]) else {
            Issue.record("not an event record")
            return
        }
        #expect(read.body.count == JournalRecord.maxPayloadSize - 8192 && readSinks == sinks)
    }

    @Test("a flipped byte anywhere in an event frame makes it invalid")
    func flippedByteIsDetected() throws {
        let event = StoredEvent(
            sequence: 0,
            id: "id",
            type: "t",
            endpoint: "/e",
            receivedAtMillis: 7,
            body: Array("{\"x\":true}".utf8)
        )
        var frame: [UInt8] = []
        try JournalRecord.frameEvent(event, sequence: 9, sinks: ["file"], into: &frame)
        var undetected: [Int] = []
        for index in frame.indices {
            var damaged = frame
            damaged[index] ^= 0x10
            damaged += [0, 0, 0, 0]  // a length made larger must not read past the frame's bytes as valid either
            guard case .invalid = damaged.withUnsafeBytes({ JournalFrame.check($0, at: 0) }) else {
                undetected.append(index)
                continue
            }
        }
        #expect(undetected.isEmpty, "\(undetected)")
    }

    @Test("batches padded in place, with rotations, leave block-aligned segments that reopen without damage")
    func paddedInPlaceAcrossRotations() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 3 * 4096)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        var ids: [String] = []
        for number in 0..<12 {
            // Bodies of varied sizes, so batches end anywhere in a block and some need a whole extra block.
            let body = "{\"pad\":\"\(String(repeating: "p", count: 300 * number + number % 7))\"}"
            let event = try #require(await store.accept(id: "evt-\(number)", body: body, sinks: ["other"]).storedEvent)
            ids.append(event.id)
        }
        store.close()
        let segments = try segmentPaths(dir.path)
        #expect(segments.count > 2, "the batches rotated segments")
        for path in segments {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size % JournalFrame.blockSize == 0, "\(path): \(size)")
        }
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(store.journal.corruptRecords == 0)
        #expect(try store.pendingDeliveries().map(\.event.id) == ids)
        store.close()
    }

    @Test("a batch of more than 16 accepts with repeated ids stores each id once; the others are told duplicate")
    func largeBatchWithRepeatedIds() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let gate = DispatchSemaphore(value: 0)
        store.queue.async { gate.wait() }  // Holds the queue: all 40 requests form one batch.
        let collected = OutcomeList()
        let done = DispatchSemaphore(value: 0)
        let ids = (0..<40).map { "id-\($0 % 25)" }  // 0...14 repeat, both before and after the 16th stored accept
        for id in ids {
            store.accept(id: id, type: "t", endpoint: "/e", receivedAtMillis: 0, body: Array(id.utf8), sinks: []) {
                collected.append($0)
                done.signal()
            }
        }
        gate.signal()
        for _ in ids { done.wait() }
        let stored = collected.outcomes.compactMap(\.storedEvent)
        #expect(stored.count == 25)
        #expect(Set(stored.map(\.id)) == Set(ids))
        #expect(stored.map(\.sequence).sorted() == Array(1...25))
        #expect(collected.outcomes.filter { $0 == .duplicate }.count == 15)
        #expect(store.statistics.syncs == 1, "one batch")
        store.close()
    }

    @Test("when a large batch fails, every accept of it fails, repeated ids too, and none is remembered")
    func largeBatchFailureReachesFollowers() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let store = try EventStore(directory: dir.path, options: testOptions(faults: faults), logger: testLogger)
        faults.fail("fdatasync", errno: EIO, times: 1)
        let gate = DispatchSemaphore(value: 0)
        store.queue.async { gate.wait() }
        let collected = OutcomeList()
        let done = DispatchSemaphore(value: 0)
        let ids = (0..<30).map { "id-\($0 % 20)" }
        for id in ids {
            store.accept(id: id, type: "t", endpoint: "/e", receivedAtMillis: 0, body: [0x31], sinks: []) {
                collected.append($0)
                done.signal()
            }
        }
        gate.signal()
        for _ in ids { done.wait() }
        #expect(collected.outcomes.count == 30)
        #expect(collected.outcomes.allSatisfy { $0.failure?.errnoValue == EIO })
        #expect(await store.accept(id: "id-19").storedEvent?.sequence == 1, "the ids were never stored")
        store.close()
    }
}
