import Glibc
import Logging
import POSIX
import TestSupport
import Testing

@testable import Delivery
@testable import EventStore

/// What a full disk makes the delivery side log. The journal's own failed appends are logged at
/// most 20 lines a second ("a full disk fails every batch"); the delivered marks the sinks retry must be bounded too.
@Suite("delivered marks retried while the journal refuses writes")
struct MarkRetryLogTests {
    @Test("a full disk does not turn N owed delivered marks into N error lines every second")
    func markRetryLinesAreBounded() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = SyscallFaults()
        let store = try EventStore(directory: dir.path, options: testOptions(faults: faults), logger: testLogger)
        var sequences: [UInt64] = []
        for number in 0..<300 {
            let event = try #require(await store.accept(id: "evt-\(number)", sinks: ["hook"]).storedEvent)
            sequences.append(event.sequence)
        }
        faults.fail("fdatasync", errno: ENOSPC)  // The disk is full: every journal write fails from now on.
        let log = CapturedLog(level: .error)
        let retryLog = RateLimitedLog(logger: log.logger)  // the worker's
        for sequence in sequences {  // As an exec sink worker marks each finished hook run, one at a time.
            store.markDurably(
                [(sequence, "hook", nil)],
                sink: "hook",
                metrics: NoDeliveryMetrics(),
                retryLog: retryLog
            )
        }
        try await Task.sleep(for: .seconds(3.5))
        let lines = log.messages.filter { $0.message.hasPrefix("cannot record deliveries") }.count
        faults.clear()
        // At 20 lines a second (the journal's own limit) 3.5 s give at most 70, and one report line per second.
        #expect(lines <= 100, "\(lines) error lines in 3.5 s for 300 owed marks (the log grows on the full disk)")
        #expect(lines >= 1, "the failure is logged")
        store.close()
    }
}
