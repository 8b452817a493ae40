import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 client over a raw TCP socket to 127.0.0.1, for end-to-end tests: one request per connection,
/// `Connection: close`, the answer read up to its `Content-Length` or the end of the stream (5 s at most).
public enum TestHTTPClient {
    /// A parsed answer.
    public struct Response: CustomStringConvertible {
        /// The status code.
        public var status: Int
        /// Header fields with lower-cased names, in order.
        public var headers: [(name: String, value: String)]
        /// The body bytes.
        public var body: [UInt8]

        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The first value of header `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name == name.lowercased() }?.value
        }

        /// The status and the body text.
        public var description: String { "\(status) \(text)" }
    }

    /// Why a request failed.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
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
        do {
            let connection = try RawClient(port: Int(port))
            try connection.send(bytes)
            return try connection.readMessage()
        } catch let error as RawClient.ClientError {
            throw Failure(description: "127.0.0.1:\(port): \(error)")
        }
    }
}
