import Testing

@testable import EventStore

/// A batch's array kept emptied for the next: kept within the limit, the larger one kept, let go past the limit.
@Suite struct SpareStorageTests {
    @Test("emptied keeps storage only within the limit; keep holds the larger; take hands it back empty")
    func keptWithinTheLimit() {
        var none: [Int] = []
        #expect(!SpareStorage.emptied(&none, keepingUpTo: 10), "no storage, nothing to keep")

        var spare = SpareStorage<Int>()
        var small = Array(0..<4)
        #expect(SpareStorage.emptied(&small, keepingUpTo: 100))
        #expect(small.isEmpty && small.capacity >= 4)
        spare.keep(&small)
        var large = Array(0..<50)
        #expect(SpareStorage.emptied(&large, keepingUpTo: 100))
        let largeCapacity = large.capacity
        spare.keep(&large)
        var smaller = Array(0..<2)
        _ = SpareStorage.emptied(&smaller, keepingUpTo: 100)
        spare.keep(&smaller)
        #expect(spare.storage.capacity == largeCapacity, "the larger storage stays")

        var items = [7, 8, 9]
        let taken = spare.take(&items)
        #expect(taken == [7, 8, 9])
        #expect(items.isEmpty && items.capacity == largeCapacity, "the array left behind has the kept storage")
        #expect(spare.storage.capacity == 0)

        var tooLarge = Array(0..<200)
        #expect(!SpareStorage.emptied(&tooLarge, keepingUpTo: 100))
        #expect(tooLarge.isEmpty && tooLarge.capacity < 200, "storage past the limit is let go")
    }
}
