import Glibc

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
            let count = bytes.withUnsafeBytes {
                send(connection.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 {
                offset += count
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                try connection.wait(for: Int16(POLLOUT), doing: "sending the request")
            } else if errno != EINTR {
                throw .connectionFailed(place: connection.place, reason: SocketConnection.text(errno, "send"))
            }
        }
    }

    func read(into buffer: inout [UInt8]) throws(HTTPClientError) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                try connection.wait(for: Int16(POLLIN), doing: "reading the answer")
            } else if errno != EINTR {
                throw .connectionFailed(place: connection.place, reason: SocketConnection.text(errno, "recv"))
            }
        }
    }
}
