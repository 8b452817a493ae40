/// An HTTP/1.1 answer: status, header fields and a bounded body.
public struct HTTPClientResponse: Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// Header fields in order, names as sent.
    public var headers: [HeaderField]
    /// The body, at most the client's body bound.
    public var body: [UInt8]
    /// Whether the body was longer than the bound and was cut.
    public var truncated: Bool

    /// One header field.
    public struct HeaderField: Sendable, Equatable {
        /// The name as sent.
        public var name: String
        /// The value without surrounding blanks.
        public var value: String

        /// Creates a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Creates a response.
    public init(status: Int, headers: [HeaderField] = [], body: [UInt8], truncated: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}
