import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with 127.0.0.1:`port` as a `sockaddr` and its length, for `bind` and `connect`.
public func withLoopbackAddress<Result>(
    port: UInt16,
    _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
) -> Result {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// A TCP socket bound to 127.0.0.1 on a port the kernel chose; listening with `backlog` unless it is nil.
/// The caller closes `fd`.
public func loopbackSocket(listening backlog: Int32? = 16) throws -> (fd: Int32, port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw LoopbackFailure(description: "socket: errno \(errno)") }
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ready =
        withLoopbackAddress(port: 0) { bind(fd, $0, $1) } == 0 && (backlog.map { listen(fd, $0) } ?? 0) == 0
        && withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        } == 0
    guard ready else {
        let code = errno
        close(fd)
        throw LoopbackFailure(description: "bind/listen on 127.0.0.1:0: errno \(code)")
    }
    return (fd, UInt16(bigEndian: address.sin_port))
}

/// A loopback port that was free a moment ago.
public func freeLoopbackPort() throws -> UInt16 {
    let (fd, port) = try loopbackSocket(listening: nil)
    close(fd)
    return port
}

/// A loopback socket could not be made.
public struct LoopbackFailure: Error, CustomStringConvertible {
    /// What failed, with errno.
    public var description: String

    /// Creates a failure saying `description`.
    public init(description: String) { self.description = description }
}
