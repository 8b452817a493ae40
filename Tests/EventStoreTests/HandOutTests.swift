import Foundation
import TestSupport
import Testing

@testable import EventStore

/// The store's hand-out: arrivals and the journal re-feed claim through one ledger, so nothing goes out twice.
@Suite struct HandOutTests {
    private func store(_ dir: TemporaryDirectory) throws -> EventStore {
        try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
    }

    @Test func anEventIsHandedOutOncePerSinkUntilGivenBack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        defer { store.close() }
        let event = try #require(await store.accept(id: "a", sinks: ["file", "hook"]).storedEvent)
        #expect(store.handOut(sequence: event.sequence, sinks: ["file", "hook"]) == ["file", "hook"])
        #expect(store.handOut(sequence: event.sequence, sinks: ["file", "hook"]) == [], "already out")
        let feed = store.journalFeed()
        var caughtUp = 0
        #expect(try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) { caughtUp += 1 } == [])
        store.giveBack([event.sequence], sink: "file")
        #expect(store.sinksFedFromJournal == ["file"])
        #expect(store.handOut(sequence: event.sequence, sinks: ["file"]) == [], "a sink fed from the journal")
        #expect(try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) { caughtUp += 1 } == [event])
        #expect(try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) { caughtUp += 1 } == [], "still out")
        #expect(caughtUp == 2)
        #expect(store.sinksFedFromJournal == [])
    }

    @Test func aMarkedEventIsNeverFedAgain() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        defer { store.close() }
        let events = try await store.acceptPadded(5)
        store.feedFromJournal(sink: "file")
        let feed = store.journalFeed()
        let page = try feed.next(sink: "file", maxEvents: 2, maxBytes: 1 << 20) {}
        #expect(page == Array(events[0..<2]))
        #expect(await store.mark(events[0].sequence, "file") == nil)
        store.giveBack([events[0].sequence, events[1].sequence], sink: "file")  // A late give-back of a marked one.
        let rest = try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) {}
        #expect(rest == Array(events[1...]), "oldest first, the marked one never again")
        #expect(store.owedPerSink == ["file": 4])
    }

    @Test func pagesAreBoundedByBytesAndTheRestWaits() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        defer { store.close() }
        let events = try await store.acceptPadded(6)
        store.feedFromJournal(sink: "file")
        let feed = store.journalFeed()
        var seen: [StoredEvent] = []
        while true {
            let page = try feed.next(sink: "file", maxEvents: 100, maxBytes: 1500) {}
            if page.isEmpty { break }
            #expect(page.count <= 2, "a page stops once past the byte bound")
            seen += page
        }
        #expect(seen == events)
    }

    @Test func arrivalsWaitWhileTheSinkIsFedFromTheJournal() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        defer { store.close() }
        let first = try #require(await store.accept(id: "a").storedEvent)
        store.feedFromJournal(sink: "file")
        let second = try #require(await store.accept(id: "b").storedEvent)
        #expect(store.handOut(sequence: second.sequence, sinks: ["file"]) == [])
        let feed = store.journalFeed()
        #expect(try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) {} == [first, second])
        #expect(try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) {} == [])
        let third = try #require(await store.accept(id: "c").storedEvent)
        #expect(store.handOut(sequence: third.sequence, sinks: ["file"]) == ["file"], "back on arrivals")
    }

    @Test func aDamagedRecordFailsThePageAndGivesItBack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        defer { store.close() }
        let events = try await store.acceptPadded(2)
        let segment = try #require(try segmentPaths(dir.path).last)
        // Flip a byte inside the second event's body on disk (the store keeps its ledger in memory).
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        let bytes = try #require(try handle.readToEnd())
        let at = try #require(bytes.lastRange(of: Data("ppppp".utf8))).lowerBound
        try handle.seek(toOffset: UInt64(at))
        try handle.write(contentsOf: Data("q".utf8))
        try handle.close()
        store.feedFromJournal(sink: "file")
        let feed = store.journalFeed()
        #expect(throws: StorageError.self) { try feed.next(sink: "file", maxEvents: 10, maxBytes: 1 << 20) {} }
        #expect(store.sinksFedFromJournal == ["file"], "both stay waiting")
        #expect(try feed.next(sink: "file", maxEvents: 1, maxBytes: 1 << 20) {} == [events[0]])
    }

    @Test func owedIDsAreReadPageByPage() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try store(dir)
        defer { store.close() }
        let events = try await store.acceptPadded(7)
        #expect(await store.mark(events[3].sequence, "file") == nil)
        let ids = try store.journalFeed().owedIDs(sink: "file", pageSize: 2)
        #expect(ids == Set(events.map(\.id)).subtracting(["evt-3"]))
    }
}
