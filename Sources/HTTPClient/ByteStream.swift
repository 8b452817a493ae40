import Glibc
import POSIX

/// A connected byte stream with the exchange's deadline: plain TCP or TLS.
protocol ByteStream {
    /// Sends all of `bytes`.
    func write(_ bytes: [UInt8]) throws(HTTPClientError)
    /// Reads some bytes into `buffer`; 0 at the end of the stream.
    func read(into buffer: inout [UInt8]) throws(HTTPClientError) -> Int
}

/// Plain TCP.
struct PlainStream: ByteStream {
    /// The socket.
    let connection: SocketConnection

    func write(_ bytes: [UInt8]) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let result: IOResult
            do {
                result = try Syscall.nonBlocking("send") {
                    bytes.withUnsafeBytes {
                        send(connection.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                    }
                }
            } catch {
                throw .connectionFailed(place: connection.place, reason: SocketConnection.text(error.errno, "send"))
            }
            switch result {
            case .done(let count): offset += count
            case .wouldBlock: try connection.wait(for: Int16(POLLOUT), doing: "sending the request")
            }
        }
    }

    func read(into buffer: inout [UInt8]) throws(HTTPClientError) -> Int {
        while true {
            let result: IOResult
            do {
                result = try Syscall.nonBlocking("recv") {
                    buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                }
            } catch {
                throw .connectionFailed(place: connection.place, reason: SocketConnection.text(error.errno, "recv"))
            }
            switch result {
            case .done(let count): return count
            case .wouldBlock: try connection.wait(for: Int16(POLLIN), doing: "reading the answer")
            }
        }
    }
}
