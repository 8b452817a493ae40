import Glibc

/// An open file descriptor with the positioned and durable I/O the storage needs.
///
/// Writes and syncs go through ``SyscallFaults`` when one is set, so tests can fail them on purpose.
/// Not synchronised: each owner uses it from one queue at a time.
public struct SyscallFile: Sendable {
    /// The descriptor.
    public let fd: Int32
    /// Path it was opened at or renamed to (for error context).
    public private(set) var path: String
    /// Failure injection for tests; nil in production.
    public let faults: SyscallFaults?

    /// Opens `path` with `flags` (`O_CLOEXEC` added).
    public init(path: String, flags: Int32, mode: mode_t = 0o600, faults: SyscallFaults?) throws(SystemCallError) {
        self.fd = try Syscall.open(path, flags: flags, mode: mode)
        self.path = path
        self.faults = faults
    }

    /// Opens `path` with `flags`, creating it with `mode` when missing, and syncs its directory entry (parent
    /// directory `fsync`) before this returns, so the name survives a power cut. The sync runs on every open, also
    /// when the file existed: the sync after an earlier create may have failed.
    public static func openCreating(
        path: String,
        flags: Int32,
        mode: mode_t = 0o600,
        faults: SyscallFaults?
    ) throws(SystemCallError) -> SyscallFile {
        let file = try SyscallFile(path: path, flags: flags | O_CREAT, mode: mode, faults: faults)
        do {
            try Syscall.syncDirectory(Syscall.parentDirectory(of: path), faults: faults)
        } catch {
            file.close()
            throw error
        }
        return file
    }

    /// Renames the file to `newPath` (`rename(2)`); the returned value carries the new path and `faults`.
    public func renamed(to newPath: String, faults: SyscallFaults?) throws(SystemCallError) -> SyscallFile {
        try Syscall.rename(path, newPath)
        return SyscallFile(descriptor: fd, path: newPath, faults: faults)
    }

    private init(descriptor: Int32, path: String, faults: SyscallFaults?) {
        self.fd = descriptor
        self.path = path
        self.faults = faults
    }

    private func injected(_ call: String) throws(SystemCallError) {
        faults?.waitIfDelayed(call)
        if let value = faults?.injectedErrno(for: call) {
            throw SystemCallError(call: call, errno: value, detail: path)
        }
    }

    /// Writes all of `bytes` at `offset` (`pwrite(2)` in a loop).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(SystemCallError) {
        try injected("pwrite")
        var done = 0
        while done < bytes.count {
            let count = try Syscall.retrying("pwrite", detail: path) {
                pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            done += count
        }
    }

    /// Writes zeros from offset 0 up to `size`, a mebibyte at a time; before each one asks `proceed` and stops
    /// (returning false) when it says no. True once everything is written.
    public func writeZeros(upTo size: UInt64, while proceed: () -> Bool = { true }) throws(SystemCallError) -> Bool {
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        var offset: UInt64 = 0
        while offset < size {
            guard proceed() else { return false }
            let count = Int(min(UInt64(zeros.count), size - offset))
            try write(UnsafeRawBufferPointer(rebasing: zeros[..<count]), at: offset)
            offset += UInt64(count)
        }
        return true
    }

    /// Writes all of `bytes` at the current end (``Syscall/writeAll(_:_:detail:)`` on an `O_APPEND` descriptor).
    public func append(_ bytes: UnsafeRawBufferPointer) throws(SystemCallError) {
        try injected("write")
        try Syscall.writeAll(fd, bytes, detail: path)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    public func read(count: Int, at offset: UInt64) throws(SystemCallError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let outcome = buffer.withUnsafeMutableBytes { raw -> Result<Int, SystemCallError> in
            var done = 0
            while done < count {
                do throws(SystemCallError) {
                    let got = try Syscall.retrying("pread", detail: path) {
                        pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                    }
                    if got == 0 { break }
                    done += got
                } catch {
                    return .failure(error)
                }
            }
            return .success(done)
        }
        buffer.removeLast(count - (try outcome.get()))
        return buffer
    }

    /// `fdatasync(2)`: the data (and the size, if it changed) are on stable storage when this returns.
    public func syncData() throws(SystemCallError) {
        try injected("fdatasync")
        try Syscall.retrying("fdatasync", detail: path) { fdatasync(fd) }
    }

    /// `fsync(2)`.
    public func sync() throws(SystemCallError) {
        try injected("fsync")
        try Syscall.retrying("fsync", detail: path) { fsync(fd) }
    }

    /// `ftruncate(2)`.
    public func truncate(to size: UInt64) throws(SystemCallError) {
        try injected("ftruncate")
        try Syscall.retrying("ftruncate", detail: path) { ftruncate(fd, off_t(size)) }
    }

    /// `fstat(2)`.
    public func status() throws(SystemCallError) -> stat {
        var info = stat()
        try Syscall.retrying("fstat", detail: path) { fstat(fd, &info) }
        return info
    }

    /// Current size in bytes.
    public func size() throws(SystemCallError) -> UInt64 {
        UInt64(try status().st_size)
    }

    /// Closes the descriptor (errors ignored: the data was synced before, or is being abandoned).
    public func close() {
        _ = Glibc.close(fd)
    }
}
