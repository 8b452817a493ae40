import Dispatch
import Logging
import Metrics
import Synchronization

extension DeadLetterStore {
    /// The number of dead letters of each of `sinks` now in the folder, told by their file names.
    ///
    /// A name belongs to a sink when, after its sequence and event hash, it holds the sink's (safe) name, optionally
    /// followed by the `-N` suffix of a taken name (see ``fileName(sequence:sink:eventID:attempt:)``).
    public func waitingCounts(sinks: [String]) throws(DeadLetterError) -> [String: Int] {
        let names = try list()
        var counts: [String: Int] = [:]
        for sink in sinks {
            // The 30 characters before the sink part: 20 sequence digits, '-', 8 hex digits, '-'.
            let safe = String(Self.fileName(sequence: 0, sink: sink, eventID: "").dropFirst(30).dropLast(5))
            counts[sink] = names.count { name in
                let rest = name.utf8.dropFirst(30).dropLast(5)
                guard name.utf8.count > 35, rest.starts(with: safe.utf8) else { return false }
                let suffix = rest.dropFirst(safe.utf8.count)
                return suffix.isEmpty
                    || (suffix.first == UInt8(ascii: "-") && suffix.count > 1
                        && suffix.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            }
        }
        return counts
    }

    /// Sets the gauge `vipps_webhookd_dead_letters{sink}` (dead letters waiting now) of each of `sinks` from the
    /// folder; when the folder cannot be read the gauges keep their values and the error is returned.
    @discardableResult
    public func recordWaiting(sinks: [String]) -> DeadLetterError? {
        do {
            for (sink, count) in try waitingCounts(sinks: sinks) {
                Gauge(label: "vipps_webhookd_dead_letters", dimensions: [("sink", sink)]).record(count)
            }
            return nil
        } catch {
            return error
        }
    }

    /// Like ``recordWaiting(sinks:)``, but at most once per 200 ms, off the caller's queue: a burst of dead letters
    /// (a removed sink's backlog) costs one scan of the folder, not one per letter. A folder that cannot be read is
    /// logged to `logger` and counted in `vipps_webhookd_storage_errors_total{operation="dead_letter_count"}`.
    public func recordWaitingSoon(sinks: [String], logger: Logger) {
        waitingRecount.request(sinks) { [self] sinks in
            guard let error = recordWaiting(sinks: sinks) else { return }
            Counter(label: "vipps_webhookd_storage_errors_total", dimensions: [("operation", "dead_letter_count")])
                .increment()
            logger.error(
                "cannot count the dead letters; vipps_webhookd_dead_letters keeps its last values",
                metadata: ["error": "\(error)"]
            )
        }
    }
}

/// Runs a recount for the sinks asked for since the last one, at most once per `delay`, on a queue of its own.
final class CoalescedRecount: Sendable {
    private struct State {
        var scheduled = false
        var sinks: [String] = []
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "vipps-webhookd.dead-letter-count", qos: .utility)
    private let delay: DispatchTimeInterval

    init(delay: DispatchTimeInterval = .milliseconds(200)) {
        self.delay = delay
    }

    /// Adds `sinks` to the next recount, scheduling one when none is pending.
    func request(_ sinks: [String], run: @escaping @Sendable ([String]) -> Void) {
        let schedule = state.withLock { state -> Bool in
            for sink in sinks where !state.sinks.contains(sink) { state.sinks.append(sink) }
            guard !state.scheduled else { return false }
            state.scheduled = true
            return true
        }
        guard schedule else { return }
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            let due = state.withLock { state -> [String] in
                state.scheduled = false
                defer { state.sinks = [] }
                return state.sinks
            }
            run(due)
        }
    }
}
