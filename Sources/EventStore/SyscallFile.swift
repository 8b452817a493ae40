import Glibc

/// An open file descriptor with the positioned and durable I/O the storage needs.
///
/// Writes and syncs go through ``SyscallFaults`` when one is set, so tests can fail them on purpose.
/// Not synchronised: each owner uses it from one queue at a time.
package struct SyscallFile {
    /// The descriptor.
    let fd: Int32
    /// Path it was opened at or renamed to (for error context).
    private(set) var path: String
    /// Failure injection for tests; nil in production.
    let faults: SyscallFaults?

    /// Opens `path` with `flags` (`O_CLOEXEC` added).
    init(path: String, flags: Int32, mode: mode_t = 0o600, faults: SyscallFaults?) throws {
        self.fd = try Syscall.open(path, flags: flags, mode: mode)
        self.path = path
        self.faults = faults
    }

    /// Opens `path` with `flags`, creating it with `mode` when missing, and syncs its directory entry (parent
    /// directory `fsync`) before this returns, so the name survives a power cut. The sync runs on every open, also
    /// when the file existed: the sync after an earlier create may have failed.
    package static func openCreating(
        path: String,
        flags: Int32,
        mode: mode_t = 0o600,
        faults: SyscallFaults?
    ) throws -> SyscallFile {
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
    func renamed(to newPath: String, faults: SyscallFaults?) throws -> SyscallFile {
        try Syscall.rename(path, newPath)
        return SyscallFile(descriptor: fd, path: newPath, faults: faults)
    }

    private init(descriptor: Int32, path: String, faults: SyscallFaults?) {
        self.fd = descriptor
        self.path = path
        self.faults = faults
    }

    private func injected(_ call: String) throws {
        if let value = faults?.injectedErrno(for: call) {
            throw StorageError(.syscall(errno: value), call: call, detail: path)
        }
    }

    /// Writes all of `bytes` at `offset` (`pwrite(2)` in a loop).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
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
    func writeZeros(upTo size: UInt64, while proceed: () -> Bool = { true }) throws -> Bool {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while offset < size {
            guard proceed() else { return false }
            let count = Int(min(UInt64(zeros.count), size - offset))
            try zeros.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[..<count]), at: offset) }
            offset += UInt64(count)
        }
        return true
    }

    /// Writes all of `bytes` at the current end (`write(2)` in a loop on an `O_APPEND` descriptor).
    package func append(_ bytes: UnsafeRawBufferPointer) throws {
        try injected("write")
        var done = 0
        while done < bytes.count {
            let count = try Syscall.retrying("write", detail: path) {
                Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            }
            done += count
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    package func read(count: Int, at offset: UInt64) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let got = try Syscall.retrying("pread", detail: path) {
                    pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                }
                if got == 0 { break }
                done += got
            }
        }
        buffer.removeLast(count - done)
        return buffer
    }

    /// `fdatasync(2)`: the data (and the size, if it changed) are on stable storage when this returns.
    package func syncData() throws {
        try injected("fdatasync")
        try Syscall.retrying("fdatasync", detail: path) { fdatasync(fd) }
    }

    /// `fsync(2)`.
    func sync() throws {
        try injected("fsync")
        try Syscall.retrying("fsync", detail: path) { fsync(fd) }
    }

    /// `ftruncate(2)`.
    package func truncate(to size: UInt64) throws {
        try Syscall.retrying("ftruncate", detail: path) { ftruncate(fd, off_t(size)) }
    }

    /// `fstat(2)`.
    package func status() throws -> stat {
        var info = stat()
        try Syscall.retrying("fstat", detail: path) { fstat(fd, &info) }
        return info
    }

    /// Current size in bytes.
    func size() throws -> UInt64 {
        UInt64(try status().st_size)
    }

    /// Closes the descriptor (errors ignored: the data was synced before, or is being abandoned).
    package func close() {
        _ = Glibc.close(fd)
    }
}
