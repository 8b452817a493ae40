/// A complete request handed to `HTTPHandler.handle(_:respond:)`.
public struct HTTPRequest: Sendable, Equatable {
    /// Request line and header fields.
    public var head: HTTPRequestHead
    /// The whole body, de-chunked (empty when the request has none).
    public var body: [UInt8]
    /// The client's address, e.g. "127.0.0.1:51234" or "[::1]:51234".
    public var peer: String

    public init(head: HTTPRequestHead, body: [UInt8], peer: String) {
        self.head = head
        self.body = body
        self.peer = peer
    }

    public var method: String { head.method }
    public var target: String { head.target }
    public var version: HTTPVersion { head.version }
    public var headers: HTTPHeaders { head.headers }
}
