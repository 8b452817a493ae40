/// When to try a failed delivery again: exponential backoff with jitter, up to a number of attempts.
public struct RetryPolicy: Sendable, Equatable {
    /// How the random part of a delay is drawn.
    public enum Jitter: Sendable, Equatable {
        /// The exponential delay itself.
        case none
        /// Uniform in `0 ... delay` ("full jitter"): spreads retries most, may retry almost at once.
        case full
        /// Uniform in `delay/2 ... delay` ("equal jitter"): spread, yet never sooner than half the delay.
        case equal
    }

    /// Attempts in all, the first included; at least 1.
    public var maxAttempts: Int
    /// Delay before the second attempt (before jitter).
    public var baseDelay: Duration
    /// Growth of the delay per further attempt.
    public var factor: Double
    /// Upper bound of any delay.
    public var maxDelay: Duration
    /// How the delay is randomised.
    public var jitter: Jitter

    /// Creates a policy.
    /// - Parameters:
    ///   - maxAttempts: Attempts in all, the first included (values below 1 count as 1).
    ///   - baseDelay: Delay before the second attempt (default 1 s).
    ///   - factor: Growth per attempt (default 2).
    ///   - maxDelay: Cap (default 5 min).
    ///   - jitter: Randomisation (default `.equal`).
    public init(
        maxAttempts: Int,
        baseDelay: Duration = .seconds(1),
        factor: Double = 2,
        maxDelay: Duration = .seconds(300),
        jitter: Jitter = .equal
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.factor = max(1, factor)
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// The wait after failed attempt number `attempt` (1 = the first), or nil when no attempt is left.
    /// - Parameters:
    ///   - attempt: The attempt that just failed, counting from 1.
    ///   - random: A draw uniform in `0 ..< 1` (injected so tests and callers control the randomness).
    public func delay(afterFailedAttempt attempt: Int, random: Double) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let exponent = Double(max(0, attempt - 1))
        let capSeconds = Self.seconds(maxDelay)
        let raw = min(capSeconds, Self.seconds(baseDelay) * Self.power(factor, exponent))
        let unit = min(max(random, 0), 1)
        let seconds: Double =
            switch jitter {
            case .none: raw
            case .full: raw * unit
            case .equal: raw / 2 + raw / 2 * unit
            }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The wait after failed attempt `attempt`, drawing the jitter from `generator`.
    public func delay(afterFailedAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration? {
        delay(afterFailedAttempt: attempt, random: Double.random(in: 0..<1, using: &generator))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `base^exponent` by repeated multiplication, stopping once past any useful cap (no Foundation `pow`).
    private static func power(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}
