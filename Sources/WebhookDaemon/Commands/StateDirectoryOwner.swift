import Glibc

/// A command that writes the daemon's state itself (`reconcile` with no daemon running), run as root on a state
/// directory the daemon's user owns, first becomes that user: what it creates or rewrites there (a segment, the dedup
/// file, `payments.log`) would otherwise be root's, mode 0600, and the daemon could not open it at its next start.
enum StateDirectoryOwner {
    /// Becomes the owner (user and group) of `directory` when running as root and it exists and is not root's; else
    /// does nothing.
    /// Call it after everything only root may read (the configuration, its credentials) has been read.
    static func become(ownerOf directory: String) throws {
        guard geteuid() == 0 else { return }
        var info = stat()
        guard stat(directory, &info) == 0 else {
            guard errno == ENOENT else {
                throw CommandFailure("cannot read \(directory): \(String(cString: strerror(errno)))")
            }
            return  // made by this command, as before: no daemon has used it yet
        }
        guard info.st_uid != 0 else { return }
        guard setgroups(0, nil) == 0, setgid(info.st_gid) == 0, setuid(info.st_uid) == 0 else {
            throw CommandFailure(
                "cannot become \(directory)'s owner (uid \(info.st_uid)): \(String(cString: strerror(errno)))"
            )
        }
    }
}
