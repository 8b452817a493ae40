/// The parsed head of a request: request line, header fields and what they imply for the connection.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive as sent (e.g. "GET", "POST").
    public var method: String
    /// The request target exactly as sent (e.g. "/vipps/webhooks?x=1").
    public var target: String
    /// The protocol version.
    public var version: HTTPVersion
    /// The header fields in order.
    public var headers: HTTPHeaders
    /// How the body is delimited.
    public var bodyFraming: HTTPBodyFraming
    /// Whether the client allows the connection to stay open after this request
    /// (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool
    /// Whether the client sent `Expect: 100-continue` and waits for `100 Continue` before its body.
    public var expectsContinue: Bool

    public init(
        method: String,
        target: String,
        version: HTTPVersion,
        headers: HTTPHeaders,
        bodyFraming: HTTPBodyFraming,
        keepAlive: Bool,
        expectsContinue: Bool
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.bodyFraming = bodyFraming
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }

    /// The target's path: everything before the first "?" byte (found in the UTF-8 bytes, not by `Character`).
    public var path: Substring {
        let utf8 = target.utf8
        let question =
            utf8.withContiguousStorageIfAvailable { bytes in
                bytes.firstIndex(of: UInt8(ascii: "?")).map { utf8.index(utf8.startIndex, offsetBy: $0) }
            } ?? utf8.firstIndex(of: UInt8(ascii: "?"))
        return target[..<(question ?? target.endIndex)]
    }
}
