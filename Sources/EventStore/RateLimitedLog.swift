import Dispatch
import Logging
import Synchronization

/// Log lines that a flood of bad clients could trigger, bounded: at most `linesPerInterval` lines of each kind per
/// `interval`. Lines beyond are not built or written but counted, and once the interval is over one line per kind
/// reports how many were suppressed. Metrics are not affected: callers count every occurrence themselves. Used for
/// refused requests (WebhookDaemon) and for the journal's failed appends (a full disk fails every batch).
public final class RateLimitedLog: Sendable {
    private let logger: Logger
    private let linesPerInterval: Int
    private let interval: Duration
    private let window = Mutex(Window())

    /// The current interval's counts.
    private struct Window {
        var start = ContinuousClock.now
        var lines: [String: Int] = [:]
        var suppressed: [String: Int] = [:]
        var reportScheduled = false

        /// Starts a new interval if the current one (`interval` long) is over, returning the counts suppressed in it.
        mutating func takeReportIfDue(interval: Duration) -> [String: Int] {
            let now = ContinuousClock.now
            guard now - start >= interval else { return [:] }
            defer {
                suppressed = [:]
                lines = [:]
                start = now
            }
            return suppressed
        }
    }

    /// A limiter writing to `logger`.
    public init(logger: Logger, linesPerInterval: Int = 20, interval: Duration = .seconds(1)) {
        self.logger = logger
        self.linesPerInterval = linesPerInterval
        self.interval = interval
    }

    /// Logs `message` unless `kind` already had its lines in the current interval; `metadata` is built only when
    /// the line is written.
    public func log(
        _ level: Logger.Level,
        kind: String,
        _ message: String,
        metadata: @autoclosure () -> Logger.Metadata
    ) {
        guard logger.logLevel <= level else { return }
        let (report, allowed, schedule) = window.withLock { window -> ([String: Int], Bool, Bool) in
            let report = window.takeReportIfDue(interval: interval)
            guard window.lines[kind, default: 0] < linesPerInterval else {
                window.suppressed[kind, default: 0] += 1
                defer { window.reportScheduled = true }
                return (report, false, !window.reportScheduled)
            }
            window.lines[kind, default: 0] += 1
            return (report, true, false)
        }
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
            let (report, remaining, again) = window.withLock { window -> ([String: Int], Duration, Bool) in
                let report = window.takeReportIfDue(interval: interval)
                let remaining = interval - (ContinuousClock.now - window.start)
                let again = report.isEmpty && window.suppressed.values.contains { $0 > 0 }
                window.reportScheduled = again
                return (report, remaining, again)
            }
            write(report)
            if again { scheduleReport(after: remaining) }
        }
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
