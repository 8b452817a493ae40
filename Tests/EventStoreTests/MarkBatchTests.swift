import Glibc
import POSIX
import TestSupport
import Testing

@testable import EventStore

/// `EventStore.markDelivered(_:completion:)`: many marks in one hand-off and one journal write.
@Suite struct MarkBatchTests {
    private func markAll(_ store: EventStore, _ marks: [EventStore.DeliveredMark]) async -> StorageError? {
        await withCheckedContinuation { continuation in
            store.markDelivered(marks) { continuation.resume(returning: $0) }
        }
    }

    @Test func batchIsOneSyncAndSurvivesRestart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        var events: [StoredEvent] = []
        for number in 0..<4 {
            events.append(try #require(await store.accept(id: "evt-\(number)", sinks: ["file", "hook"]).storedEvent))
        }
        let syncs = store.statistics.syncs
        let first = SinkPosition(device: 1, inode: 2, offset: 100)
        let second = SinkPosition(device: 1, inode: 2, offset: 200)
        let error = await markAll(
            store,
            [
                (events[0].sequence, "file", first), (events[1].sequence, "file", second),
                (events[2].sequence, "hook", nil), (999, "file", nil), (events[0].sequence, "other", nil),
            ]
        )
        #expect(error == nil)
        #expect(store.statistics.syncs == syncs + 1, "one journal write for the whole batch")
        #expect(!store.isPending(sequence: events[0].sequence, sink: "file"))
        #expect(!store.isPending(sequence: events[1].sequence, sink: "file"))
        #expect(!store.isPending(sequence: events[2].sequence, sink: "hook"))
        #expect(store.isPending(sequence: events[2].sequence, sink: "file"))
        #expect(store.lastPosition(sink: "file") == second, "the last position of a sink in the batch wins")

        #expect(await markAll(store, []) == nil)
        #expect(await markAll(store, [(events[0].sequence, "file", first)]) == nil, "already marked")
        #expect(store.statistics.syncs == syncs + 1, "nothing to write, no sync")
        store.close()

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let pending = try store.pendingDeliveries()
        #expect(pending.map(\.event.id) == ["evt-0", "evt-1", "evt-2", "evt-3"])
        #expect(pending.map(\.sinks) == [["hook"], ["hook"], ["file"], ["file", "hook"]])
        #expect(store.lastPosition(sink: "file") == second)
        store.close()
    }

    @Test func failedBatchRecordsNoneOfItsMarks() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let options = testOptions(faults: faults)
        let store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let one = try #require(await store.accept(id: "one").storedEvent)
        let two = try #require(await store.accept(id: "two").storedEvent)
        faults.fail("fdatasync", errno: EIO, times: 1)
        let error = await markAll(store, [(one.sequence, "file", nil), (two.sequence, "file", nil)])
        #expect(error?.errnoValue == EIO)
        #expect(store.isPending(sequence: one.sequence, sink: "file"))
        #expect(store.isPending(sequence: two.sequence, sink: "file"))
        #expect(await markAll(store, [(one.sequence, "file", nil), (two.sequence, "file", nil)]) == nil, "retried")
        #expect(!store.isPending(sequence: two.sequence, sink: "file"))
        store.close()
    }
}
