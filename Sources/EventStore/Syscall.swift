import Glibc

/// Thin wrappers over the POSIX calls the storage uses: each retries `EINTR` and throws ``StorageError``
/// carrying errno and the call name.
package enum Syscall {
    /// Runs `body` until it does not fail with `EINTR`; throws on any other failure (a negative result).
    @discardableResult
    static func retrying<T: BinaryInteger>(_ call: String, detail: String = "", _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw StorageError.fromErrno(call, detail: detail)
        }
    }

    /// `open(2)` with `O_CLOEXEC` added.
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        try retrying("open", detail: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Makes a directory (and its parents) unless it exists; syncs the parent of each directory it creates, and the
    /// parent of `path` also when `path` existed (the sync after an earlier create may have failed), so the entries
    /// survive a power cut.
    package static func makeDirectories(_ path: String, mode: mode_t = 0o700, faults: SyscallFaults? = nil) throws {
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
                throw StorageError.fromErrno("mkdir", detail: prefix)
            }
        }
        if leafExisted { try syncDirectory(leafParent, faults: faults) }
    }

    /// `fsync(2)` of a directory, making entries created, renamed or removed in it durable. The one directory sync
    /// of the Delivery module; `faults` can fail it as call `"fsync-directory"`.
    package static func syncDirectory(_ path: String, faults: SyscallFaults? = nil) throws {
        if let value = faults?.injectedErrno(for: "fsync-directory") {
            throw StorageError(.syscall(errno: value), call: "fsync", detail: path)
        }
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(fd) }
        try retrying("fsync", detail: path) { Glibc.fsync(fd) }
    }

    /// The directory holding `path` (`.` for a bare name).
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `unlink(2)`; a missing file is not an error.
    static func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0 && errno != ENOENT {
            throw StorageError.fromErrno("unlink", detail: path)
        }
    }

    /// `rename(2)`.
    static func rename(_ from: String, _ to: String) throws {
        try retrying("rename", detail: to) { Glibc.rename(from, to) }
    }

    /// Names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw StorageError.fromErrno("opendir", detail: path) }
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
}
