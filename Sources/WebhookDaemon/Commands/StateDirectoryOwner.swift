import Glibc

/// A command that writes the daemon's state itself (`reconcile` with no daemon running), run as root on a state
/// directory the daemon's user uses, first becomes that user: what it creates or rewrites there (a segment, the dedup
/// file, `payments.log`) would otherwise be root's, mode 0600, and the daemon could not open it at its next start.
enum StateDirectoryOwner {
    /// Becomes the daemon's user when running as root: the owner of `directory`, or when that is root (a directory
    /// shared through its group) the owner of the state in it (its journal); with that file's group, and the user's
    /// supplementary groups as systemd's `User=` gives them (a directory reached through one stays reachable). Does
    /// nothing when not root, or when everything is root's (or not made yet: no daemon has used it). Call it after
    /// everything only root may read (the configuration, its credentials) has been read.
    static func become(ownerOf directory: String) throws {
        guard geteuid() == 0, let owner = try daemonUser(of: directory) else { return }
        let groupsSet: Bool
        if let entry = getpwuid(owner.uid) {
            groupsSet = initgroups(entry.pointee.pw_name, owner.gid) == 0
        } else {
            groupsSet = setgroups(0, nil) == 0  // a uid without a passwd entry has no supplementary groups
        }
        guard groupsSet, setgid(owner.gid) == 0, setuid(owner.uid) == 0 else {
            throw CommandFailure(
                "cannot become \(directory)'s user (uid \(owner.uid)): \(String(cString: strerror(errno)))"
            )
        }
    }

    /// The first of `directory` and its journal owned by another user than root: its user and group (what the
    /// daemon's `User=` and `Group=` made it, which may be neither the user's primary group nor one it is listed
    /// in). Throws for a root-owned directory shared with another group but with no state yet to tell whose it is:
    /// files written as root there (mode 0600) would shut that group's daemon out.
    private static func daemonUser(of directory: String) throws -> (uid: uid_t, gid: gid_t)? {
        var directoryGroup: gid_t = 0
        var hasState = false
        for path in [directory, directory + "/journal"] {
            var info = stat()
            guard stat(path, &info) == 0 else {
                guard errno == ENOENT else {
                    throw CommandFailure("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                continue
            }
            if path == directory { directoryGroup = info.st_gid } else { hasState = true }
            guard info.st_uid != 0 else { continue }
            return (info.st_uid, info.st_gid)
        }
        // All root's: a daemon running as root (its journal is root's), or nothing made yet.
        guard directoryGroup == 0 || hasState else {
            throw CommandFailure(
                "\(directory) is root's, shared with group \(directoryGroup), and holds no state yet to tell whose it "
                    + "is: run this command as the daemon's user"
            )
        }
        return nil
    }
}
