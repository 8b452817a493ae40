import Metrics

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
}
