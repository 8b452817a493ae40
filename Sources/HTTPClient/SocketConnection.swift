import Glibc
import POSIX

/// A connected non-blocking TCP socket with one deadline for everything done on it; closed on deinit.
final class SocketConnection {
    /// The descriptor.
    let fd: Int32
    /// `host:port` for messages.
    let place: String
    /// The deadline of the exchange.
    let deadline: Deadline

    private init(fd: Int32, place: String, deadline: Deadline) {
        self.fd = fd
        self.place = place
        self.deadline = deadline
    }

    deinit { _ = close(fd) }

    /// Resolves `host` (within the deadline too) and connects to the first address that answers.
    static func open(
        host: String,
        port: UInt16,
        deadline: Deadline,
        resolver: HostResolver = .system
    ) throws(HTTPClientError) -> SocketConnection {
        let place = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let first = try resolver.resolve(host: host, port: port, place: place, deadline: deadline)
        defer { freeaddrinfo(first) }
        var lastError = HTTPClientError.connectFailed(place: place, reason: "no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do {
                let fd = try connect(info.pointee, place: place, deadline: deadline)
                return SocketConnection(fd: fd, place: place, deadline: deadline)
            } catch {
                lastError = error
                if case .timedOut = error { break }
            }
        }
        throw lastError
    }

    private static func connect(_ info: addrinfo, place: String, deadline: Deadline) throws(HTTPClientError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd: Int32
        do {
            fd = try Syscall.retrying("socket") { socket(info.ai_family, type, 0) }
        } catch {
            throw .connectFailed(place: place, reason: Self.text(error.errno, "socket"))
        }
        do {
            try Syscall.retrying("connect") { Glibc.connect(fd, info.ai_addr, info.ai_addrlen) }
            return fd
        } catch {
            guard error.errno == EINPROGRESS else {
                _ = close(fd)
                throw .connectFailed(place: place, reason: Self.text(error.errno, "connect"))
            }
        }
        do {
            try wait(fd, for: Int16(POLLOUT), place: place, deadline: deadline, doing: "connecting")
        } catch {
            _ = close(fd)
            throw error
        }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0, code == 0 else {
            let failure = code != 0 ? code : errno
            _ = close(fd)
            throw .connectFailed(place: place, reason: Self.text(failure, "connect"))
        }
        return fd
    }

    /// Waits until the socket is ready for `events` (`POLLIN`, `POLLOUT`) or the deadline passes.
    func wait(for events: Int16, doing what: String) throws(HTTPClientError) {
        try Self.wait(fd, for: events, place: place, deadline: deadline, doing: what)
    }

    private static func wait(
        _ fd: Int32,
        for events: Int16,
        place: String,
        deadline: Deadline,
        doing what: String
    ) throws(HTTPClientError) {
        while true {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else { throw .timedOut(place: place, doing: what, seconds: deadline.seconds) }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, remaining)
            if ready > 0 { return }
            // EINTR: poll again with the time that is left (not with the whole timeout, as a plain retry would).
            if ready < 0 && errno != EINTR {
                throw .connectionFailed(place: place, reason: text(errno, "poll"))
            }
        }
    }

    /// `strerror` with the call and errno, e.g. `Connection refused (connect, errno 111)`.
    static func text(_ code: Int32, _ call: String) -> String {
        "\(systemErrorMessage(code)) (\(call), errno \(code))"
    }
}
