import Dispatch
import Foundation
import POSIX
import Synchronization
import TestSupport
import Testing

@testable import EventStore

@Suite struct DedupTests {
    @Test func redeliveryIsDuplicateAcrossRestart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "evt-1").storedEvent != nil)
        #expect(await store.accept(id: "evt-1") == .duplicate)
        store.close()
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(await store.accept(id: "evt-1") == .duplicate)
        #expect(try store.pendingDeliveries().count == 1, "a duplicate is not journaled again")
        store.close()
    }

    @Test func concurrentSameIdIsJournaledOnce() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        let writer = store
        let outcomes = await withTaskGroup(of: AcceptOutcome.self) { group in
            for _ in 0..<32 { group.addTask { await writer.accept(id: "same") } }
            return await group.reduce(into: [AcceptOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.storedEvent != nil }.count == 1)
        #expect(outcomes.filter { $0 == .duplicate }.count == 31)
        store.close()
        store = try EventStore(directory: dir.path, options: testOptions(), logger: testLogger)
        #expect(try store.pendingDeliveries().map(\.event.id) == ["same"])
        store.close()
    }

    @Test func sameIdInAFailedBatchIsNotToldDuplicate() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let store = try EventStore(directory: dir.path, options: testOptions(faults: faults), logger: testLogger)
        faults.fail("fdatasync", errno: EIO, times: 1)
        // Hold the store's queue so both requests land in one batch.
        let gate = DispatchSemaphore(value: 0)
        store.queue.async { gate.wait() }
        let collected = OutcomeList()
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            store.accept(id: "same", type: "t", endpoint: "/e", receivedAtMillis: 0, body: [0x31], sinks: ["file"]) {
                collected.append($0)
                done.signal()
            }
        }
        gate.signal()
        done.wait()
        done.wait()
        let outcomes = collected.outcomes
        #expect(outcomes.count == 2)
        #expect(outcomes.allSatisfy { $0.failure?.errnoValue == EIO })
        #expect(await store.accept(id: "same").storedEvent?.sequence == 1, "the id was never stored")
        store.close()
    }

    @Test func capacityAndRetentionDropOldest() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock(millis: 1_000_000_000_000)
        var options = testOptions()
        options.dedupCapacity = 3
        options.now = { clock.millis }
        var store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        for number in 0..<4 {
            _ = await store.accept(id: "evt-\(number)", receivedAtMillis: clock.millis)
        }
        #expect(store.statistics.dedupEntries == 3)
        #expect(store.statistics.dedupEvictionsWithinRetention == 1, "evt-0 was dropped for room, not for age")
        let again = await store.accept(id: "evt-0", receivedAtMillis: clock.millis)
        #expect(again.storedEvent != nil, "dropped beyond cap")
        #expect(await store.accept(id: "evt-3", receivedAtMillis: clock.millis) == .duplicate)
        store.close()

        clock.millis += 7 * 24 * 3600 * 1000 + 1
        store = try EventStore(directory: dir.path, options: options, logger: testLogger)
        #expect(store.statistics.dedupEntries == 0, "older than the retention")
        #expect(store.statistics.dedupEvictionsWithinRetention == 0, "dropped for age, not counted")
        #expect(await store.accept(id: "evt-3", receivedAtMillis: clock.millis).storedEvent != nil)
        store.close()
    }
}

/// A settable clock for retention tests.
final class ManualClock: Sendable {
    private let value: Mutex<Int64>

    init(millis: Int64) { value = Mutex(millis) }

    var millis: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// Outcomes gathered from completions on the store's queue.
final class OutcomeList: Sendable {
    private let list = Mutex<[AcceptOutcome]>([])

    func append(_ outcome: AcceptOutcome) { list.withLock { $0.append(outcome) } }

    var outcomes: [AcceptOutcome] { list.withLock { $0 } }
}
