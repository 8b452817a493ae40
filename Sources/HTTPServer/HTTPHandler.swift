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

/// The application side of the server. Both methods are called on the connection's event-loop thread, which
/// serves many connections: `decide` must return quickly and `handle` must not block (hand slow work to another
/// thread and answer from there).
///
/// A response with a 4xx status, from either method, is sent with `Connection: close` and ends the connection, so a
/// client cannot keep a slot with cheap refused requests; other responses keep a keep-alive connection open.
public protocol HTTPHandler: Sendable {
    /// Called once per request when its head is complete, before the body is read.
    func decide(head: HTTPRequestHead, peer: String) -> HTTPHeadDecision

    /// Called with the complete request. Answer through `respond` exactly once, from any thread, now or later (for
    /// example after a journal fsync); further answers are ignored. Responses on a connection go out in request
    /// order: the next pipelined request is not read until this one is answered.
    func handle(_ request: HTTPRequest, respond: HTTPResponder)
}
