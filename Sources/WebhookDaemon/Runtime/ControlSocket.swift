import Glibc
import Logging
import POSIX

/// The daemon's control socket, `<state_dir>/control.sock` (mode 0600, answering only the daemon's own user and
/// root): `vipps-webhookd reconcile` sends one ``ReconcileRequest`` line and reads the output lines, then a last
/// line `exit 0` or `exit 1`. One client at a time, on a thread of its own (never the ingest path); 10 s socket
/// timeouts.
final class ControlSocket: @unchecked Sendable {
    /// The file name in the state directory.
    static let fileName = "control.sock"

    private let path: String
    private let listener: Int32
    private let logger: Logger
    private var thread: JoinableThread?
    private let handle: @Sendable (ReconcileRequest, (String) -> Void) -> Bool

    /// Listens on `<stateDirectory>/control.sock` (replacing a stale one) and serves requests with `handle`.
    /// - Throws: ``SystemdError`` naming the call when the socket cannot be set up.
    init(
        stateDirectory: String,
        logger: Logger,
        handle: @escaping @Sendable (ReconcileRequest, (String) -> Void) -> Bool
    ) throws {
        path = stateDirectory + "/" + Self.fileName
        self.logger = logger
        self.handle = handle
        guard let address = UnixSocketAddress(path: path) else {
            throw SystemdError("control socket path over 107 bytes: \(path)")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemdError("cannot create the control socket", call: "socket", errno: errno) }
        unlink(path)  // a socket file left by a daemon that was killed; the state lock says none runs now
        // The mode is set after bind and before listen (nobody can connect before listen), not through umask,
        // which is process-wide while other threads create files.
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0, chmod(path, 0o600) == 0, listen(fd, 8) == 0 else {
            let code = errno
            close(fd)
            throw SystemdError("cannot listen on \(path)", call: "bind/listen", errno: code)
        }
        listener = fd
        thread = JoinableThread { [self] in serve() }
    }

    /// Stops accepting clients and removes the socket file; a request in progress runs on (the service it calls
    /// bounds it). Does not wait.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        unlink(path)
    }

    private func serve() {
        while true {
            let client: Int32
            do {
                client = try Syscall.retrying("accept") { accept(listener, nil, nil) }
            } catch {
                if error.errno == ECONNABORTED { continue }
                return  // shut down
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            answer(client)
            close(client)
        }
    }

    /// Seconds a client has to send its whole request (and each write of the answer may wait).
    static let requestSeconds = 10

    /// `text` as one protocol line: control characters (a newline in the vendor's data, say, which could forge the
    /// closing `exit 0`, or a terminal escape) become spaces.
    static func line(_ text: String) -> [UInt8] {
        text.utf8.map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 } + [0x0A]
    }

    private func answer(_ client: Int32) {
        // struct ucred (pid, uid, gid: three 32-bit values); Glibc hides the type without _GNU_SOURCE.
        var credentials: (Int32, UInt32, UInt32) = (0, UInt32.max, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: credentials))
        let peer = getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 ? credentials.1 : UInt32.max
        guard peer == getuid() || peer == 0 else {
            logger.warning("control socket: refused a client of another user", metadata: ["uid": "\(peer)"])
            return
        }
        UnixSocketAddress.setTimeouts(client, seconds: Self.requestSeconds)
        // The whole request within the timeout: one client sending a byte at a time holds the one serving thread.
        var reader = SocketLineReader(
            fd: client,
            limit: ReconcileRequest.maximumLineBytes,
            deadline: .now + .seconds(Self.requestSeconds)
        )
        guard let line = reader.next(),
            let request = ReconcileRequest(line: line)
        else {
            // Nothing, a line over the limit, a close before the newline, or not a request: the client is told
            // (when it still listens) and the operator sees it; the next client is served as usual.
            logger.warning("control socket: refused a request that is not a reconcile request")
            _ = UnixSocketAddress.writeAll(client, Array("error: not a reconcile request\nexit 1\n".utf8))
            return
        }
        var peerGone = false
        let succeeded = handle(request) { text in
            if !peerGone { peerGone = !UnixSocketAddress.writeAll(client, Self.line(text)) }
        }
        _ = UnixSocketAddress.writeAll(client, Array("exit \(succeeded ? 0 : 1)\n".utf8))
    }
}
