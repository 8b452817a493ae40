import TestSupport
import Testing

@testable import EventStore

@Suite struct LedgerTests {
    @Test func pendingAfterRestartIsExactlyTheUndelivered() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let both = try #require(await store.accept(id: "both", sinks: ["file", "hook"]).storedEvent)
        let fileOnly = try #require(await store.accept(id: "file-only", sinks: ["file"]).storedEvent)
        _ = try #require(await store.accept(id: "nowhere", sinks: []).storedEvent)
        let done = try #require(await store.accept(id: "done", sinks: ["hook"]).storedEvent)
        let position = SinkPosition(device: 1, inode: 2, offset: 300)
        #expect(await store.mark(both.sequence, "file", position: position) == nil)
        #expect(await store.mark(done.sequence, "hook") == nil)
        #expect(await store.mark(done.sequence, "hook") == nil, "marking twice is harmless")
        #expect(await store.mark(999, "hook") == nil, "unknown sequence is ignored")
        store.close()

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let pending = try store.pendingDeliveries()
        #expect(pending.map(\.event) == [both, fileOnly])
        #expect(pending.map(\.sinks) == [["hook"], ["file"]])
        #expect(store.lastPosition(sink: "file") == position)
        store.close()
    }

    @Test func sinkPositionSurvivesSegmentDeletion() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let options = testOptions(segmentSize: 2048)
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        let body = "{\"pad\":\"\(String(repeating: "p", count: 600))\"}"
        for number in 0..<12 {
            let event = try #require(await store.accept(id: "evt-\(number)", body: body).storedEvent)
            let position = SinkPosition(device: 1, inode: 2, offset: UInt64(number))
            #expect(await store.mark(event.sequence, "file", position: position) == nil)
        }
        // Fill the active segment with an undelivered event so the last mark's segment is retired.
        for number in 12..<16 { _ = await store.accept(id: "evt-\(number)", body: body, sinks: ["other"]) }
        store.close()
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(store.lastPosition(sink: "file")?.offset == 11)
        #expect(try store.pendingDeliveries().map(\.event.id) == (12..<16).map { "evt-\($0)" })
        store.close()
    }
}
