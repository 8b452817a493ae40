import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to the loopback address, for tests that write requests byte by byte and read answers
/// as they come: several answers on one connection, a half-sent request, a server closing or resetting. Sends and
/// receives time out after 5 s. ``TestHTTPClient`` is built on it.
public final class RawClient {
    /// The connected socket (tests may shut it down or inspect it).
    public let fd: Int32
    private var buffered: [UInt8] = []

    /// Why a connection, a send or a read failed.
    public enum ClientError: Error, CustomStringConvertible {
        case connectFailed(Int32)
        case sendFailed(Int32)
        case timeout
        case malformed(String)

        /// The failure in words, with errno where there is one.
        public var description: String {
            switch self {
            case .connectFailed(let code): "connect: errno \(code)"
            case .sendFailed(let code): "send: errno \(code)"
            case .timeout: "no answer within 5 s"
            case .malformed(let text): "malformed answer: \(text)"
            }
        }
    }

    /// Connects to 127.0.0.1:`port` (or [::1]:`port` with `ipv6`).
    public init(port: Int, ipv6: Bool = false) throws {
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connectFailed(errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_addr = in6addr_loopback
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            result = withLoopbackAddress(port: UInt16(port)) { connect(fd, $0, $1) }
        }
        if result != 0 {
            let code = errno
            Glibc.close(fd)
            throw ClientError.connectFailed(code)
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends `text` as UTF-8.
    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 { throw ClientError.sendFailed(errno) }
            offset += sent
        }
    }

    /// Reads one answer: head, then a body of its `Content-Length`, or up to the end of the stream when it has
    /// none; no body for a 1xx, 204 or 304, nor when `head` is true (an answer to HEAD).
    public func readMessage(head: Bool = false) throws -> TestHTTPClient.Response {
        var end = headEnd()
        while end == nil {
            guard try fill() else {
                throw ClientError.malformed("no full head before the end: \(String(decoding: buffered, as: UTF8.self))")
            }
            end = headEnd()
        }
        let headText = String(decoding: buffered[0..<end!], as: UTF8.self)
        buffered.removeFirst(end! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let statusParts = statusLine.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw ClientError.malformed("status line \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw ClientError.malformed("header \(line)") }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        let bodyless = head || status < 200 || status == 204 || status == 304
        let length = bodyless ? 0 : headers.first { $0.name == "content-length" }.flatMap { Int($0.value) }
        if let length {
            while buffered.count < length {
                guard try fill() else { throw ClientError.malformed("end of stream in the body") }
            }
        } else {
            while try fill() {}
        }
        let bodyLength = length ?? buffered.count
        let body = Array(buffered[0..<bodyLength])
        buffered.removeFirst(bodyLength)
        return TestHTTPClient.Response(status: status, headers: headers, body: body)
    }

    /// Reads one answer as ``readMessage(head:)`` does, with the header fields in a dictionary (a repeated name
    /// keeps its last value) and the body as text.
    public func readResponse(head: Bool = false) throws -> (status: Int, headers: [String: String], body: String) {
        let message = try readMessage(head: head)
        return (message.status, Dictionary(message.headers, uniquingKeysWith: { $1 }), message.text)
    }

    /// Everything the server sends until it closes the connection (or resets it: a server that closes without
    /// reading all a client sent makes the kernel reset the connection).
    public func readAll() throws -> String {
        while try fill() {}
        defer { buffered = [] }
        return String(decoding: buffered, as: UTF8.self)
    }

    /// Whether the server closed the connection (end of stream or reset) with nothing more to read.
    public func readsEOF() throws -> Bool {
        buffered.isEmpty ? try !fill() : false
    }

    /// Reads more bytes; false at the end of the stream or on a reset; throws ``ClientError/timeout`` after 5 s.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw ClientError.timeout }
            if count <= 0 { return false }
            buffered += chunk[0..<count]
            return true
        }
    }

    /// Where the head in the buffer ends (the index of its blank line's CR LF CR LF), if it has.
    private func headEnd() -> Int? {
        guard buffered.count >= 4 else { return nil }
        return (0...(buffered.count - 4)).first {
            buffered[$0] == 13 && buffered[$0 + 1] == 10 && buffered[$0 + 2] == 13 && buffered[$0 + 3] == 10
        }
    }
}
