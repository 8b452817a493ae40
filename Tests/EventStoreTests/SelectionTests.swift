import Testing

@testable import EventStore

/// The payment ledger's cut-off for dropping its oldest payments comes from `Selection` instead of a sort; every
/// rank must be the sorted array's value at that rank, whatever the input's shape.
@Suite("selection of the k-th smallest value")
struct SelectionTests {
    private func check(_ values: [Int64], ranks: [Int]? = nil) {
        let sorted = values.sorted()
        for rank in ranks ?? Array(values.indices) {
            var scratch = values
            #expect(Selection.value(atRank: rank, in: &scratch) == sorted[rank], "rank \(rank) of \(values.count)")
            #expect(scratch.sorted() == sorted, "only reordered")
        }
    }

    @Test("every rank of small inputs: empty-adjacent sizes, equal values, sorted and reversed")
    func smallInputs() {
        check([7])
        check([2, 1])
        check([5, 5, 5, 5])
        check([1, 2, 3, 4, 5, 6, 7, 8, 9])
        check([9, 8, 7, 6, 5, 4, 3, 2, 1])
        check([3, 1, 3, 1, 3, 1, 2, 2])
        check([Int64.max, Int64.min, 0, -1, 1, Int64.max, Int64.min])
    }

    @Test("random inputs with few and many distinct values, at random ranks")
    func randomInputs() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let count = Int.random(in: 1...400, using: &generator)
            let spread = round % 3 == 0 ? Int64(3) : Int64.max / 4
            let values = (0..<count).map { _ in Int64.random(in: -spread...spread, using: &generator) }
            check(values, ranks: (0..<5).map { _ in Int.random(in: 0..<count, using: &generator) } + [0, count - 1])
        }
    }

    @Test("the ledger's shapes: mostly increasing times with repeats, 49,000 of them, cut at a tenth")
    func ledgerShapedInput() {
        var generator = SystemRandomNumberGenerator()
        var time: Int64 = 1_764_990_000_000
        let values = (0..<49_000).map { _ -> Int64 in
            time += Int64.random(in: 0...3, using: &generator)
            return Int64.random(in: 0..<20, using: &generator) == 0 ? time - 5_000 : time
        }
        check(values, ranks: [0, 4_900, 24_500, 48_999])
        check(Array(values.reversed()), ranks: [4_900])
    }

    @Test("an input that defeats median-of-three still ends (the sort fallback) with the right value")
    func organPipeInput() {
        // Organ pipe: ascending then descending, a classic bad case for median-of-three pivots.
        let half = (0..<5_000).map(Int64.init)
        check(half + half.reversed(), ranks: [0, 2_500, 5_000, 9_999])
    }
}
