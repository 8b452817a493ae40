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

        func work(_ nanoseconds: Int64) { cpu.withLock { $0 += nanoseconds } }
    }

    @Test("a quarter share: after each 5 ms slice of CPU, a pause three times the slice; none before a slice ends")
    func quarterShare() {
        let thread = FakeThread()
        var pacer = thread.pacer(share: 0.25)
        for _ in 0..<4 {
            thread.work(1_000_000)
            pacer.pace(unlessHurried: false)
        }
        #expect(thread.pauses.withLock { $0 }.isEmpty)
        thread.work(1_000_000)
        pacer.pace(unlessHurried: false)
        #expect(thread.pauses.withLock { $0 } == [15_000_000])
        // The next slice counts from after the pause; a long step pauses in proportion, at most 100 ms.
        thread.work(7_000_000)
        pacer.pace(unlessHurried: false)
        thread.work(60_000_000)
        pacer.pace(unlessHurried: false)
        #expect(thread.pauses.withLock { $0 } == [15_000_000, 21_000_000, RewritePacer.longestPauseNanoseconds])
    }

    @Test("hurried (a flush waits) or a whole share: no pauses, and a slice after a hurry starts afresh")
    func hurriedOrWholeShare() {
        let whole = FakeThread()
        var unpaced = whole.pacer(share: 1)
        for _ in 0..<10 {
            whole.work(10_000_000)
            unpaced.pace(unlessHurried: false)
        }
        #expect(whole.pauses.withLock { $0 }.isEmpty)

        let hurried = FakeThread()
        var pacer = hurried.pacer(share: 0.5)
        hurried.work(9_000_000)
        pacer.pace(unlessHurried: true)
        #expect(hurried.pauses.withLock { $0 }.isEmpty)
        hurried.work(4_000_000)
        pacer.pace(unlessHurried: false)
        #expect(hurried.pauses.withLock { $0 }.isEmpty, "the 9 ms before the hurry are not counted again")
        hurried.work(1_000_000)
        pacer.pace(unlessHurried: false)
        #expect(hurried.pauses.withLock { $0 } == [5_000_000])
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
