import Glibc
import POSIX

/// An `AF_UNIX` address: a filesystem path (the control socket) or a Linux abstract name (systemd's notify socket).
struct UnixSocketAddress {
    private var storage = sockaddr_un()
    private let length: socklen_t

    /// The address of `path`; nil when the path does not fit `sun_path` (107 bytes and a NUL).
    init?(path: String) {
        self.init(nameBytes: Array(path.utf8) + [0])
    }

    /// The abstract address `name` (a NUL, then the name, no terminator); nil when it does not fit `sun_path`.
    init?(abstractName name: String) {
        self.init(nameBytes: [0] + Array(name.utf8))
    }

    private init?(nameBytes: [UInt8]) {
        guard nameBytes.count <= MemoryLayout.size(ofValue: storage.sun_path) else { return nil }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: nameBytes) }
        length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + nameBytes.count)
    }

    /// Calls `body` with the address as a `sockaddr`.
    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }

    /// Sets a receive and send timeout on `fd`.
    static func setTimeouts(_ fd: Int32, seconds: Int) {
        var value = timeval(tv_sec: seconds, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Writes all of `bytes` to `fd`; false on failure (peer gone, timeout).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = try? Syscall.retrying("send") {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            guard let count, count > 0 else { return false }
            offset += count
        }
        return true
    }
}

/// Reads newline-terminated lines from a socket, keeping what follows a line for the next call.
struct SocketLineReader {
    private let fd: Int32
    private let limit: Int
    /// When a line must be whole (nil: each read waits as long as the socket's receive timeout, which a client
    /// sending a byte at a time restarts with every byte).
    private let deadline: ContinuousClock.Instant?
    private var buffered: [UInt8] = []

    /// A reader of `fd` whose lines are at most `limit` bytes, each in by `deadline` when given.
    init(fd: Int32, limit: Int, deadline: ContinuousClock.Instant? = nil) {
        self.fd = fd
        self.limit = limit
        self.deadline = deadline
    }

    /// The next line without its newline; nil at EOF, on an error or timeout, past the deadline, or for an over-long
    /// line.
    mutating func next() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                return line.count <= limit ? line : nil
            }
            guard buffered.count <= limit else { return nil }
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { return nil }
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let milliseconds = Int32(min(60_000, (left / .milliseconds(1)).rounded(.up)))
                guard poll(&ready, 1, max(1, milliseconds)) > 0 else { continue }  // the deadline, or EINTR
            }
            let count = try? Syscall.retrying("recv") {
                buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            }
            guard let count, count > 0 else { return nil }
            buffered += buffer[0..<count]
        }
    }
}
