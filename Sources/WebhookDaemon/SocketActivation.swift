import Glibc

/// Sockets inherited from systemd socket activation (`LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`), as
/// `sd_listen_fds_with_names` finds them, without libsystemd.
///
/// systemd passes the sockets of `vipps-webhookd.socket` as file descriptors 3, 4, … When
/// ``takeInheritedSockets()`` returns a socket, serve on it instead of binding `listen:` from the config.
public enum SocketActivation {
    /// The first inherited descriptor (`SD_LISTEN_FDS_START`).
    public static let firstDescriptor: Int32 = 3

    /// The most descriptors accepted; a larger `LISTEN_FDS` is refused as malformed.
    public static let maximumDescriptors = 64

    /// One inherited socket.
    public struct InheritedSocket: Sendable, Equatable {
        /// The file descriptor (3, 4, …).
        public let fd: Int32
        /// Its `FileDescriptorName=` from `LISTEN_FDNAMES`, or `"unknown"` when systemd passed no names.
        public let name: String
    }

    /// Reads the activation variables of this process, takes over the sockets and unsets the variables.
    ///
    /// The variables are always unset (also on failure), so hooks and other children never believe the sockets
    /// are theirs. Each returned descriptor is checked to be a socket and gets `FD_CLOEXEC`. Call it once, early
    /// in `serve`, before other threads read the environment (`unsetenv` is not thread-safe against `getenv`).
    /// The file status flags are left as systemd set them: set `O_NONBLOCK` before using a socket with Dispatch.
    ///
    /// - Returns: the inherited sockets; empty when the process was not socket-activated (or the variables were
    ///   meant for another process).
    /// - Throws: ``SystemdError`` when the variables are malformed or a descriptor is not a socket.
    public static func takeInheritedSockets() throws(SystemdError) -> [InheritedSocket] {
        let variables = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
        let values = variables.map { name in getenv(name).map { String(cString: $0) } }
        for name in variables {
            unsetenv(name)
        }
        let sockets = try parse(
            listenFDs: values[0],
            listenPID: values[1],
            listenFDNames: values[2],
            processID: getpid()
        )
        try adopt(sockets)
        return sockets
    }

    /// Interprets the activation variables; pure.
    ///
    /// - Parameters:
    ///   - listenFDs: `LISTEN_FDS`, the number of descriptors passed.
    ///   - listenPID: `LISTEN_PID`, the process they are meant for.
    ///   - listenFDNames: `LISTEN_FDNAMES`, colon-separated names, one per descriptor.
    ///   - processID: this process's id.
    /// - Returns: the sockets, empty when `LISTEN_PID` or `LISTEN_FDS` is unset or `LISTEN_PID` names another
    ///   process.
    /// - Throws: ``SystemdError`` for a malformed number, too many descriptors, or a name count that does
    ///   not match `LISTEN_FDS`.
    public static func parse(
        listenFDs: String?,
        listenPID: String?,
        listenFDNames: String?,
        processID: pid_t
    ) throws(SystemdError) -> [InheritedSocket] {
        guard let listenPID, !listenPID.isEmpty else { return [] }
        guard let pid = pid_t(listenPID), pid > 0 else {
            throw SystemdError("LISTEN_PID must be a process id, got \"\(listenPID)\"")
        }
        guard pid == processID else { return [] }
        guard let listenFDs, !listenFDs.isEmpty else { return [] }
        guard let count = Int(listenFDs), count >= 0 else {
            throw SystemdError("LISTEN_FDS must be a number of descriptors, got \"\(listenFDs)\"")
        }
        guard count <= maximumDescriptors else {
            throw SystemdError("LISTEN_FDS=\(count) exceeds the limit of \(maximumDescriptors) sockets")
        }
        guard count > 0 else { return [] }
        let names: [String]
        if let listenFDNames {
            names = listenFDNames.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard names.count == count else {
                throw SystemdError(
                    "LISTEN_FDNAMES has \(names.count) names for LISTEN_FDS=\(count) descriptors"
                )
            }
        } else {
            names = Array(repeating: "unknown", count: count)
        }
        return names.enumerated().map { index, name in
            InheritedSocket(fd: firstDescriptor + Int32(index), name: name)
        }
    }

    /// Checks that each descriptor is an open socket and sets `FD_CLOEXEC` on it.
    ///
    /// - Throws: ``SystemdError`` naming the descriptor when it is closed, not a socket, or its flags
    ///   cannot be changed.
    public static func adopt(_ sockets: [InheritedSocket]) throws(SystemdError) {
        for socket in sockets {
            var status = stat()
            guard fstat(socket.fd, &status) == 0 else {
                throw SystemdError("inherited fd \(socket.fd) (\(socket.name))", call: "fstat", errno: errno)
            }
            guard status.st_mode & S_IFMT == S_IFSOCK else {
                throw SystemdError("inherited fd \(socket.fd) (\(socket.name)) is not a socket")
            }
            let flags = fcntl(socket.fd, F_GETFD)
            guard flags >= 0 else {
                throw SystemdError("inherited fd \(socket.fd) (\(socket.name))", call: "fcntl", errno: errno)
            }
            guard flags & FD_CLOEXEC != 0 || fcntl(socket.fd, F_SETFD, flags | FD_CLOEXEC) == 0 else {
                throw SystemdError("inherited fd \(socket.fd) (\(socket.name))", call: "fcntl", errno: errno)
            }
        }
    }
}
