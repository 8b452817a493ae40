import Glibc

/// Whole reads: a descriptor or a file read to its end, with a bound.
extension Syscall {
    /// Reads `fd` until end of file or until `limit` bytes are held (`read(2)` in a loop, EINTR retried, short reads
    /// continued); a blocking descriptor only.
    /// - Parameters:
    ///   - fd: The descriptor, read from its current offset.
    ///   - limit: Most bytes returned; a caller that must refuse bigger input asks for one byte more than it allows.
    ///   - detail: Context for the error (a path).
    public static func readAll(_ fd: Int32, limit: Int = .max, detail: String = "") throws(SystemCallError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let wanted = min(chunk.count, limit - bytes.count)
            let outcome = chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SystemCallError) in
                    try retrying("read", detail: detail) { Glibc.read(fd, raw.baseAddress!, wanted) }
                }
            }
            let count = try outcome.get()
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return bytes
    }

    /// Opens `path` read-only and reads it with ``readAll(_:limit:detail:)``.
    public static func readFile(_ path: String, limit: Int = .max) throws(SystemCallError) -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        return try readAll(fd, limit: limit, detail: path)
    }
}
