import TestSupport
import Testing

@testable import EventStore

/// `EventStore.isPending(sequence:sink:)`, which a dead-letter retry uses to mark an event only if still pending.
@Suite struct EventStorePendingTests {
    @Test func pendingPerSinkUntilMarkedAndAfterRestart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let event = try #require(await store.accept(id: "evt", sinks: ["file", "hook"]).storedEvent)
        #expect(store.isPending(sequence: event.sequence, sink: "file"))
        #expect(store.isPending(sequence: event.sequence, sink: "hook"))
        #expect(!store.isPending(sequence: event.sequence, sink: "other"), "a sink it was not routed to")
        #expect(!store.isPending(sequence: event.sequence + 1, sink: "hook"), "an unknown sequence")

        #expect(await store.mark(event.sequence, "hook") == nil)
        #expect(!store.isPending(sequence: event.sequence, sink: "hook"))
        #expect(store.isPending(sequence: event.sequence, sink: "file"))
        store.close()

        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(!store.isPending(sequence: event.sequence, sink: "hook"), "the mark survives a restart")
        #expect(store.isPending(sequence: event.sequence, sink: "file"))
        store.close()
    }
}
