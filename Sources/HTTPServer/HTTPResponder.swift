import HTTP1

/// How a handler answers a request: call it with the response, once, from any thread, now or later.
///
/// `responder(response)` sends the answer. `respond(_:then:)` also runs `then` on the connection's event-loop
/// thread right after the answer is queued for sending, so that follow-up work (a log line, a metric) costs the
/// thread that called it nothing; if the server has stopped meanwhile, `then` runs on the calling thread. Further
/// answers for the same request are ignored (and reported as `HTTPServerEvent.duplicateResponse`); their `then`
/// still runs.
public struct HTTPResponder: Sendable {
    private let deliver: @Sendable (HTTPResponse, (@Sendable () -> Void)?) -> Void

    /// - Parameter deliver: takes the response and the optional follow-up work.
    public init(_ deliver: @escaping @Sendable (HTTPResponse, (@Sendable () -> Void)?) -> Void) {
        self.deliver = deliver
    }

    /// Answers with `response`.
    public func callAsFunction(_ response: HTTPResponse) {
        deliver(response, nil)
    }

    /// Answers with `response`, then runs `then` on the connection's thread.
    public func respond(_ response: HTTPResponse, then: @escaping @Sendable () -> Void) {
        deliver(response, then)
    }
}
