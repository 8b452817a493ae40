import Dispatch
import Foundation
import Glibc
import POSIX
import Synchronization
import TestSupport
import Testing

@testable import EventStore

/// Recovery after damage inside the journal: every valid record is kept, the damage is reported and set aside, and
/// a torn tail of an unacknowledged batch stays a quiet cut.
@Suite struct JournalRecoveryTests {
    /// Accepts `ids` as one batch (the store's queue is held until all are queued).
    private func acceptBatch(_ store: EventStore, _ ids: [String]) -> [AcceptOutcome] {
        let gate = DispatchSemaphore(value: 0)
        store.queue.async { gate.wait() }
        let done = DispatchGroup()
        let outcomes = KeyedOutcomes()
        for id in ids {
            done.enter()
            store.accept(
                id: id,
                type: "epayments.payment.captured.v1",
                endpoint: "/vipps/epayment",
                receivedAtMillis: now(),
                body: Array("{\"id\":\"\(id)\"}".utf8),
                sinks: ["file"]
            ) { outcome in
                outcomes.append(id, outcome)
                done.leave()
            }
        }
        gate.signal()
        done.wait()
        return ids.map { outcomes.outcome(of: $0)! }
    }

    private func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func bytes(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Flips one byte inside the (only) record holding `marker` in one of the segments; returns the segment path.
    @discardableResult
    private func flipByte(in directory: String, inside marker: String, at delta: Int = 2) throws -> String {
        for segment in try segmentPaths(directory) {
            var content = try bytes(segment)
            guard let start = content.firstRange(of: Array(marker.utf8))?.lowerBound else { continue }
            content[start + delta] ^= 0x5A
            try Data(content).write(to: URL(fileURLWithPath: segment))
            return segment
        }
        throw StorageError(.corrupt, call: "test", detail: "\(marker) not found")
    }

    /// A closed store in `directory` holding the event "a": its last segment's path and bytes.
    private func journalWithOneEvent(_ directory: String) async throws -> (path: String, content: [UInt8]) {
        let store = try EventStore(directory: directory, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "a").storedEvent != nil)
        store.close()
        let segment = try #require(try segmentPaths(directory).last)
        return (segment, try bytes(segment))
    }

    /// The records (not padding) of a segment's `content`, walked from the start up to the first invalid frame.
    private func frames(_ content: [UInt8]) -> [(offset: Int, length: Int, record: JournalRecord)] {
        content.withUnsafeBytes { raw in
            var found: [(offset: Int, length: Int, record: JournalRecord)] = []
            var offset = 0
            while offset < raw.count {
                switch JournalFrame.check(raw, at: offset) {
                case .record(let record, let length):
                    found.append((offset, length, record))
                    offset += length
                case .padding(let length):
                    offset += length
                case .invalid, .undecodable:
                    return found
                }
            }
            return found
        }
    }

