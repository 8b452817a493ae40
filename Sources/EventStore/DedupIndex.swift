/// In-memory set of accepted event ids (as ``DedupKey``s) with their acceptance time, oldest first.
///
/// Bounded: at most `capacity` entries; inserting beyond drops the oldest, and ``evict(before:)`` drops entries older
/// than the retention. Pure value.
///
/// Layout, for about 26 bytes per id (the key and time, 20 bytes, once; a 4-byte slot at a load of at most 3/4):
/// - a ring of entries (key, time) in insertion order, in chunks of 65,536 allocated as the ring first reaches them,
///   so memory follows the number of ids, not the capacity, and an entry never moves. An entry is five 32-bit words:
///   the key's four and its acceptance time in whole seconds since 1970, rounded up, so an id is kept up to a second
///   longer than its retention, never less, and a time reads back as a multiple of 1,000 ms;
/// - an open-addressing table (linear probing) of 32-bit slots, each 0 or a ring position + 1. A key's home slot
///   comes from its high 64 bits (already uniform: the key is a SHA-256 prefix). A lookup compares the whole
///   16-byte key in the ring, so two ids are the same only when their keys are; deletion shifts the probe run back,
///   so there are no tombstones.
///
/// The table starts sized for min(capacity, 4,096) ids (22 KB, so an idle daemon does not hold a table for ids it
/// has not seen) and doubles when it is 3/4 full, rebuilding from the ring (≈ 12 ms per million ids on this machine;
/// the rebuilds of the first million ids add up to about twice the last one, rare after that).
struct DedupIndex {
    /// Most entries kept.
    let capacity: Int
    /// Entries dropped for room (capacity reached) while still within the retention: a redelivery of one of them
    /// would be accepted again.
    private(set) var earlyEvictions = 0
    /// Acceptance time of the newest entry counted in ``earlyEvictions``.
    private(set) var newestEarlyEvictionMillis: Int64?

    /// One ring entry in 20 bytes: 4-byte words, so no padding (64-bit fields would round it up to 24).
    private struct Entry {
        private var highWords: (UInt32, UInt32)
        private var lowWords: (UInt32, UInt32)
        private var seconds: UInt32

        init(_ key: DedupKey, millis: Int64) {
            highWords = (UInt32(truncatingIfNeeded: key.high >> 32), UInt32(truncatingIfNeeded: key.high))
            lowWords = (UInt32(truncatingIfNeeded: key.low >> 32), UInt32(truncatingIfNeeded: key.low))
            let roundedUp = millis <= 0 ? 0 : millis / 1000 + (millis % 1000 == 0 ? 0 : 1)
            seconds = UInt32(clamping: roundedUp)
        }

        var high: UInt64 { UInt64(highWords.0) << 32 | UInt64(highWords.1) }
        var low: UInt64 { UInt64(lowWords.0) << 32 | UInt64(lowWords.1) }
        /// The acceptance time, rounded up to the second.
        var millis: Int64 { Int64(seconds) * 1000 }
    }

    /// Bytes one id takes in the ring (the table adds about 6 more).
    static let ringBytesPerEntry = MemoryLayout<Entry>.stride

    private static let chunkShift = 16
    private static let chunkSize = 1 << chunkShift
    private static let initialTableEntries = 1 << 12

    /// The ring: chunk `p >> 16` holds position `p`. Positions run from 0 to `ringSize - 1` and wrap.
    private var chunks: [[Entry]] = []
    private let ringSize: Int
    /// Ring position of the oldest entry.
    private var head = 0
    private(set) var count = 0
    /// 0 = empty, else ring position + 1.
    private var slots: [UInt32]
    /// The retention floor given to the last ``evict(before:)``: entries at or after it are still needed.
    private var floor = Int64.min

    /// Creates an empty index holding at most `capacity` entries (at most 2^32 − 2).
    init(capacity: Int) {
        precondition(capacity > 0 && capacity < Int(UInt32.max) - 1, "dedup capacity must be 1 to 2^32 - 2")
        self.capacity = capacity
        ringSize = ((capacity + Self.chunkSize - 1) >> Self.chunkShift) << Self.chunkShift
        slots = Array(repeating: 0, count: Self.tableSize(forEntries: min(capacity, Self.initialTableEntries)))
    }

