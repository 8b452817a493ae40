import Dispatch
import HTTPServer
import Synchronization

/// The project's HTTPServer on 127.0.0.1 (a port the kernel chose), answering every request with the function given
/// to ``answer(with:)`` or ``handle(with:)`` (500 until then): the base of the fakes of the vendor's APIs and of the
/// end-to-end tests' webhook receiver.
public final class FakeHTTPServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    /// The bound port.
    public let port: Int
    private let server: HTTPServer
    private let answers: Answers

    /// Starts the server.
    public init() throws {
        let answers = Answers()
        server = HTTPServer(
            configuration: HTTPServerConfiguration(listen: .address("127.0.0.1:0")),
            handler: ClosureHTTPHandler { request, respond in answers.handle(request, respond) }
        )
        self.answers = answers
        port = try server.start().port
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// Answers every request from now on with `answer` (a fake passes a closure that holds the fake weakly).
    public func answer(with answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        answers.set { request, respond in respond(answer(request)) }
    }

    /// Hands every request from now on to `handle`, which answers through its second argument (at once or later).
    public func handle(with handle: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void) {
        answers.set(handle)
    }

    /// Shuts the server down, waiting at most 5 s.
    public func stop() {
        let done = DispatchSemaphore(value: 0)
        server.shutdown(deadline: .seconds(1)) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
    }

    /// A response with `text` as its body and `contentType`.
    public static func json(_ status: Int, _ text: String, contentType: String = "application/json") -> HTTPResponse {
        var response = HTTPResponse(status: status, body: Array(text.utf8))
        response.headers.replaceOrAdd(name: "Content-Type", value: contentType)
        return response
    }

    /// The handling function, set once the fake that owns the server is fully initialised.
    private final class Answers: Sendable {
        private let function = Mutex<(@Sendable (HTTPRequest, HTTPResponder) -> Void)?>(nil)

        func set(_ handle: @escaping @Sendable (HTTPRequest, HTTPResponder) -> Void) {
            function.withLock { $0 = handle }
        }

        func handle(_ request: HTTPRequest, _ respond: HTTPResponder) {
            guard let handle = function.withLock({ $0 }) else { return respond(.text(500, "")) }
            handle(request, respond)
        }
    }
}
