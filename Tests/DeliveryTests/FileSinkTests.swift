import EventStore
import Foundation
import Glibc
import POSIX
import TestSupport
import Testing

@testable import Delivery

@Suite struct FileSinkTests {
    private func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func exactlyOnceAcrossCrashBetweenWriteAndMark() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.path + "/state"
        let output = dir.path + "/events.jsonl"
        var store = try EventStore(directory: state, options: testOptions(), logger: testLogger)
        var sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        let first = try #require(await store.accept(id: "first").storedEvent)
        let second = try #require(await store.accept(id: "second").storedEvent)
        #expect(await store.mark(first.sequence, "file", position: try sink.write(first)) == nil)
        _ = try sink.write(second)  // the crash: written and synced, but never marked
        // A torn line of a third event, cut by the crash mid-write.
        let handle = try #require(FileHandle(forWritingAtPath: output))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"id\": \"third\", \"ty".utf8))
        try handle.close()
        store.close()

        store = try EventStore(directory: state, options: testOptions(), logger: testLogger)
        let pending = try store.pendingDeliveries()
        #expect(pending.map(\.event.id) == ["second"])
        sink = try FileSink(
            path: output,
            resumeFrom: store.lastPosition(sink: "file"),
            pendingIDs: Set(pending.map(\.event.id)),
            logger: testLogger
        )
        for entry in pending {
            #expect(await store.mark(entry.event.sequence, "file", position: try sink.write(entry.event)) == nil)
        }
        let third = try #require(await store.accept(id: "third").storedEvent)
        _ = try sink.write(third)
        let ids = try lines(output).map { $0.prefix(16) }
        #expect(ids == ["{\"id\": \"first\", ", "{\"id\": \"second\",", "{\"id\": \"third\", "])
        #expect(try store.pendingDeliveries().map(\.event.id) == ["third"])
        store.close()
    }

    @Test func reopenAfterRenameWritesToTheNewFile() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let sink = try FileSink(path: output, mode: 0o640, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        let event = StoredEvent(sequence: 1, id: "a", type: "t", endpoint: "/e", receivedAtMillis: 0, body: [0x31])
        let before = try sink.write(event)
        #expect(rename(output, output + ".1") == 0)
        try sink.reopen()
        var second = event
        second.id = "b"
        let after = try sink.write(second)
        #expect(try lines(output + ".1").count == 1)
        #expect(try lines(output).map { $0.prefix(11) } == ["{\"id\": \"b\","])
        #expect(after.inode != before.inode)
        #expect(after.offset == UInt64(EventLine.render(second).count))
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o640)
    }

    @Test func failedWriteLeavesNoPartialLine() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let faults = SyscallFaults()
        let sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], faults: faults, logger: testLogger)
        let event = StoredEvent(sequence: 1, id: "a", type: "t", endpoint: "/e", receivedAtMillis: 0, body: [0x31])
        faults.fail("fdatasync", errno: ENOSPC, times: 1)
        #expect(throws: SystemCallError.self) { try sink.write(event) }
        #expect(try lines(output).isEmpty)
        #expect(try sink.write(event).offset == UInt64(EventLine.render(event).count))
    }

    @Test func batchWritesInOrderWithOnePositionPerEventAndSkipsLinesWrittenBeforeACrash() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let output = dir.path + "/events.jsonl"
        let events = (1...5).map {
            StoredEvent(
                sequence: UInt64($0),
                id: "e\($0)",
                type: "t",
                endpoint: "/e",
                receivedAtMillis: 0,
                body: Array("{\"n\":\($0)}".utf8)
            )
        }
        let first = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], logger: testLogger)
        _ = try first.write([events[0], events[1]])
        // Restart with e2 and e3 pending: e2 is already in the file (its mark was lost), e3 is not.
        let sink = try FileSink(path: output, resumeFrom: nil, pendingIDs: ["e2", "e3"], logger: testLogger)
        let positions = try sink.write(Array(events[1...4]))
        let ids = try lines(output).map { String($0.dropFirst(8).prefix(2)) }
        #expect(ids == ["e1", "e2", "e3", "e4", "e5"])
        let sizes = events.map { UInt64(EventLine.render($0).count) }
        let expected = (1...4).map { index in sizes[0...index].reduce(0, +) }
        #expect(positions.map(\.offset) == expected)
        let failing = SyscallFaults()
        let faulty = try FileSink(path: output, resumeFrom: nil, pendingIDs: [], faults: failing, logger: testLogger)
        failing.fail("fdatasync", errno: EIO, times: 1)
        #expect(throws: SystemCallError.self) { try faulty.write(events) }
        #expect(try lines(output).count == 5, "a failed batch leaves none of its lines")
    }
}
