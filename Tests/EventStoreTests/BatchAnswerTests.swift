import Dispatch
import POSIX
import Synchronization
import TestSupport
import Testing

@testable import EventStore

/// Answers a batch gives before its journal sync (duplicates) reach the connections' loops without waiting for that
/// sync.
@Suite struct BatchAnswerTests {
    @Test func aDuplicatesAnswerReachesItsLoopBeforeTheBatchsSlowSync() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let store = try EventStore(directory: dir.path, options: testOptions(faults: faults), logger: testLogger)
        defer { store.close() }
        #expect(await store.accept(id: "known").storedEvent != nil)
        let loop = try EventLoop(name: "dup-answer")
        defer { loop.stop() }
        faults.delay("fdatasync", microseconds: 1_000_000)  // A slow disk.
        // Hold the store's queue so both requests land in one batch.
        let gate = DispatchSemaphore(value: 0)
        store.queue.async { gate.wait() }
        let order = Mutex<[String]>([])
        let answered = DispatchSemaphore(value: 0)
        for id in ["known", "new"] {
            store.accept(id: id, type: "t", endpoint: "/e", receivedAtMillis: 0, body: [0x31], sinks: ["file"]) {
                outcome in
                guard outcome == .duplicate else {
                    // Told right after the sync, on the store's queue.
                    order.withLock { $0.append("stored") }
                    answered.signal()
                    return
                }
                // As the ingest path does: the answer goes to the connection's loop.
                loop.execute {
                    order.withLock { $0.append("duplicate") }
                    answered.signal()
                }
            }
        }
        gate.signal()
        #expect(answered.wait(timeout: .now() + 10) == .success)
        #expect(answered.wait(timeout: .now() + 10) == .success)
        faults.clear()
        #expect(order.withLock { $0 } == ["duplicate", "stored"], "the duplicate's answer waited for the sync")
    }
}
