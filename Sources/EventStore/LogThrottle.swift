/// At most one log line per `interval` for a failure that can repeat thousands of times a second (a full disk
/// fails every journal batch); the lines between are counted and the next line written gives their number.
/// Not synchronised: its owner's queue serialises it. Metrics count every occurrence themselves.
struct LogThrottle {
    private let interval: Duration
    private var lastLine: ContinuousClock.Instant?
    private var suppressed = 0

    /// A throttle writing at most one line per `interval`.
    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Whether to write a line for an occurrence at `now`: nil when not (it is counted), else the number of
    /// occurrences left unwritten since the last line.
    mutating func admit(at now: ContinuousClock.Instant = .now) -> Int? {
        if let lastLine, now - lastLine < interval {
            suppressed += 1
            return nil
        }
        defer { suppressed = 0 }
        lastLine = now
        return suppressed
    }
}
