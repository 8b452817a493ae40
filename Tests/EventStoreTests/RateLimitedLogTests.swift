import Foundation
import Logging
import TestSupport
import Testing

@testable import EventStore

/// Lines a flood triggers are bounded per interval, and every suppressed line is accounted for in a later report.
@Suite("rate-limited log")
struct RateLimitedLogTests {
    /// Lines written for refusals, and the suppressed count reported so far.
    static func tally(_ log: CapturedLog) -> (written: Int, suppressed: Int) {
        let all = log.messages
        let reported = all.filter { $0.message == "log lines suppressed (rate limit)" }
        let suppressed = reported.compactMap { $0.metadata["lines"].flatMap { Int($0) } }.reduce(0, +)
        return (all.count - reported.count, suppressed)
    }

    private func waitFor(_ condition: () -> Bool) {
        _ = eventually(10, condition)
    }

    @Test(
        "every line over the limit is reported, also in a window a line started before the report was due"
    )
    func everySuppressedLineIsReported() {
        let capture = CapturedLog()
        // Sleeps of 0.6 of the interval: each ends within its window with 0.4 s to spare, however late a loaded
        // machine wakes this thread (with 0.12 of 0.2 s, two late wake-ups put the bursts in windows of their own).
        let log = RateLimitedLog(
            logger: capture.logger,
            linesPerInterval: 3,
            interval: .seconds(1)
        )
        func burst(_ count: Int) {
            for number in 0..<count { log.log(.info, kind: "404", "refused", metadata: ["n": "\(number)"]) }
        }
        burst(3)  // the window's lines, all written
        Thread.sleep(forTimeInterval: 0.6)
        burst(2)  // suppressed late in the window: a report is scheduled one interval from now
        Thread.sleep(forTimeInterval: 0.6)
        // A new window, started by a line before that report is due: the line reports the 2, then 3 written and
        // 2 suppressed, which only the scheduled report (waiting for this window's end) can account for.
        burst(5)
        waitFor { Self.tally(capture).written + Self.tally(capture).suppressed == 10 }
        #expect(Self.tally(capture).written == 6)
        #expect(Self.tally(capture).suppressed == 4)
    }
}
