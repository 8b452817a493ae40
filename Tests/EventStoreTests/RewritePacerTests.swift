import Synchronization
import Testing

@testable import EventStore

/// `RewritePacer` on a fake CPU clock: which pauses it asks for, never how long anything took.
@Suite("rewrite pacer")
struct RewritePacerTests {
    /// A CPU clock the test moves, and the pauses asked of it.
    final class FakeThread: Sendable {
        let cpu = Mutex<Int64>(1_000)
        let pauses = Mutex<[Int64]>([])

        func pacer(share: Double) -> RewritePacer {
            RewritePacer(
                cpuShare: share,
                cpuClock: { self.cpu.withLock { $0 } },
                sleep: { nanoseconds in self.pauses.withLock { $0.append(nanoseconds) } }
            )
        }

        /// Works `nanoseconds` of CPU, then lets `pacer` pace.
        func step(_ nanoseconds: Int64, _ pacer: inout RewritePacer, hurried: Bool = false) {
            cpu.withLock { $0 += nanoseconds }
            pacer.pace(unlessHurried: hurried)
        }

        var paused: [Int64] { pauses.withLock { $0 } }
    }

    @Test("a quarter share: after each 5 ms slice of CPU, a pause three times the slice; none before a slice ends")
    func quarterShare() {
        let thread = FakeThread()
        var pacer = thread.pacer(share: 0.25)
        for _ in 0..<4 { thread.step(1_000_000, &pacer) }
        #expect(thread.paused.isEmpty)
        thread.step(1_000_000, &pacer)
        #expect(thread.paused == [15_000_000])
        // The next slice counts from after the pause; a long step pauses in proportion, at most 100 ms.
        thread.step(7_000_000, &pacer)
        thread.step(60_000_000, &pacer)
        #expect(thread.paused == [15_000_000, 21_000_000, RewritePacer.longestPauseNanoseconds])
    }

    @Test("hurried (a flush waits) or a whole share: no pauses, and a slice after a hurry starts afresh")
    func hurriedOrWholeShare() {
        let whole = FakeThread()
        var unpaced = whole.pacer(share: 1)
        for _ in 0..<10 { whole.step(10_000_000, &unpaced) }
        #expect(whole.paused.isEmpty)

        let hurried = FakeThread()
        var pacer = hurried.pacer(share: 0.5)
        hurried.step(9_000_000, &pacer, hurried: true)
        #expect(hurried.paused.isEmpty)
        hurried.step(4_000_000, &pacer)
        #expect(hurried.paused.isEmpty, "the 9 ms before the hurry are not counted again")
        hurried.step(1_000_000, &pacer)
        #expect(hurried.paused == [5_000_000])
    }

    @Test("the real thread clock moves with work done on the thread")
    func threadClockMoves() {
        let start = RewritePacer.threadCPUNanoseconds()
        var sum: UInt64 = 0
        var step: UInt64 = 0
        while RewritePacer.threadCPUNanoseconds() - start < 2_000_000 {
            step &+= 1
            sum = sum &* 6_364_136_223_846_793_005 &+ step
        }
        #expect(sum != 1 && RewritePacer.threadCPUNanoseconds() > start)
    }
}
