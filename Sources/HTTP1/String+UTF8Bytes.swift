extension String {
    /// Calls `body` with the string's UTF-8 bytes: in place when it has them contiguous (a native string), else from
    /// a contiguous copy. Unlike `withUTF8`, which is mutating, it needs no copy of the string to call (a copy made
    /// for that retains and releases the string: on the request path, an atomic operation on a line another thread
    /// may hold).
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}
