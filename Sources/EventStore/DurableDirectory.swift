import Glibc

/// Creating directories so that they survive a power cut (for the daemon's state directory).
public enum DurableDirectory {
    /// Creates `path` and its missing parents with `mode`, syncing the parent of each directory it creates; an
    /// existing directory is left as it is.
    /// - Throws: ``StorageError`` when a directory cannot be created or synced.
    public static func create(_ path: String, mode: mode_t) throws {
        try Syscall.makeDirectories(path, mode: mode)
    }
}
