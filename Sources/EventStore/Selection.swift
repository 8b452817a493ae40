/// Order statistics without a full sort.
enum Selection {
    /// The value that would be at `rank` (0-based) if `values` were sorted ascending; `values` is reordered.
    ///
    /// Quickselect with a median-of-three pivot and a three-way partition (runs of equal values are settled at once),
    /// linear on average; after 2·log2(n) + 8 partitions without an answer (an input built against the pivot rule)
    /// the part left is sorted, so the worst case stays O(n log n).
    static func value(atRank rank: Int, in values: inout [Int64]) -> Int64 {
        precondition(values.indices.contains(rank), "rank \(rank) outside 0..<\(values.count)")
        var low = 0
        var high = values.count - 1
        var roundsLeft = 2 * (Int.bitWidth - values.count.leadingZeroBitCount) + 8
        while low < high {
            if roundsLeft == 0 {
                values[low...high].sort()
                break
            }
            roundsLeft -= 1
            let pivot = medianOfThree(values[low], values[low + (high - low) / 2], values[high])
            // values[low..<less] < pivot, values[less..<index] == pivot, values[greater+1...high] > pivot.
            var less = low
            var index = low
            var greater = high
            while index <= greater {
                if values[index] < pivot {
                    values.swapAt(index, less)
                    less += 1
                    index += 1
                } else if values[index] > pivot {
                    values.swapAt(index, greater)
                    greater -= 1
                } else {
                    index += 1
                }
            }
            if rank < less {
                high = less - 1
            } else if rank > greater {
                low = greater + 1
            } else {
                return pivot
            }
        }
        return values[rank]
    }

    private static func medianOfThree(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        max(min(a, b), min(max(a, b), c))
    }
}
