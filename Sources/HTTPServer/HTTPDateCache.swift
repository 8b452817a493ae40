import POSIX

/// The current `Date` field value as bytes, formatted at most once per second.
struct HTTPDateCache {
    private var second = Int.min
    private var bytes: [UInt8] = []

    /// The IMF-fixdate of the current second.
    mutating func current() -> [UInt8] {
        let now = currentEpochSeconds()
        if now != second {
            second = now
            bytes = Array(HTTPDate.format(secondsSince1970: now).utf8)
        }
        return bytes
    }
}
