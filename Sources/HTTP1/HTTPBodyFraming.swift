/// How the body of a request is delimited, decided from its head.
public enum HTTPBodyFraming: Sendable, Hashable {
    /// No body (neither Content-Length nor Transfer-Encoding).
    case none
    /// Exactly this many bytes (Content-Length).
    case length(Int)
    /// Transfer-Encoding: chunked; the size is known only at the end.
    case chunked

    /// Whether the request carries body bytes (or may: chunked).
    public var hasBody: Bool {
        switch self {
        case .none, .length(0): return false
        case .length, .chunked: return true
        }
    }
}
