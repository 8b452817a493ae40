import Foundation
import POSIX
import Testing

/// POSIX's clocks, the ones the store, the ledger, the reconciler, `send`, the HTTP client's deadlines and the
/// systemd watchdog read (no other copy of these clock_gettime calls).
@Suite struct ClockTests {
    @Test func epochMillisecondsAgreeWithSecondsAndWithFoundation() {
        let seconds = currentEpochSeconds()
        let millis = currentEpochMilliseconds()
        let foundation = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(millis / 1000 >= Int64(seconds) && millis / 1000 <= Int64(seconds) + 1)
        #expect(abs(foundation - millis) < 2000)
    }

    @Test func monotonicNanosecondsNeverGoBack() {
        var last = monotonicNanoseconds()
        for _ in 0..<1000 {
            let now = monotonicNanoseconds()
            #expect(now >= last)
            last = now
        }
    }
}
