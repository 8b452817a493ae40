import FoundationEssentials
import Logging
import Synchronization
import VippsWebhooks

/// Notices an endpoint that keeps answering 401 to deliveries that look authentic: well-formed headers, the content
/// hash right, the date fresh, only the signature wrong. That is what a registration whose secret is not among the
/// endpoint's secrets produces (a rotation half done, a wrong secret file), and every such 401 holds back that
/// payment's later events at the vendor for up to 7 days.
///
/// Once bad signatures have come for longer than the alert time with no good one in between, one error line names
/// the likely cause and `vipps_webhookd_signature_failure_streak{endpoint}` turns 1; the next authentic delivery ends
/// the streak with a notice and the gauge turns 0. A pause of more than ``maximumGapSeconds`` between two bad
/// signatures starts a new streak (the vendor retries a failed event at least hourly). The alert time is 300 s, or
/// the whole seconds of `VIPPS_WEBHOOKD_SIGNATURE_ALERT_SECONDS` (0 = off).
final class SignatureFailureStreaks: Sendable {
    /// Default alert time in seconds.
    static let defaultAlertSeconds = 300
    /// The environment variable that sets the alert time.
    static let environmentKey = "VIPPS_WEBHOOKD_SIGNATURE_ALERT_SECONDS"
    /// Longest pause between two bad signatures within one streak.
    static let maximumGapSeconds = 2 * 3600

    private struct Streak {
        var started: ContinuousClock.Instant
        var lastBad: ContinuousClock.Instant
        var rejected = 1
        var alerted = false
    }

    private let logger: Logger
    private let metrics: DaemonMetrics
    private let alertAfter: Duration?
    private let streaks = Mutex<[String: Streak]>([:])
    /// How many endpoints have a streak: lets an authentic request skip the lock when none has.
    private let open = Atomic<Int>(0)

    /// Streaks logged to `logger`; the alert time from `environment`.
    init(
        logger: Logger,
        metrics: DaemonMetrics,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.logger = logger
        self.metrics = metrics
        let seconds = environment[Self.environmentKey].flatMap(Int.init).map { max($0, 0) } ?? Self.defaultAlertSeconds
        alertAfter = seconds > 0 ? .seconds(seconds) : nil
    }

    /// Records a request refused for `failure` at `endpoint`; only a signature mismatch whose `x-ms-date` is within
    /// `clockSkewSeconds` of `now` counts.
    func refused(
        _ failure: VerificationFailure,
        endpoint: String,
        date: String?,
        now: Int64,
        clockSkewSeconds: Int64
    ) {
        guard let alertAfter, failure == .signatureMismatch, let date, let seconds = HTTPDate.parse(date),
            abs(seconds - now) <= clockSkewSeconds
        else { return }
        let instant = ContinuousClock.now
        let (streak, alert) = streaks.withLock { streaks -> (Streak, Bool) in
            var streak: Streak
            if let current = streaks[endpoint], instant - current.lastBad <= .seconds(Self.maximumGapSeconds) {
                streak = current
                streak.lastBad = instant
                streak.rejected += 1
            } else {
                if streaks[endpoint] == nil { open.add(1, ordering: .relaxed) }
                streak = Streak(started: instant, lastBad: instant)
            }
            let alert = !streak.alerted && instant - streak.started > alertAfter
            if alert { streak.alerted = true }
            streaks[endpoint] = streak
            return (streak, alert)
        }
        guard alert else { return }
        metrics.signatureFailureStreak(endpoint: endpoint, active: true)
        logger.error(
            """
            bad signatures on fresh, well-formed deliveries for over \(alertAfter.components.seconds) s: likely a \
            registration whose secret is not among this endpoint's secrets (secret not rotated, or a wrong secret \
            file); each 401 holds back that payment's later events at Vipps MobilePay for up to 7 days
            """,
            metadata: [
                "endpoint": "\(endpoint)", "rejected": "\(streak.rejected)",
                "seconds": "\((instant - streak.started).components.seconds)",
            ]
        )
    }

    /// Records an authentic request at `endpoint`: ends its streak, with a notice when it had been alerted.
    func authentic(endpoint: String) {
        guard open.load(ordering: .relaxed) > 0 else { return }
        let ended = streaks.withLock { streaks -> Streak? in
            let ended = streaks.removeValue(forKey: endpoint)
            if ended != nil { open.subtract(1, ordering: .relaxed) }
            return ended
        }
        guard let ended, ended.alerted else { return }
        metrics.signatureFailureStreak(endpoint: endpoint, active: false)
        logger.notice(
            "good signature again: the bad-signature streak is over",
            metadata: ["endpoint": "\(endpoint)", "rejected": "\(ended.rejected)"]
        )
    }
}
