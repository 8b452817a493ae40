import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 client over a raw TCP socket to 127.0.0.1, for end-to-end tests: one request per connection,
/// `Connection: close`, the answer read up to its `Content-Length` or the end of the stream (5 s at most).
public enum TestHTTPClient {
    /// A parsed answer.
    public struct Response: CustomStringConvertible {
        public var status: Int
        /// Header fields with lower-cased names, in order.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name == name.lowercased() }?.value
        }

        public var description: String { "\(status) \(text)" }
    }

    /// Why a request failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        /// Creates a failure saying `description`.
        public init(description: String) { self.description = description }
    }

    /// POSTs `body` to `path` with `headers` (plus Host, Content-Length and Connection: close unless given).
    public static func post(
        port: UInt16,
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8],
        host: String? = nil
    ) throws -> Response {
        try request(port: port, method: "POST", path: path, headers: headers, body: body, host: host)
    }

    /// GETs `path`.
    public static func get(port: UInt16, path: String) throws -> Response {
        try request(port: port, method: "GET", path: path, headers: [], body: [], host: nil)
    }

    /// Sends one request and reads the answer.
    public static func request(
        port: UInt16,
        method: String,
        path: String,
        headers: [(String, String)],
        body: [UInt8],
        host: String?
    ) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        let names = Set(headers.map { $0.0.lowercased() })
        if !names.contains("host") { head += "Host: \(host ?? "127.0.0.1:\(port)")\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method == "POST" && !names.contains("content-length") { head += "Content-Length: \(body.count)\r\n" }
        if !names.contains("connection") { head += "Connection: close\r\n" }
        head += "\r\n"
        do {
            return try exchange(port: port, bytes: Array(head.utf8) + body)
        } catch let failure as Failure {
            throw Failure(description: "\(method) \(path) on port \(port): \(failure)")
        }
    }

    /// Sends `bytes` as they are (a full request or only its head) and reads the answer.
    public static func exchange(port: UInt16, bytes: [UInt8]) throws -> Response {
        let fd = try connect(port: port)
        defer { close(fd) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: errno \(errno)")
            }
            sent += n
        }
        return try readResponse(fd)
    }

    private static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withLoopbackAddress(port: port) { Glibc.connect(fd, $0, $1) }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        }
        return fd
    }

    private static func readResponse(_ fd: Int32) throws -> Response {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let response = try parse(data, complete: false) { return response }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET, let response = try parse(data, complete: true) { return response }
                throw Failure(description: "recv: errno \(errno) after \(data.count) bytes")
            }
            if n == 0 {
                guard let response = try parse(data, complete: true) else {
                    throw Failure(description: "connection closed after \(data.count) bytes, no full answer")
                }
                return response
            }
            data += buffer[0..<n]
        }
    }

    /// The response in `data`, or nil when more bytes are needed (`complete`: the stream has ended).
    private static func parse(_ data: [UInt8], complete: Bool) throws -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = data.indices.dropLast(3).first(where: { Array(data[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure(description: "malformed status line: \(lines[0])")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "malformed header \(line)") }
            headers.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        let bodyStart = end + 4
        if let length = headers.first(where: { $0.name == "content-length" }).flatMap({ Int($0.value) }) {
            guard data.count >= bodyStart + length else { return nil }
            return Response(status: status, headers: headers, body: Array(data[bodyStart..<bodyStart + length]))
        }
        guard complete else { return nil }
        return Response(status: status, headers: headers, body: Array(data[bodyStart...]))
    }
}
