import Dispatch
import Foundation
import Logging

/// Log lines that a flood of bad clients could trigger, bounded: at most `linesPerInterval` lines of each kind per
/// `interval`. Lines beyond are not built or written but counted, and once the interval is over one line per kind
/// reports how many were suppressed. Metrics are not affected: callers count every occurrence themselves.
final class RateLimitedLog: @unchecked Sendable {
    private let logger: Logger
    private let linesPerInterval: Int
    private let interval: Duration
    private let lock = NSLock()
    private var windowStart = ContinuousClock.now
    private var linesInWindow: [String: Int] = [:]
    private var suppressed: [String: Int] = [:]
    private var reportScheduled = false

    /// A limiter writing to `logger`.
    init(logger: Logger, linesPerInterval: Int = 20, interval: Duration = .seconds(1)) {
        self.logger = logger
        self.linesPerInterval = linesPerInterval
        self.interval = interval
    }

    /// Logs `message` unless `kind` already had its lines in the current interval; `metadata` is built only when
    /// the line is written.
    func log(
        _ level: Logger.Level,
        kind: String,
        _ message: String,
        metadata: @autoclosure () -> Logger.Metadata
    ) {
        guard logger.logLevel <= level else { return }
        lock.lock()
        let report = takeReportIfDue()
        let allowed = linesInWindow[kind, default: 0] < linesPerInterval
        var schedule = false
        if allowed {
            linesInWindow[kind, default: 0] += 1
        } else {
            suppressed[kind, default: 0] += 1
            schedule = !reportScheduled
            reportScheduled = true
        }
        lock.unlock()
        write(report)
        if allowed { logger.log(level: level, "\(message)", metadata: metadata()) }
        if schedule { scheduleReport(after: interval) }
    }

    /// Reports what was suppressed once the interval holding it is over. A window that began after this report was
    /// scheduled (a line started it) is waited for in turn, so no count is ever left unreported.
    private func scheduleReport(after delay: Duration) {
        let (seconds, attoseconds) = delay.components
        let nanoseconds = max(0, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)) + 1_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in
            lock.lock()
            let report = takeReportIfDue()
            let remaining = interval - (ContinuousClock.now - windowStart)
            let again = report.isEmpty && suppressed.values.contains { $0 > 0 }
            reportScheduled = again
            lock.unlock()
            write(report)
            if again { scheduleReport(after: remaining) }
        }
    }

    /// Starts a new interval if the current one is over, returning the counts suppressed in it; under `lock`.
    private func takeReportIfDue() -> [String: Int] {
        let now = ContinuousClock.now
        guard now - windowStart >= interval else { return [:] }
        let report = suppressed
        suppressed = [:]
        linesInWindow = [:]
        windowStart = now
        return report
    }

    private func write(_ report: [String: Int]) {
        for (kind, count) in report.sorted(by: { $0.key < $1.key }) where count > 0 {
            logger.warning(
                "log lines suppressed (rate limit)",
                metadata: ["kind": "\(kind)", "lines": "\(count)", "interval_s": "\(interval.components.seconds)"]
            )
        }
    }
}
