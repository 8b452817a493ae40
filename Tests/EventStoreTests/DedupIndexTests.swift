import TestSupport
import Testing

@testable import EventStore

/// The dedup index against a plain model (a dictionary and an array in insertion order) under random inserts,
/// repeats and evictions; keys that share their high half; wrap-around of the ring.
@Suite("dedup index")
struct DedupIndexTests {

    @Test(
        "random inserts, repeats and evictions agree with a model; counts of early evictions too",
        arguments: [1, 7, 100, 5000]
    )
    func model(capacity: Int) {
        var generator = SplitMix(seed: UInt64(capacity))
        var index = DedupIndex(capacity: capacity)
        var order: [(key: DedupKey, millis: Int64)] = []
        var floor = Int64.min
        var earlyEvictions = 0
        var pool: [DedupKey] = []
        var millis: Int64 = 0
        for step in 0..<40_000 {
            // Whole seconds: the index keeps times to the second (rounding is tested on its own below).
            millis += Int64(generator.next() % 3) * 1000
            let roll = generator.next() % 100
            if roll < 3 {
                let cut = millis - Int64(generator.next() % 200) * 1000
                floor = max(floor, cut)
                index.evict(before: cut)
                order.removeAll { $0.millis < cut }
            } else {
                // Mostly new keys; sometimes an old one (live or dropped); sometimes one sharing a high half.
                let key: DedupKey
                if roll < 20, let old = pool.randomElement(using: &generator) {
                    key = old
                } else if roll < 25, let old = pool.last {
                    key = DedupKey(high: old.high, low: generator.next())
                } else {
                    key = DedupKey(high: generator.next(), low: generator.next())
                }
                pool.append(key)
                if pool.count > 500 { pool.removeFirst(100) }
                index.insert(key, millis: millis)
                if !order.contains(where: { $0.key == key }) {
                    order.append((key, millis))
                    if order.count > capacity {
                        if order[0].millis >= floor { earlyEvictions += 1 }
                        order.removeFirst()
                    }
                }
            }
            if step % 997 == 0 || capacity < 10 {
                #expect(index.count == order.count)
                #expect(index.entries.map(\.key) == order.map(\.key), "step \(step)")
            }
            for probe in pool.suffix(3) {
                #expect(index.contains(probe) == order.contains { $0.key == probe }, "step \(step)")
            }
        }
        #expect(index.earlyEvictions == earlyEvictions)
    }

    @Test("two keys with the same high half are two ids, never a false duplicate; dropping one keeps the other")
    func sameHighHalf() {
        var index = DedupIndex(capacity: 2)
        let first = DedupKey(high: 42, low: 1)
        let second = DedupKey(high: 42, low: 2)
        index.insert(first, millis: 1000)
        #expect(!index.contains(second))
        index.insert(second, millis: 2000)
        #expect(index.contains(first) && index.contains(second) && index.count == 2)
        index.insert(DedupKey(high: 43, low: 0), millis: 3000)  // drops `first`
        #expect(!index.contains(first) && index.contains(second))
        #expect(index.earlyEvictions == 1 && index.newestEarlyEvictionMillis == 1000)
    }

    @Test("the ring wraps many times past its end at a small capacity; emptied by eviction, it fills again")
    func wrapAround() {
        var index = DedupIndex(capacity: 3)
        for number in 0..<200_000 {
            index.insert(
                DedupKey(high: UInt64(number) &* 0x9E37_79B9_7F4A_7C15, low: UInt64(number)),
                millis: Int64(number) * 1000
            )
        }
        #expect(index.entries.map(\.millis) == [199_997_000, 199_998_000, 199_999_000])
        index.evict(before: 1_000_000_000)
        #expect(index.count == 0 && index.entries.isEmpty)
        index.insert(DedupKey(high: 1, low: 1), millis: 5)
        #expect(index.contains(DedupKey(high: 1, low: 1)) && index.count == 1)
    }

    @Test("times are kept to the second, rounded up: an id is never dropped before its retention, at most 1 s after")
    func timesRoundUpToTheSecond() {
        var index = DedupIndex(capacity: 10)
        let cases: [(millis: Int64, kept: Int64)] = [
            (1_500, 2_000), (2_000, 2_000), (2_001, 3_000), (0, 0), (-5, 0), (1_764_990_000_999, 1_764_990_001_000),
        ]
        for (number, item) in cases.enumerated() {
            index.insert(DedupKey(high: UInt64(number + 1), low: 7), millis: item.millis)
        }
        #expect(index.entries.map(\.millis) == cases.map(\.kept))
        var kept = DedupIndex(capacity: 10)
        kept.insert(DedupKey(high: 1, low: 1), millis: 1_500)
        kept.evict(before: 1_501)
        #expect(kept.contains(DedupKey(high: 1, low: 1)), "accepted at 1.5 s: still within a floor of 1.501 s")
        kept.evict(before: 2_001)
        #expect(!kept.contains(DedupKey(high: 1, low: 1)))
        var late = DedupIndex(capacity: 1)
        // Past 2106: held at the last second a 32-bit count of seconds reaches.
        late.insert(DedupKey(high: 1, low: 1), millis: Int64(UInt32.max) * 1000 + 5_000)
        #expect(late.entries.map(\.millis) == [Int64(UInt32.max) * 1000])
    }

    @Test("an id costs 20 bytes in the ring: the key's four words and the time, no padding")
    func entrySize() {
        #expect(DedupIndex.ringBytesPerEntry == 20)
    }

    @Test("past the first table size the table grows and keeps every id")
    func growth() {
        var index = DedupIndex(capacity: 600_000)
        var generator = SplitMix(seed: 9)
        var keys: [DedupKey] = []
        for number in 0..<500_000 {
            let key = DedupKey(high: generator.next(), low: generator.next())
            if number % 1000 == 0 { keys.append(key) }
            index.insert(key, millis: Int64(number))
        }
        #expect(index.count == 500_000)
        #expect(keys.allSatisfy(index.contains))
        #expect(!index.contains(DedupKey(high: generator.next(), low: 0)))
    }
}
