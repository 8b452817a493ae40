/// What to do with a request once its head is parsed, before any body byte is read.
public enum HTTPHeadDecision: Sendable, Equatable {
    /// Read the body, failing with 413 when it exceeds `maxBytes` (also capped by the server's `maxBodyBytes`).
    /// A Content-Length above the limit is answered 413 without reading; a client waiting on
    /// `Expect: 100-continue` gets `100 Continue` only in this case.
    case readBody(maxBytes: Int)
    /// Answer now without reading the body. If the request announced a body the connection is closed after this
    /// response (the unread body is never parsed as a next request).
    case respond(HTTPResponse)
}