    private func asideCopies(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory + "/corrupt")) ?? []
    }

    @Test(arguments: [false, true])
    func byteFlippedInsideOneRecordMidSegmentLosesNothingElse(preallocate: Bool) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 1 << 20, preallocate: preallocate)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        var ids: [String] = []
        for number in 0..<4 {
            ids.append("single-\(number)")
            #expect(await store.accept(id: ids.last!).storedEvent != nil)
        }
        let batch = (0..<7).map { "batched-\($0)" }  // back to back in one write
        #expect(acceptBatch(store, batch).allSatisfy { $0.storedEvent != nil })
        ids += batch
        for number in 4..<8 {
            ids.append("single-\(number)")
            #expect(await store.accept(id: ids.last!).storedEvent != nil)
        }
        store.close()
        let segment = try flipByte(in: dir.path, inside: "batched-3")
        let damagedBefore = try bytes(segment)

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let pending = try store.pendingDeliveries()
        #expect(pending.map(\.event.id) == ids.filter { $0 != "batched-3" }, "each other event once, in order")
        #expect(store.journal.corruptRecords == 1)
        let copies = asideCopies(dir.path)
        #expect(copies.count == 1)
        #expect(try bytes(dir.path + "/corrupt/" + copies[0]) == damagedBefore, "the damaged segment set aside")
        let next = try #require(await store.accept(id: "after").storedEvent)
        #expect(next.sequence > 16, "no sequence number handed out again (batched-3 had 8)")
        #expect(await store.markAll(pending.map(\.event)) == nil)
        store.close()

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["after"], "delivered once: nothing owed twice")
        #expect(asideCopies(dir.path).count == 1, "a restart does not copy the same damage again")
        store.close()
    }

    /// Damage of a frame header (a length running far past the record) or a whole record zeroed (a lost block) in
    /// the middle of a batch: resynchronisation still finds the records after it, and zeros are not taken for padding.
    @Test(arguments: ["length", "zeroed"])
    func damagedHeaderOrZeroedRecordMidBatch(kind: String) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let ids = (0..<5).map { "in-batch-\($0)" }
        #expect(acceptBatch(store, ids).allSatisfy { $0.storedEvent != nil })
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        let records = frames(content).filter { if case .event = $0.record { true } else { false } }
        #expect(records.count == 5)
        let victim = records[2]
        if kind == "length" {
            content[victim.offset + 2] = 0x40  // length += 4 MiB: runs past the file
        } else {
            for index in victim.offset..<(victim.offset + victim.length) { content[index] = 0 }
        }
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(
            try store.pendingDeliveries().map(\.event.id) == ["in-batch-0", "in-batch-1", "in-batch-3", "in-batch-4"]
        )
        #expect(store.journal.corruptRecords == 1)
        store.close()
    }

    @Test func damagedDeliveredMarkMakesItsEventPendingAgainNotLost() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let events = try await store.acceptPadded(3)
        #expect(await store.markAll(events.prefix(2)) == nil)
        #expect(await store.accept(id: "later").storedEvent != nil)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).last)
        var content = try bytes(segment)
        let mark = try #require(frames(content).first { if case .delivered = $0.record { true } else { false } })
        content[mark.offset + mark.length / 2] ^= 0xFF
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(store.journal.corruptRecords == 1)
        // The mark of evt-0 was damaged: delivering it again (at least once) rather than losing anything.
        #expect(try store.pendingDeliveries().map(\.event.id) == ["evt-0", "evt-2", "later"])
        store.close()
    }

    @Test func damageInAnOlderSegmentKeepsItsLaterRecordsAndTheCopySurvivesRetirement() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 16 << 10)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let events = try await store.acceptPadded(12)
        store.close()
        let segments = try segmentPaths(dir.path)
        #expect(segments.count >= 4)
        let damaged = try flipByte(in: dir.path, inside: "evt-4", at: 1)
        #expect(damaged == segments[1], "the middle record of the second segment")

        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let pending = try store.pendingDeliveries()
        #expect(pending.map(\.event.id) == events.map(\.id).filter { $0 != "evt-4" })
        #expect(store.journal.corruptRecords == 1)
        #expect(try segmentPaths(dir.path) == segments, "no segment with valid records is deleted")
        #expect(await store.markAll(pending.map(\.event)) == nil)
        #expect(store.statistics.segments <= 2, "delivered segments, the damaged one too, are retired")
        #expect(asideCopies(dir.path).count == 1, "the copy outlives retirement")
        store.close()
    }

    @Test func badFirstFrameKeepsTheRecordsAfterIt() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let events = try await store.acceptPadded(3)
        store.close()
        let segment = try #require(try segmentPaths(dir.path).first)
        var content = try bytes(segment)
        content[10] ^= 0xFF  // inside the checkpoint's payload
        try Data(content).write(to: URL(fileURLWithPath: segment))

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event) == events)
        #expect(store.journal.corruptRecords == 1)
        #expect(try #require(await store.accept(id: "next").storedEvent).sequence > 3)
        store.close()
    }

    @Test func lastEventDamagedBeforeItsPaddingIsReportedAndItsSequenceNotReused() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "first").storedEvent?.sequence == 1)
        #expect(await store.accept(id: "last-one").storedEvent?.sequence == 2)
        store.close()
        try flipByte(in: dir.path, inside: "last-one")

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["first"])
        #expect(store.journal.corruptRecords == 1, "the padding after it shows it was not a torn tail")
        #expect(try #require(await store.accept(id: "new").storedEvent).sequence > 2)
        store.close()
    }

    @Test func tornTailOfAnUnacknowledgedBatchIsAQuietCut() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (segment, written) = try await journalWithOneEvent(dir.path)
        var content = written
        #expect(content.count % 4096 == 0)
        // The first 60 bytes of a real frame, written at the next batch's place: a torn unacknowledged write.
        let frame = try JournalRecord.event(
            StoredEvent(
                sequence: 2,
                id: "torn",
                type: "t",
                endpoint: "/e",
                receivedAtMillis: 0,
                body: Array(repeating: 1, count: 300)
            ),
            sinks: ["file"]
        ).frame()
        content += frame.prefix(60)
        try Data(content).write(to: URL(fileURLWithPath: segment))

        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["a"])
        #expect(store.journal.corruptRecords == 0)
        // Not damage, but the cut bytes are kept: no scan can tell them from an acknowledged batch's damaged end.
        let copies = asideCopies(dir.path)
        let name = "segment-000000000001.log.cut-at-\(written.count)-"
        #expect(copies.count == 1 && copies.allSatisfy { $0.hasPrefix(name) })
        #expect(try copies.map { try bytes(dir.path + "/corrupt/" + $0) } == [Array(frame.prefix(60))])
        #expect(await store.accept(id: "torn").storedEvent?.sequence == 2, "never acknowledged: not a duplicate")
        store.close()
    }

    @Test func everyBatchStartsOnAFreshBlock() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for preallocate in [false, true] {
            let path = dir.path + "/\(preallocate)"
            let store = try EventStore(
                directory: path,
                options: testOptions(segmentSize: 1 << 20, preallocate: preallocate),
                logger: testLogger
            )
            #expect(await store.accept(id: "one").storedEvent != nil)
            #expect(acceptBatch(store, ["two", "three", "four"]).allSatisfy { $0.storedEvent != nil })
            #expect(await store.mark(1, "file") == nil)
            #expect(
                await store.accept(id: "five", body: paddedBody + paddedBody + paddedBody + paddedBody + paddedBody)
                    .storedEvent != nil
            )
            #expect(await store.accept(id: "six").storedEvent != nil)
            store.close()
            let content = try bytes(try #require(try segmentPaths(path).last))
            var writes: [Int] = []  // where each write (checkpoint or batch) starts: after a padding frame
            var offset = 0
            var startOfWrite = true
            content.withUnsafeBytes { raw in
                while offset < raw.count {
                    switch JournalFrame.check(raw, at: offset) {
                    case .record(_, let length):
                        if startOfWrite { writes.append(offset) }
                        startOfWrite = false
                        offset += length
                    case .padding(let length):
                        offset += length
                        startOfWrite = true
                        #expect(offset % 4096 == 0, "padding ends on a block boundary")
                    case .invalid, .undecodable:
                        #expect(JournalFrame.firstNonZero(raw, from: offset) == nil, "only zeros after the end")
                        offset = raw.count
                    }
                }
            }
            #expect(writes.count == 6, "checkpoint, 3 event batches, 1 mark batch, the large batch, the last one")
            #expect(writes.allSatisfy { $0 % 4096 == 0 })
            #expect(writes.last! >= 5 * 4096, "the large batch took more than one block")
        }
    }

    @Test func journalWrittenWithoutPaddingStillReplaysAndIsNotAppendedTo() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        var legacy = try JournalRecord.checkpoint(nextSequence: 1, positions: [:]).frame()
        var events: [StoredEvent] = []
        for sequence in UInt64(1)...3 {
            let event = StoredEvent(
                sequence: sequence,
                id: "old-\(sequence)",
                type: "t",
                endpoint: "/e",
                receivedAtMillis: now(),
                body: Array("{}".utf8)
            )
            events.append(event)
            try JournalRecord.event(event, sinks: ["file"]).frame(into: &legacy)
        }
        try JournalRecord.delivered(sequence: 2, sink: "file", position: nil).frame(into: &legacy)
        let path = dir.path + "/segment-000000000001.log"
        try Data(legacy).write(to: URL(fileURLWithPath: path))

        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event) == [events[0], events[2]])
        #expect(store.journal.corruptRecords == 0)
        #expect(await store.accept(id: "new").storedEvent?.sequence == 4)
        #expect(try bytes(path) == legacy, "acknowledged unaligned bytes are never written again")
        #expect(try segmentPaths(dir.path).count == 2, "appends went to a new, aligned segment")
        store.close()
    }

    /// The reader before padding existed decodes every CRC-valid frame as a record and takes the first one that does
    /// not decode as the end. Padding must read there as a harmless record: a delivered mark of sequence 0 (no event
    /// has it) for no sink and without a position.
    @Test(arguments: [JournalFrame.minimumPadding, 100, 4095, 4096, 8191])
    func paddingDecodesAsADeliveredMarkOfSequenceZero(count: Int) throws {
        var frame: [UInt8] = []
        JournalFrame.appendPadding(count: count, to: &frame)
        #expect(frame.count == count)
        let check = frame.withUnsafeBytes { JournalFrame.check($0, at: 0) }
        guard case .padding(count) = check else {
            Issue.record("a valid padding frame of \(count) bytes, found \(check)")
            return
        }
        let payload = frame[JournalRecord.headerSize...]
        #expect(try JournalRecord.decode(payload) == .delivered(sequence: 0, sink: "", position: nil))
        var ledger = DeliveryLedger()
        ledger.add(sequence: 1, sinks: ["file"], at: Journal.Location(segment: 1, offset: 4096))
        ledger.markDelivered(sequence: 0, sink: "", position: nil)
        #expect(ledger.pending.keys.sorted() == [1] && ledger.positions.isEmpty, "changes nothing")
    }

    /// A journal written by this version, read by the rules of the version before padding (every CRC-valid frame is a
    /// record; the first that is not ends the segment), yields every record: nothing is cut.
    @Test func journalReadByTheRulesBeforePaddingLosesNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let events = try await store.acceptPadded(3)
        #expect(acceptBatch(store, ["b1", "b2"]).allSatisfy { $0.storedEvent != nil })
        #expect(await store.markAll(events.prefix(1)) == nil)
        #expect(await store.accept(id: "last").storedEvent != nil)
        store.close()
        let content = try bytes(try #require(try segmentPaths(dir.path).last))
        var oldRecords: [JournalRecord] = []
        var offset = 0
        while offset + JournalRecord.headerSize <= content.count {
            let length = content[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
            let end = offset + JournalRecord.headerSize + length
            guard length > 0, end <= content.count,
                let record = try? JournalRecord.decode(content[(offset + JournalRecord.headerSize)..<end])
            else { break }
            let crc = content[(offset + 4)..<(offset + 8)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard CRC32.checksum(Array(content[(offset + JournalRecord.headerSize)..<end])) == crc else { break }
            oldRecords.append(record)
            offset = end
        }
        #expect(content.withUnsafeBytes { JournalFrame.firstNonZero($0, from: offset) } == nil, "read to the end")
        let ids = oldRecords.compactMap { record -> String? in
            if case .event(let event, _) = record { return event.id }
            return nil
        }
        #expect(ids == ["evt-0", "evt-1", "evt-2", "b1", "b2", "last"])
        let marks = oldRecords.compactMap { record -> UInt64? in
            if case .delivered(let sequence, let sink, _) = record, !sink.isEmpty { return sequence }
            return nil
        }
        #expect(marks == [events[0].sequence])
    }

    @Test func recordKindOfANewerVersionRefusesToOpenAndCutsNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (segment, written) = try await journalWithOneEvent(dir.path)
        var content = written
        let payload: [UInt8] = [42, 1, 2, 3]  // kind 42 with a valid checksum
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { content.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32.checksum(payload).littleEndian) { content.append(contentsOf: $0) }
        content += payload
        try Data(content).write(to: URL(fileURLWithPath: segment))

        #expect {
            try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        } throws: { error in
            (error as? StorageError)?.code == .corrupt && "\(error)".contains("kind 42")
        }
        #expect(try bytes(segment) == content, "nothing was cut")
    }

    @Test func journalThatCannotBeCutBackIsADeadEnd() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let options = testOptions(faults: faults)
        let store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let reported = KeyedOutcomes()
        store.onDeadEnd { error in reported.append("dead-end", .failed(error)) }
        #expect(await store.accept(id: "a").storedEvent != nil)
        #expect(store.deadEnd == nil)
        faults.fail("fdatasync", errno: EIO, times: 2)  // the batch's sync, then the undo's sync
        #expect(await store.accept(id: "b").failure?.errnoValue == EIO)
        faults.clear()
        #expect(await store.accept(id: "c").failure?.code == .unavailable)
        #expect(store.deadEnd?.code == .unavailable)
        #expect(reported.outcome(of: "dead-end")?.failure?.code == .unavailable, "reported once, to the handler")
        let late = KeyedOutcomes()
        store.onDeadEnd { error in late.append("late", .failed(error)) }
        #expect(late.outcome(of: "late") != nil, "a handler set afterwards learns it at once")
        store.close()
    }
}

/// Outcomes collected from completion handlers on other threads.
final class KeyedOutcomes: Sendable {
    private let outcomes = Mutex<[String: AcceptOutcome]>([:])

    func append(_ key: String, _ outcome: AcceptOutcome) {
        outcomes.withLock { $0[key] = outcome }
    }

    func outcome(of key: String) -> AcceptOutcome? {
        outcomes.withLock { $0[key] }
    }
}
