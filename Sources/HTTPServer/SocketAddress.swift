import Glibc
import HTTP1

/// An IPv4 or IPv6 socket address with port, convertible to and from `sockaddr_storage`.
///
/// The one place that parses and formats numeric addresses (`inet_pton(3)` / `inet_ntop(3)`): the server's listen
/// address and peers, and the daemon's `listen:` check.
public struct SocketAddress: Sendable, CustomStringConvertible {
    private(set) var storage = sockaddr_storage()

    /// Parses "a.b.c.d:port" or "[v6]:port" (literal addresses only).
    public init(parsing text: String) throws(HTTPServerError) {
        guard let (host, port) = Self.hostAndPort(text) else { throw .invalidListenAddress(text) }
        do {
            try self.init(host: String(host), port: UInt16(port))
        } catch {
            throw .invalidListenAddress(text)
        }
    }

    /// The address of a numeric host (`127.0.0.1`, or `::1` without brackets: IPv6 when it holds a colon) and port.
    public init(host: String, port: UInt16) throws(HTTPServerError) {
        if host.utf8.contains(ASCII.colon) {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw .invalidListenAddress(host) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in6.self) }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw .invalidListenAddress(host) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: sockaddr_in.self) }
        }
    }

    /// Splits `host:port` or `[host]:port` (the host not checked further; a name is allowed): the host without
    /// brackets and the port, 0 to 65535 in 1 to 9 digits. Nil when the host is empty, when a bracketed host has no
    /// colon or a bare one has any, or when the port is not a number in range.
    public static func hostAndPort(_ text: String) -> (host: Substring, port: Int)? {
        guard let parts = Authority.split(Substring(text)), let portText = parts.port, !parts.host.isEmpty,
            parts.bracketed == parts.host.contains(":"),
            let port = ASCII.decimalValue(portText), port <= 65535
        else { return nil }
        return (parts.host, port)
    }

    /// Wraps an address filled in by accept(2) or getsockname(2).
    init(storage: sockaddr_storage) {
        self.storage = storage
    }

    /// A copy of the `length` bytes at `address` (e.g. an entry of getaddrinfo(3)'s list).
    public init(copying address: UnsafePointer<sockaddr>, length: socklen_t) {
        withUnsafeMutableBytes(of: &storage) { storage in
            let count = min(Int(length), storage.count)
            storage.copyMemory(from: UnsafeRawBufferPointer(start: address, count: count))
        }
    }

    /// `AF_INET` or `AF_INET6` (another family for an address of another kind).
    public var family: Int32 { Int32(storage.ss_family) }

    /// The length of the `sockaddr` this address is (for bind(2) or connect(2)).
    public var length: socklen_t {
        socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    /// The port, in host byte order.
    public var port: Int {
        withUnsafeBytes(of: storage) { raw in
            family == AF_INET6
                ? Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
                : Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }

    /// The numeric host without brackets (`127.0.0.1`, `::1`); nil for other families (e.g. Unix sockets).
    public var host: String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafeBytes(of: storage) { raw -> String? in
            switch family {
            case AF_INET:
                var address = raw.load(as: sockaddr_in.self).sin_addr
                guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return nil }
            case AF_INET6:
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return nil }
            default:
                return nil
            }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// "127.0.0.1:8080" or "[::1]:8080"; "unknown" for other families (e.g. Unix sockets).
    public var description: String {
        guard let host else { return "unknown" }
        return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with this address as a `sockaddr` pointer and its length.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
