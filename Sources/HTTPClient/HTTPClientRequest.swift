/// One HTTP/1.1 request for ``HTTPClient``.
public struct HTTPClientRequest: Sendable {
    /// `GET`, `POST`, `DELETE`, …
    public var method: String
    /// Where it goes; also the TLS server name and the certificate's expected name.
    public var url: ClientURL
    /// Header fields in order. `Host` is added from the URL unless given; `Content-Length` and `Connection` are the
    /// client's own and are dropped from here.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, url: ClientURL, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The request as bytes on the wire: one request per connection (`Connection: close`).
    /// Throws ``HTTPClientError/invalidRequest(_:)`` for a method or header that would break the framing.
    func serialized() throws(HTTPClientError) -> [UInt8] {
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
            throw .invalidRequest("method \(method) is not an uppercase token")
        }
        var head = "\(method) \(url.pathAndQuery) HTTP/1.1\r\n"
        let own: Set<String> = ["content-length", "connection", "transfer-encoding"]
        var hasHost = false
        for (name, value) in headers {
            let lowered = name.lowercased()
            guard !name.isEmpty, name.utf8.allSatisfy(ASCII.isTokenChar) else {
                throw .invalidRequest("header name \(name) is not a token")
            }
            guard value.utf8.allSatisfy(ASCII.isFieldValueChar) else {
                throw .invalidRequest("header \(name) holds a control character")
            }
            if own.contains(lowered) { continue }
            if lowered == "host" { hasHost = true }
            head += "\(name): \(value)\r\n"
        }
        if !hasHost { head = head + "Host: \(url.authority)\r\n" }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}
