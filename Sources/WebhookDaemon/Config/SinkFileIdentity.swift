import Glibc
import POSIX

/// What tells two file sinks' paths apart for `check-config`, which must refuse two sinks on one file as the daemon
/// does (it compares device and inode, see `Sources/Delivery/SinkFactory.swift`): `sinks/sub/../events.jsonl` and
/// `sinks/events.jsonl`, or a path through a symbolic link to the other's directory, are one file.
enum SinkFileIdentity {
    /// Keys equal for two paths of one file: the path with its directory resolved (`realpath(3)`: `.`, `..` and
    /// symbolic links; written out as given, `.` and `..` resolved, when the directory does not exist yet), and the
    /// file's device and inode when it exists.
    static func identities(of path: String) -> [String] {
        let directory = Syscall.parentDirectory(of: path)
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        var identities: [String] = []
        if name != "." && name != "..", let resolved = realpath(directory, nil) {
            let directoryPath = String(cString: resolved)
            free(resolved)
            identities.append("path:" + (directoryPath == "/" ? "" : directoryPath) + "/" + name)
        } else {
            identities.append("path:" + lexicallyResolved(path))
        }
        var info = stat()
        if stat(path, &info) == 0 {
            identities.append("file:\(info.st_dev):\(info.st_ino)")
        }
        return identities
    }

    /// `path` with empty and `.` segments dropped and each `..` taking away the segment before it (at the root of an
    /// absolute path, `..` stays at the root; a relative path keeps the `..` it cannot resolve).
    static func lexicallyResolved(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var segments: [Substring] = []
        for segment in path.split(separator: "/") where segment != "." {
            if segment == ".." {
                if let last = segments.last, last != ".." {
                    segments.removeLast()
                    continue
                }
                if absolute { continue }
            }
            segments.append(segment)
        }
        return (absolute ? "/" : "") + segments.joined(separator: "/")
    }
}
