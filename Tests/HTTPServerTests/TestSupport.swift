import Dispatch
import Foundation
import Glibc
import HTTPServer
import Synchronization

/// Collects observer events.
final class EventLog: Sendable {
    private let events = Mutex<[HTTPServerEvent]>([])
    func record(_ event: HTTPServerEvent) { events.withLock { $0.append(event) } }
    var all: [HTTPServerEvent] { events.withLock { $0 } }
}

/// A started server on 127.0.0.1:0 (or `listen`) that is shut down by `stop()`.
struct RunningServer {
    let server: HTTPServer
    let address: HTTPServer.BoundAddress
    let log: EventLog

    init(
        listen: HTTPServerConfiguration.Listen = .address("127.0.0.1:0"),
        configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        handler: any HTTPHandler = echoHandler
    ) throws {
        var configuration = HTTPServerConfiguration(listen: listen)
        configure(&configuration)
        let log = EventLog()
        server = HTTPServer(configuration: configuration, handler: handler, observer: { log.record($0) })
        self.log = log
        address = try server.start()
    }

    var port: Int { address.port }

    /// Shuts down and waits (at most 5 s) for completion.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        server.shutdown(deadline: .seconds(2)) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
    }
}

/// Answers "METHOD TARGET body".
let echoHandler = ClosureHTTPHandler { request, respond in
    respond(HTTPResponse(status: 200, body: Array("\(request.method) \(request.target) ".utf8) + request.body))
}

/// Keeps the responders of requests to /held until the test answers them; answers any other request at once with
/// its target as the body.
final class HoldingHandler: HTTPHandler, Sendable {
    private let held = Mutex<[HTTPResponder]>([])

    /// Requests held now.
    var count: Int { held.withLock { $0.count } }

    func decide(head: HTTPRequestHead, peer: String) -> HTTPHeadDecision {
        .readBody(maxBytes: .max)
    }

    func handle(_ request: HTTPRequest, respond: HTTPResponder) {
        if request.target == "/held" {
            held.withLock { $0.append(respond) }
        } else {
            respond(HTTPResponse(status: 200, body: Array(request.target.utf8)))
        }
    }

    /// Answers the request held longest with `response`.
    func answerFirst(_ response: HTTPResponse) {
        held.withLock { $0.removeFirst() }(response)
    }

    /// Answers every held request with `response`.
    func answerAll(_ response: HTTPResponse) {
        let responders = held.withLock { responders in
            let all = responders
            responders = []
            return all
        }
        for respond in responders { respond(response) }
    }
}
