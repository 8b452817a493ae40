/// In-memory set of accepted event ids (as ``DedupKey``s) with their acceptance time, oldest first.
///
/// Bounded: at most `capacity` entries; inserting beyond drops the oldest, and ``evict(before:)`` drops entries older
/// than the retention. Memory is about 60–80 bytes per entry (≈ 150 MB at the default 2,000,000). Pure value.
struct DedupIndex {
    /// Most entries kept.
    let capacity: Int
    private var times: [DedupKey: Int64] = [:]
    private var order: [(key: DedupKey, millis: Int64)] = []
    private var head = 0

    /// Creates an empty index holding at most `capacity` entries.
    ///
    /// The table is sized for `capacity` up front: growing it later rehashes every entry at once, a pause of tens of
    /// milliseconds on the store's queue at a million entries. Untouched pages of the reservation cost no memory.
    init(capacity: Int) {
        precondition(capacity > 0, "dedup capacity must be positive")
        self.capacity = capacity
        times.reserveCapacity(capacity)
        order.reserveCapacity(capacity)
    }

    /// Number of entries.
    var count: Int { times.count }

    /// Whether `key` was accepted (and not yet dropped).
    func contains(_ key: DedupKey) -> Bool {
        times[key] != nil
    }

    /// Adds `key` accepted at `millis`; no effect when present. Drops the oldest entry beyond the capacity.
    mutating func insert(_ key: DedupKey, millis: Int64) {
        guard times[key] == nil else { return }
        times[key] = millis
        order.append((key, millis))
        while times.count > capacity { dropOldest() }
    }

    /// Drops entries accepted before `millis`.
    mutating func evict(before millis: Int64) {
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
