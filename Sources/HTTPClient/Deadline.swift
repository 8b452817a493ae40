import POSIX

/// A point on the monotonic clock by which a whole exchange must be done.
struct Deadline {
    /// Nanoseconds on `CLOCK_MONOTONIC`.
    private let instant: UInt64
    /// The budget it was made with, for messages.
    let seconds: Double

    /// `seconds` from now.
    init(secondsFromNow seconds: Double) {
        self.seconds = seconds
        instant = monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9)
    }

    /// Milliseconds left (0 when passed), rounded up, capped at a minute for one `poll`.
    var remainingMilliseconds: Int32 {
        let now = monotonicNanoseconds()
        guard instant > now else { return 0 }
        return Int32(min((instant - now + 999_999) / 1_000_000, 60_000))
    }
}
