import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A bound AF_UNIX datagram socket standing in for systemd's notify socket: at a path in a temporary folder of its
/// own, at a given path, or in the abstract namespace.
public final class NotifySocket {
    /// Where the socket is named.
    public enum Kind {
        /// A path in a fresh temporary folder.
        case path
        /// An abstract name (`@…`).
        case abstract
    }

    /// A datagram did not come, or the socket could not be made.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String

        /// Creates a failure saying `description`.
        public init(_ description: String) { self.description = description }
    }

    /// The value for `NOTIFY_SOCKET`.
    public let notifySocket: String
    private let fd: Int32
    private let directory: TemporaryDirectory?

    /// Binds a socket of `kind`.
    public convenience init(_ kind: Kind = .path) throws {
        switch kind {
        case .path:
            let directory = TemporaryDirectory(prefix: "vipps-notify")
            try self.init(name: directory.path + "/notify.sock", directory: directory)
        case .abstract:
            try self.init(name: "@vipps-webhookd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", directory: nil)
        }
    }

    /// Binds a socket at `path`.
    public convenience init(path: String) throws {
        try self.init(name: path, directory: nil)
    }

    private init(name: String, directory: TemporaryDirectory?) throws {
        notifySocket = name
        self.directory = directory
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        let nameBytes = name.hasPrefix("@") ? [0] + Array(name.utf8.dropFirst()) : Array(name.utf8) + [0]
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: nameBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + nameBytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure("bind \(name): errno \(code)")
        }
    }

    deinit {
        close(fd)
    }

    /// The next datagram, waiting at most `timeoutMilliseconds`.
    public func receive(timeoutMilliseconds: Int32 = 5_000) throws -> String {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, timeoutMilliseconds) == 1 else { throw Failure("no datagram received") }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw Failure("recv: errno \(errno)") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Whether a datagram containing `text` arrives within `timeout` seconds.
    public func waitFor(_ text: String, timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let datagram = try? receive(timeoutMilliseconds: 50), datagram.contains(text) { return true }
        }
        return false
    }

    /// Reads every datagram already queued.
    public func drain() {
        while (try? receive(timeoutMilliseconds: 0)) != nil {}
    }
}