    /// Whether `key` was accepted (and not yet dropped).
    func contains(_ key: DedupKey) -> Bool {
        find(key) != nil
    }

    /// Adds `key` accepted at `millis`; no effect when present. Drops the oldest entry beyond the capacity (counted
    /// in ``earlyEvictions`` when still within the retention).
    mutating func insert(_ key: DedupKey, millis: Int64) {
        guard find(key) == nil else { return }
        if count == capacity {
            let dropped = entry(at: head).millis
            if dropped >= floor {
                earlyEvictions += 1
                newestEarlyEvictionMillis = max(newestEarlyEvictionMillis ?? dropped, dropped)
            }
            dropOldest()
        }
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let position = (head + count) % ringSize
        let chunk = position >> Self.chunkShift
        while chunks.count <= chunk { chunks.append([]) }
        let entry = Entry(key, millis: millis)
        let offset = position & (Self.chunkSize - 1)
        if offset < chunks[chunk].count {
            chunks[chunk][offset] = entry
        } else {
            if chunks[chunk].capacity == 0 { chunks[chunk].reserveCapacity(Self.chunkSize) }
            chunks[chunk].append(entry)
        }
        count += 1
        var slot = home(key.high)
        while slots[slot] != 0 { slot = slot + 1 == slots.count ? 0 : slot + 1 }
        slots[slot] = UInt32(position + 1)
    }

    /// Drops entries accepted before `millis` (the retention floor).
    mutating func evict(before millis: Int64) {
        floor = max(floor, millis)
        while count > 0 && entry(at: head).millis < millis { dropOldest() }
    }

    /// The entries, oldest first, their times rounded up to the second.
    var entries: [(key: DedupKey, millis: Int64)] {
        (0..<count).map { index in
            let entry = entry(at: (head + index) % ringSize)
            return (DedupKey(high: entry.high, low: entry.low), entry.millis)
        }
    }

    private func entry(at position: Int) -> Entry {
        chunks[position >> Self.chunkShift][position & (Self.chunkSize - 1)]
    }

    /// The slot holding `key`, or nil.
    private func find(_ key: DedupKey) -> Int? {
        var slot = home(key.high)
        while slots[slot] != 0 {
            let stored = entry(at: Int(slots[slot]) - 1)
            if stored.high == key.high && stored.low == key.low { return slot }
            slot = slot + 1 == slots.count ? 0 : slot + 1
        }
        return nil
    }

    /// The home slot of a key whose high half is `high`: `high × table size ÷ 2^64`.
    private func home(_ high: UInt64) -> Int {
        Int(high.multipliedFullWidth(by: UInt64(slots.count)).high)
    }

    private mutating func dropOldest() {
        let oldest = entry(at: head)
        guard var hole = find(DedupKey(high: oldest.high, low: oldest.low)) else {
            preconditionFailure("dedup index: the oldest entry is not in the table")
        }
        // Backward-shift deletion: move later members of the probe run into the hole when their home allows it.
        var next = hole
        while true {
            next = next + 1 == slots.count ? 0 : next + 1
            guard slots[next] != 0 else { break }
            let wanted = home(entry(at: Int(slots[next]) - 1).high)
            let between = hole <= next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !between {
                slots[hole] = slots[next]
                hole = next
            }
        }
        slots[hole] = 0
        head = (head + 1) % ringSize
        count -= 1
        if count == 0 { head = 0 }
    }

    /// Doubles the table and places every entry again.
    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        for index in 0..<count {
            let position = (head + index) % ringSize
            var slot = home(entry(at: position).high)
            while slots[slot] != 0 { slot = slot + 1 == slots.count ? 0 : slot + 1 }
            slots[slot] = UInt32(position + 1)
        }
    }

    /// A table size that holds `entries` at a load of at most 3/4 (at least 16 slots).
    private static func tableSize(forEntries entries: Int) -> Int {
        max(16, (entries * 4 + 2) / 3 + 1)
    }
}
