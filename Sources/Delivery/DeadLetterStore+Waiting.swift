import Dispatch
import Logging
import Metrics
import Synchronization

extension DeadLetterStore {
    /// The number of dead letters of each of `sinks` now in the folder.
    ///
    /// A name tells its sink: after its sequence and event hash, the sink's (safe) name, optionally followed by the
    /// `-N` suffix of a taken name (see ``fileName(sequence:sink:eventID:attempt:)``); or, for a letter written by
    /// 424e75c, the sink's name right after the sequence. Where a name fits more than one sink (`fulfil` with the
    /// suffix `-2`, or a sink named `fulfil-2`), the letter itself is read for its sink.
    public func waitingCounts(sinks: [String]) throws(DeadLetterError) -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: sinks.map { ($0, 0) })
        for name in try list() {
            let candidates = sinks.filter { Self.name(name, canBeOf: $0) }
            if candidates.count == 1 {
                counts[candidates[0], default: 0] += 1
            } else if candidates.count > 1, let letter = try? load(name), candidates.contains(letter.sink) {
                counts[letter.sink, default: 0] += 1
            }
        }
        return counts
    }

    /// The sinks, other than `known`, that dead letters in the folder belong to (sinks no longer configured, whose
    /// letters still wait): each letter whose name fits none of `known` is read for its sink.
    public func otherSinks(besides known: [String]) throws(DeadLetterError) -> [String] {
        var others: Set<String> = []
        // A name with a `-N` suffix may also be the plain name of another sink (`fulfil-2`): only a name that fits a
        // known sink without one is taken for that sink's unread.
        for name in try list() where !known.contains(where: { Self.name(name, canBeOf: $0, withSuffix: false) }) {
            if let letter = try? load(name), !known.contains(letter.sink) { others.insert(letter.sink) }
        }
        return others.sorted()
    }

    /// Whether dead letter file `name` can be one of `sink`; with `withSuffix` false, only without the `-N` suffix
    /// of a taken name.
    static func name(_ name: String, canBeOf sink: String, withSuffix: Bool = true) -> Bool {
        let utf8 = name.utf8
        guard utf8.count > 26, name.hasSuffix(".json") else { return false }
        let safe = String(fileName(sequence: 0, sink: sink, eventID: "").dropFirst(30).dropLast(5))
        // 424e75c's `<20 digits>-<sink>.json`.
        if utf8.dropFirst(21).dropLast(5).elementsEqual(sink.utf8) { return true }
        // `<20 digits>-<8 hex>-<safe>[-N].json`.
        let rest = utf8.dropFirst(30).dropLast(5)
        guard utf8.count > 35, rest.starts(with: safe.utf8) else { return false }
        let suffix = rest.dropFirst(safe.utf8.count)
        return suffix.isEmpty
            || (withSuffix && suffix.first == UInt8(ascii: "-") && suffix.count > 1
                && suffix.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
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
