import CSystem
import Glibc
import POSIX

/// Creating or adopting the non-blocking listening socket.
enum ListeningSocket {
    /// Throws unless `fd` is a stream socket in the listening state: accept(2) on anything else fails forever, and
    /// the server would run on, answering nothing.
    static func checkListeningStream(_ fd: Int32) throws(HTTPServerError) {
        func option(_ name: Int32) throws(HTTPServerError) -> Int32 {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, name, &value, &length) == 0 else {
                throw .notAListeningSocket(fd: fd, reason: "getsockopt: \(systemErrorMessage(errno))")
            }
            return value
        }
        guard try option(SO_TYPE) == Int32(SOCK_STREAM.rawValue) else {
            throw .notAListeningSocket(fd: fd, reason: "not a stream socket (a datagram socket?)")
        }
        guard try option(SO_ACCEPTCONN) != 0 else {
            throw .notAListeningSocket(fd: fd, reason: "not listening (one connection, from Accept=yes?)")
        }
    }

    /// Opens, binds and listens on `listen`; returns the descriptor and the bound address.
    static func open(
        _ listen: HTTPServerConfiguration.Listen,
        backlog: Int32
    ) throws(HTTPServerError) -> (fd: Int32, address: SocketAddress) {
        switch listen {
        case .fileDescriptor(let fd):
            try checkListeningStream(fd)
            do throws(SystemCallError) {
                let flags = try Syscall.run("fcntl(F_GETFL)") { Int(fcntl(fd, F_GETFL)) }
                _ = try Syscall.run("fcntl(F_SETFL)") { Int(fcntl(fd, F_SETFL, Int32(flags) | O_NONBLOCK)) }
                _ = try Syscall.run("fcntl(F_SETFD)") { Int(fcntl(fd, F_SETFD, FD_CLOEXEC)) }
            } catch {
                throw HTTPServerError(error)
            }
            return (fd, try localAddress(fd))
        case .address(let text):
            let address = try SocketAddress(parsing: text)
            let fd: Int32
            do throws(SystemCallError) {
                fd = Int32(
                    try Syscall.run("socket") {
                        Int(
                            socket(
                                address.family,
                                Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                                    | Int32(SOCK_CLOEXEC.rawValue),
                                0
                            )
                        )
                    }
                )
            } catch {
                throw HTTPServerError(error)
            }
            do throws(SystemCallError) {
                try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
                if address.family == AF_INET6 { try Syscall.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
                _ = try Syscall.run("bind") { Int(address.withSockAddr { bind(fd, $0, $1) }) }
                _ = try Syscall.run("listen") { Int(Glibc.listen(fd, backlog)) }
            } catch {
                Syscall.close(fd)
                if error.call == "bind" || error.call == "listen" {
                    throw .cannotListen(address: address.description, call: error.call, errno: error.errno)
                }
                throw HTTPServerError(error)
            }
            do {
                return (fd, try localAddress(fd))
            } catch {
                Syscall.close(fd)
                throw error
            }
        }
    }

    /// getsockname(2) of `fd`.
    static func localAddress(_ fd: Int32) throws(HTTPServerError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        do throws(SystemCallError) {
            _ = try Syscall.run("getsockname") {
                Int(
                    withUnsafeMutablePointer(to: &storage) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                    }
                )
            }
        } catch {
            throw HTTPServerError(error)
        }
        return SocketAddress(storage: storage)
    }

    /// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the new descriptor and the peer address.
    static func accept(_ fd: Int32) throws(HTTPServerError) -> (fd: Int32, peer: SocketAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result: IOResult
        do throws(SystemCallError) {
            result = try Syscall.nonBlocking("accept4") {
                Int(
                    withUnsafeMutablePointer(to: &storage) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            csystem_accept_nonblocking(fd, $0, &length)
                        }
                    }
                )
            }
        } catch {
            throw HTTPServerError(error)
        }
        guard case .done(let client) = result else { return nil }
        return (Int32(client), SocketAddress(storage: storage))
    }
}
