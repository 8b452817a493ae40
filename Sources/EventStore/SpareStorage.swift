/// The storage of a batch's array, kept emptied for the next batch to fill, so batches do not grow their arrays from
/// empty again (a malloc and a free at every doubling; glibc consolidates its heap when a freed block passes 64 KiB).
///
/// Not synchronised: keep it beside the array it serves, under the same lock. Empty a used array with
/// ``emptied(_:keepingUpTo:)`` outside any lock (its elements are released there), then hand it to ``keep(_:)``.
@usableFromInline
struct SpareStorage<Element> {
    @usableFromInline var storage: [Element] = []

    @inlinable init() {}

    /// An empty array with the kept storage (the kept storage is then gone until the next ``keep(_:)``).
    @inlinable
    mutating func take() -> [Element] {
        var taken: [Element] = []
        swap(&taken, &storage)
        return taken
    }

    /// `array`'s items, leaving `array` empty with the kept storage.
    @inlinable
    mutating func take(_ array: inout [Element]) -> [Element] {
        var taken = take()
        swap(&taken, &array)
        return taken
    }

    /// Keeps `emptied`'s storage when it is larger than the one kept; `emptied` must be empty.
    @inlinable
    mutating func keep(_ emptied: inout [Element]) {
        if storage.capacity < emptied.capacity { swap(&storage, &emptied) }
    }

    /// Empties `array`, keeping its storage when it has room for at most `limit` items; whether it is worth handing
    /// to ``keep(_:)`` (false for no storage, or storage let go).
    @inlinable
    static func emptied(_ array: inout [Element], keepingUpTo limit: Int) -> Bool {
        let keeping = array.capacity > 0 && array.capacity <= limit
        array.removeAll(keepingCapacity: keeping)
        return keeping
    }
}

extension SpareStorage: Sendable where Element: Sendable {}
