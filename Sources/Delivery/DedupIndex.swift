/// In-memory set of accepted event ids (as ``DedupKey``s) with their acceptance time, oldest first.
///
/// Bounded: at most `capacity` entries; inserting beyond drops the oldest, and ``evict(before:)`` drops entries older
/// than the retention. Memory: 87 bytes per entry measured (1–4 million random keys; ≈ 175 MB at the default
/// 2,000,000). Pure value.
struct DedupIndex {
    /// Most entries kept.
    let capacity: Int
    private var times: [DedupKey: Int64] = [:]
    private var order: [(key: DedupKey, millis: Int64)] = []
    private var head = 0
    /// The retention floor given to the last ``evict(before:)``: entries at or after it are still needed.
    private var floor = Int64.min
    /// Entries dropped for room (capacity reached) while still within the retention: a redelivery of one of them
    /// would be accepted again.
    private(set) var earlyEvictions = 0
    /// Acceptance time of the newest entry counted in ``earlyEvictions``.
    private(set) var newestEarlyEvictionMillis: Int64?

    /// Creates an empty index holding at most `capacity` entries.
    ///
    /// The hash table is sized for at most 1,048,576 entries up front (a 48 MB reservation), not for `capacity`.
    /// Keys land on random buckets, so every page of the reservation is touched (and page-faulted, which is costly
    /// on a VM) within the first hundred thousand or so inserts: a reservation for two million entries cost 14% of
    /// the daemon's CPU under load while it filled. Growing from a small table instead rehashed every entry at each
    /// doubling, on the store's queue: a pause of ≈ 100 ms at 524,288 entries that showed up as a 113 ms maximum and
    /// a p99 of 16–29 ms under 128 connections. Past a million ids the table still grows (rare: a week's ids).
    /// The insertion-order list is appended in order, so reserving it costs only the pages used.
    init(capacity: Int) {
        precondition(capacity > 0, "dedup capacity must be positive")
        self.capacity = capacity
        times.reserveCapacity(min(capacity, Self.initialTableCapacity))
        order.reserveCapacity(capacity)
    }

    private static let initialTableCapacity = 1_048_576

    /// Number of entries.
    var count: Int { times.count }

    /// Whether `key` was accepted (and not yet dropped).
    func contains(_ key: DedupKey) -> Bool {
        times[key] != nil
    }

    /// Adds `key` accepted at `millis`; no effect when present. Drops the oldest entry beyond the capacity (counted
    /// in ``earlyEvictions`` when still within the retention).
    mutating func insert(_ key: DedupKey, millis: Int64) {
        guard times[key] == nil else { return }
        times[key] = millis
        order.append((key, millis))
        while times.count > capacity {
            let dropped = order[head].millis
            if dropped >= floor {
                earlyEvictions += 1
                newestEarlyEvictionMillis = max(newestEarlyEvictionMillis ?? dropped, dropped)
            }
            dropOldest()
        }
    }

    /// Drops entries accepted before `millis` (the retention floor).
    mutating func evict(before millis: Int64) {
        floor = max(floor, millis)
        while head < order.count && order[head].millis < millis { dropOldest() }
    }

    /// The entries, oldest first.
    var entries: ArraySlice<(key: DedupKey, millis: Int64)> { order[head...] }

    private mutating func dropOldest() {
        times[order[head].key] = nil
        head += 1
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
