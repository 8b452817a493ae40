import Dispatch
import Foundation
import HTTPServer
import Synchronization
import TestSupport

/// A loopback webhook receiver on the project's HTTPServer that records every request and answers with a fixed
/// status, optionally after a delay (to observe how many requests are in flight at once).
final class RecordingReceiver: Sendable {
    private struct State {
        var requests: [HTTPRequest] = []
        var inFlight = 0
        var maxInFlight = 0
    }

    private final class Shared: Sendable {
        let mutex = Mutex(State())
    }

    private let shared = Shared()
    private let server: FakeHTTPServer
    /// The bound port on 127.0.0.1.
    var port: Int { server.port }

    /// - Parameters:
    ///   - status: the status of every answer.
    ///   - answer: the answer body.
    ///   - delayMilliseconds: how long each answer waits.
    init(status: Int = 200, answer: String = #"{"status":"accepted"}"#, delayMilliseconds: Int = 0) throws {
        let shared = shared
        server = try FakeHTTPServer()
        server.handle { request, respond in
            shared.mutex.withLock { state in
                state.requests.append(request)
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
            }
            let response = FakeHTTPServer.json(status, answer)
            guard delayMilliseconds > 0 else {
                shared.mutex.withLock { $0.inFlight -= 1 }
                return respond(response)
            }
            // A thread of its own, not the global queue: in a full run under load its threads can all be busy for
            // longer than `send` waits for an answer (10 s).
            Thread.detachNewThread {
                usleep(UInt32(delayMilliseconds) * 1000)
                shared.mutex.withLock { $0.inFlight -= 1 }
                respond(response)
            }
        }
    }

    /// Every request received so far.
    var requests: [HTTPRequest] { shared.mutex.withLock { $0.requests } }
    /// Most requests that were being answered at the same time.
    var maxInFlight: Int { shared.mutex.withLock { $0.maxInFlight } }

    func stop() {
        server.stop()
    }
}
