import HTTP1

/// What happened on the server that the daemon may log or count. Delivered synchronously on server queues:
/// the observer must be fast and must not block.
public enum HTTPServerEvent: Sendable, Equatable {
    /// Which deadline a connection missed (head, body, idle or write).
    public typealias TimeoutKind = HTTPConnectionStateMachine.DeadlineKind

    /// A connection was accepted.
    case connectionAccepted(peer: String)
    /// A connection was closed after serving `requests` requests.
    case connectionClosed(peer: String, requests: Int)
    /// A request was rejected by the parser and answered with `status` before closing.
    case parseError(peer: String, error: HTTPParseError, status: Int)
    /// A connection missed a deadline (answered 408 when a request was partly received) and was closed.
    case timeout(peer: String, kind: TimeoutKind)
    /// A connection was refused because `maxConnections` were open (answered 503 and closed at once).
    case connectionRefused(peer: String)
    /// `maxConnections` were open: this keep-alive connection, idle between requests longer than any other, was closed
    /// to admit a new connection.
    case idleConnectionReplaced(peer: String)
    /// accept(2) failed; on descriptor exhaustion the listener pauses briefly and retries.
    case acceptFailed(HTTPServerError)
    /// A connection failed with a socket error and was closed.
    case connectionError(peer: String, error: HTTPServerError)
    /// The client ended its side of the connection in the middle of a request (head or body incomplete); the
    /// connection was closed without an answer.
    case incompleteRequest(peer: String)
    /// The handler called `respond` more than once; the extra responses were ignored.
    case duplicateResponse(peer: String)
    /// The buffers of unanswered requests reached `maxBufferedBytes` (the loop's share): this connection's request,
    /// one of the incomplete ones costing most (`BufferBudget.cost(of:now:)`), holding `heldBytes`, was cut (its
    /// buffers freed, answered 503, closed).
    case requestShed(peer: String, heldBytes: Int)
}
