import HTTP1

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
