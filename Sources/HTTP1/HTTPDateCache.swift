/// The `Date` field value as bytes, formatted at most once per second.
public struct HTTPDateCache: Sendable {
    private var second = Int64.min
    private var bytes: [UInt8] = []

    /// An empty cache: the first call formats.
    public init() {}

    /// The IMF-fixdate of `secondsSince1970` (the caller's clock), formatted again only when the second changed.
    public mutating func value(secondsSince1970 now: Int64) -> [UInt8] {
        if now != second {
            second = now
            bytes = Array(HTTPDate.format(secondsSince1970: now).utf8)
        }
        return bytes
    }
}
