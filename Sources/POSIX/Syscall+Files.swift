import Glibc

/// Files and directories: each call retries `EINTR` and throws ``SystemCallError`` carrying errno, the call name
/// and the path.
extension Syscall {
    /// `open(2)` with `O_CLOEXEC` added.
    public static func open(_ path: String, flags: Int32, mode: mode_t = 0o600) throws(SystemCallError) -> Int32 {
        try retrying("open", detail: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Makes a directory (and its parents) unless it exists; syncs the parent of each directory it creates, and the
    /// parent of `path` also when `path` existed (the sync after an earlier create may have failed), so the entries
    /// survive a power cut.
    public static func makeDirectories(
        _ path: String,
        mode: mode_t = 0o700,
        faults: SyscallFaults? = nil
    ) throws(SystemCallError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        var leafExisted = false
        var leafParent = prefix
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            leafParent = parent
            leafExisted = mkdir(prefix, mode) != 0
            if !leafExisted {
                try syncDirectory(parent, faults: faults)
            } else if errno != EEXIST {
                throw .fromErrno("mkdir", detail: prefix)
            }
        }
        if leafExisted { try syncDirectory(leafParent, faults: faults) }
    }

    /// `fsync(2)` of a directory, making entries created, renamed or removed in it durable. The one directory
    /// sync; `faults` can fail it as call `"fsync-directory"`.
    public static func syncDirectory(_ path: String, faults: SyscallFaults? = nil) throws(SystemCallError) {
        if let value = faults?.injectedErrno(for: "fsync-directory") {
            throw SystemCallError(call: "fsync", errno: value, detail: path)
        }
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try retrying("fsync", detail: path) { Glibc.fsync(fd) }
    }

    /// The directory holding `path` (`.` for a bare name).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `unlink(2)`; a missing file is not an error.
    public static func unlink(_ path: String) throws(SystemCallError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT {
            throw .fromErrno("unlink", detail: path)
        }
    }

    /// `rename(2)`. `faults`: test hook (nil in production), can fail `"rename"`.
    public static func rename(_ from: String, _ to: String, faults: SyscallFaults? = nil) throws(SystemCallError) {
        if let value = faults?.injectedErrno(for: "rename") {
            throw SystemCallError(call: "rename", errno: value, detail: to)
        }
        try retrying("rename", detail: to) { Glibc.rename(from, to) }
    }

    /// Renames `from` to `to` and syncs the directory of `to`, so the new name survives a power cut (with the
    /// file's content, when that was synced before).
    /// - Parameter faults: Test hook (nil in production): can fail `"rename"` or the directory sync.
    public static func renameDurably(
        _ from: String,
        _ to: String,
        faults: SyscallFaults? = nil
    ) throws(SystemCallError) {
        try rename(from, to, faults: faults)
        try syncDirectory(parentDirectory(of: to), faults: faults)
    }

    /// Names in a directory, without `.` and `..`.
    public static func listDirectory(_ path: String) throws(SystemCallError) -> [String] {
        guard let dir = opendir(path) else { throw .fromErrno("opendir", detail: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes all of `bytes` to `fd` (`write(2)` in a loop, EINTR retried); a blocking descriptor only. A write
    /// that takes nothing fails as EIO rather than looping.
    public static func writeAll(
        _ fd: Int32,
        _ bytes: UnsafeRawBufferPointer,
        detail: String = ""
    ) throws(SystemCallError) {
        var done = 0
        while done < bytes.count {
            let count = try retrying("write", detail: detail) {
                Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            }
            guard count > 0 else { throw SystemCallError(call: "write", errno: EIO, detail: detail) }
            done += count
        }
    }
}
