import EventStore
import HTTPServer
import Logging
import Synchronization

/// Logs and counts what the HTTP server handles by itself (malformed requests, timeouts, refused connections).
///
/// Lines are rate-limited per kind (a flood of bad clients must not flood the log); counters are exact.
final class ServerObserver: Sendable {
    private let metrics: DaemonMetrics
    private let rateLimited: RateLimitedLog
    private let openConnections = Mutex(0)

    init(metrics: DaemonMetrics, logger: Logger) {
        self.metrics = metrics
        rateLimited = RateLimitedLog(logger: logger)
    }

    func observe(_ event: HTTPServerEvent) {
        switch event {
        case .connectionAccepted:
            metrics.recordOpenConnections(adjustOpen(by: 1))
        case .connectionClosed:
            metrics.recordOpenConnections(adjustOpen(by: -1))
        case .parseError(let peer, let error, let status):
            metrics.serverEvent(kind: "bad_request_\(status)")
            log(
                .warning,
                kind: "parse",
                "malformed request",
                [
                    "peer": "\(peer)", "status": .stringConvertible(status),
                    "reason": "\(error)",
                ]
            )
        case .timeout(let peer, let kind):
            metrics.serverEvent(kind: "timeout_\(kind.rawValue)")
            if kind != .idle {
                log(
                    .notice,
                    kind: "timeout",
                    "client too slow; connection closed",
                    [
                        "peer": "\(peer)",
                        "timeout": "\(kind.rawValue)",
                    ]
                )
            }
        case .connectionRefused(let peer):
            metrics.serverEvent(kind: "connection_refused")
            log(.warning, kind: "refused", "connection limit reached; answered 503", ["peer": "\(peer)"])
        case .idleConnectionReplaced(let peer):
            metrics.serverEvent(kind: "idle_connection_replaced")
            let message = "connection limit reached; longest idle keep-alive connection closed for a new one"
            log(.notice, kind: "replaced", message, ["peer": "\(peer)"])
        case .acceptFailed(let error):
            metrics.serverEvent(kind: "accept_failed")
            log(.error, kind: "accept", "accept failed", ["error": "\(error)"])
        case .connectionError(let peer, let error):
            metrics.serverEvent(kind: "connection_error")
            log(.debug, kind: "connection", "connection error", ["peer": "\(peer)", "error": "\(error)"])
        case .requestShed(let peer, let heldBytes):
            metrics.serverEvent(kind: "shed_buffer_budget")
            let message = "buffers of unanswered requests full; costliest incomplete request cut with 503"
            log(.warning, kind: "shed", message, ["peer": "\(peer)", "held_bytes": .stringConvertible(heldBytes)])
        case .incompleteRequest(let peer):
            metrics.serverEvent(kind: "incomplete_request")
            let message = "client closed in the middle of a request; nothing stored"
            log(.warning, kind: "incomplete", message, ["peer": "\(peer)"])
        case .duplicateResponse(let peer):
            metrics.serverEvent(kind: "duplicate_response")
            log(.error, kind: "duplicate", "a request was answered twice (bug)", ["peer": "\(peer)"])
        }
    }

    private func adjustOpen(by delta: Int) -> Int {
        openConnections.withLock { open in
            open += delta
            return open
        }
    }

    private func log(_ level: Logger.Level, kind: String, _ message: String, _ metadata: Logger.Metadata) {
        rateLimited.log(level, kind: kind, message, metadata: metadata)
    }
}
