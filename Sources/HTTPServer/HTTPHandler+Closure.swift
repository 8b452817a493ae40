import HTTP1

/// An `HTTPHandler` made of two closures (handy for small servers and tests).
public struct ClosureHTTPHandler: HTTPHandler {
    private let decideClosure: @Sendable (HTTPRequestHead, String) -> HTTPHeadDecision
    private let handleClosure: @Sendable (HTTPRequest, HTTPResponder) -> Void

    /// - Parameters:
    ///   - decide: the head decision; by default read bodies up to the server's `maxBodyBytes`.
    ///   - handle: answers the complete request through its second argument.
    public init(
        decide: @escaping @Sendable (HTTPRequestHead, String) -> HTTPHeadDecision = { _, _ in .readBody(maxBytes: .max)
        },
        handle: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void
    ) {
        decideClosure = decide
        handleClosure = handle
    }

    public func decide(head: HTTPRequestHead, peer: String) -> HTTPHeadDecision {
        decideClosure(head, peer)
    }

    public func handle(_ request: HTTPRequest, respond: HTTPResponder) {
        handleClosure(request, respond)
    }
}
