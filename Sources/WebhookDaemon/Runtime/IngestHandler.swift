import Delivery
import EventStore
import HTTPServer
import Logging
import POSIX
import Synchronization
import VippsWebhooks

/// The daemon's HTTP handler: socket → parser → verifier → journal (fsync) → answer → dispatcher.
///
/// Answers: 200 only once the event is durably journaled (or was accepted before), 401 for anything not authentic
/// (one body for every reason: the reason goes to the log only), 404 unknown path, 405 other methods, 413 from
/// `Content-Length` before reading (and for an event whose journal record would be too large), 503 when the event
/// cannot be stored. Every answer is counted; every answer is logged, refusals (4xx) and failures (5xx) through a
/// rate limit with client-supplied text escaped and cut (see ``LogText``).
///
/// The event id is derived from the signed body only (`EventIdentity`); the `webhook-id` header is kept with the
/// event for correlation and never decides whether it is stored.
final class IngestHandler: HTTPHandler {
    private let endpoints: EndpointTableBox
    private let store: EventStore
    private let payments: PaymentLedger
    private let dispatcher: DeliveryDispatcher
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let health: HealthState
    private let refusals: RateLimitedLog
    private let streaks: SignatureFailureStreaks
    /// The daemon's log handler when the logger has it, for request lines without swift-log metadata.
    private let requestLog: DaemonLogHandler?

    init(
        endpoints: EndpointTableBox,
        store: EventStore,
        payments: PaymentLedger,
        dispatcher: DeliveryDispatcher,
        metrics: DaemonMetrics,
        health: HealthState,
        logger: Logger
    ) {
        self.endpoints = endpoints
        self.store = store
        self.payments = payments
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.health = health
        self.logger = logger
        refusals = RateLimitedLog(logger: logger)
        streaks = SignatureFailureStreaks(logger: logger, metrics: metrics)
        requestLog = logger.handler as? DaemonLogHandler
    }

    func decide(head: HTTPRequestHead, peer: String) -> HTTPHeadDecision {
        let path = String(head.path)
        let table = endpoints.current
        guard table.entries[path] != nil else {
            return .respond(ownResource(path: path, head: head, peer: peer))
        }
        guard head.method == "POST" else {
            var response = HTTPResponse.text(405, "method not allowed: use POST")
            response.headers.replaceOrAdd(name: "Allow", value: "POST")
            let method = LogText.escaped(head.method)
            finish(response, endpoint: path, peer: peer, started: .now, reason: "method \(method)")
            return .respond(response)
        }
        if case .length(let length) = head.bodyFraming, length > table.maxBodyBytes {
            let response = HTTPResponse.text(413, "body over \(table.maxBodyBytes) bytes")
            finish(
                response,
                endpoint: path,
                peer: peer,
                started: .now,
                reason: "content-length \(length) over max_body_bytes \(table.maxBodyBytes)"
            )
            return .respond(response)
        }
        return .readBody(maxBytes: table.maxBodyBytes)
    }

    func handle(_ request: HTTPRequest, respond: HTTPResponder) {
        let started = ContinuousClock.now
        let path = String(request.head.path)
        guard let endpoint = endpoints.current.entries[path] else {
            // The configuration was reloaded between head and body and no longer has this endpoint.
            let response = HTTPResponse.text(404, "not found")
            finish(response, endpoint: path, peer: request.peer, started: started, reason: "endpoint removed")
            respond(response)
            return
        }
        let target =
            endpoint.signedTarget
            ?? SignedTarget(host: (request.headers["host"] ?? "").lowercased(), pathAndQuery: request.target)
        let nowMillis = currentEpochMilliseconds()
        let now = nowMillis / 1000
        let verdict = endpoint.verifier.verify(
            method: request.method,
            target: target,
            headers: request.headers,
            body: request.body,
            now: now
        )
        if case .rejected(let failure) = verdict {
            metrics.verificationFailure(endpoint: path, reason: failure.reason)
            let date = request.headers["x-ms-date"]
            streaks.refused(
                failure,
                endpoint: path,
                date: date,
                now: now,
                clockSkewSeconds: endpoint.verifier.clockSkewSeconds
            )
            finish(Self.notAuthenticAnswer, endpoint: path, peer: request.peer, started: started, reason: "\(failure)")
            {
                $0.signedTarget = LogText.escaped("\(target)")
            }
            respond(Self.notAuthenticAnswer)
            return
        }
        streaks.authentic(endpoint: path)

        let webhookID = WebhookIDHeader.value(request.headers["webhook-id"])
        let decoded = DecodedEvent.decode(body: request.body)
        let businessKey = EPaymentBusinessKey(decoded)
        let id = EventIdentity.id(body: request.body, businessKey: businessKey)
        let sinks = endpoint.router.sinks(for: decoded)
        // Findings name the body's fields: a signed body with many odd members would make one log line of any size.
        let findings =
            decoded.findings.isEmpty
            ? nil : LogText.escaped(decoded.findings.map { "\($0)" }.joined(separator: "; "), limit: 1024)
        if findings != nil { metrics.findings(type: decoded.type) }
        if sinks.isEmpty { metrics.unrouted(endpoint: path) }
        store.accept(
            id: id,
            webhookID: webhookID.value,
            source: .webhook,
            type: decoded.type,
            endpoint: path,
            receivedAtMillis: nowMillis,
            body: request.body,
            sinks: sinks
        ) { [self] outcome in
            // On the store's queue, which writes the next batch only after this returns: hand the event to its
            // sinks and the answer to the connection; count and log on the connection's thread.
            if case .stored(let event) = outcome { dispatcher.deliver(event, decoded: decoded, to: sinks) }
            let answer = Self.answer(to: outcome)
            respond.respond(answer) { [self] in
                let reason: String
                var sequence: UInt64?
                switch outcome {
                case .stored(let event):
                    reason = "stored"
                    sequence = event.sequence
                    metrics.eventAccepted(type: decoded.type)
                    recordPayment(businessKey, of: decoded, endpoint: path, atMillis: event.receivedAtMillis)
                case .duplicate:
                    reason = "duplicate"
                    metrics.duplicate()
                    recordPayment(businessKey, of: decoded, endpoint: path, atMillis: nowMillis)
                case .failed(let error):
                    reason = "storage failed: \(error)"
                    metrics.storageError(operation: "journal")
                }
                finish(answer, endpoint: path, peer: request.peer, started: started, reason: reason) {
                    $0.id = id
                    $0.type = decoded.type
                    $0.webhookID = webhookID.unusable ? "unusable header; not kept" : webhookID.value
                    $0.findings = findings
                    $0.routed = sinks.isEmpty ? "no route matched; kept in the journal only" : nil
                    $0.sequence = sequence
                }
            }
        }
    }

    /// Tells the payment ledger (reconciliation) that an ePayment event (one with a business key) is held; on the
    /// connection's thread, after the answer, never on the store's queue.
    private func recordPayment(
        _ key: EPaymentBusinessKey?,
        of decoded: DecodedEvent,
        endpoint: String,
        atMillis: Int64
    ) {
        guard let key else { return }
        payments.record(PaymentObservation(key, of: decoded, endpoint: endpoint, atMillis: atMillis))
    }

    private static let storedAnswer = HTTPResponse.text(200, "stored")
    /// The one answer to every request that is not authentic, whatever the reason (no oracle for a forger).
    static let notAuthenticAnswer = HTTPResponse.text(401, "not authentic")
    private static let duplicateAnswer = HTTPResponse.text(200, "duplicate of an accepted event")
    private static let storageFailedAnswer = HTTPResponse.text(503, "cannot store the event; retry later")
    /// An event whose journal record would be over the journal's limit: a retry would fail the same way.
    private static let tooLargeToStoreAnswer = HTTPResponse.text(413, "event too large to store")

    /// The answer to a POST once the store has decided.
    static func answer(to outcome: AcceptOutcome) -> HTTPResponse {
        switch outcome {
        case .stored: storedAnswer
        case .duplicate: duplicateAnswer
        case .failed(let error) where error.code == .invalidArgument: tooLargeToStoreAnswer
        case .failed: storageFailedAnswer
        }
    }

    /// `/healthz`, `/metrics` or 404.
    private func ownResource(path: String, head: HTTPRequestHead, peer: String) -> HTTPResponse {
        let readOnly = head.method == "GET" || head.method == "HEAD"
        let response: HTTPResponse
        switch path {
        case "/healthz" where readOnly:
            response = health.isReady ? .text(200, "ok") : .text(503, "\(health.state)")
        case "/metrics" where readOnly:
            var metricsResponse = HTTPResponse(status: 200, body: metrics.exposition())
            metricsResponse.headers.replaceOrAdd(
                name: "Content-Type",
                value: "text/plain; version=0.0.4; charset=utf-8"
            )
            response = metricsResponse
        case "/healthz", "/metrics":
            var notAllowed = HTTPResponse.text(405, "method not allowed: use GET")
            notAllowed.headers.replaceOrAdd(name: "Allow", value: "GET, HEAD")
            response = notAllowed
        default:
            response = .text(404, "not found")
            finish(response, endpoint: path, peer: peer, started: .now, reason: "no endpoint at this path")
            return response
        }
        if response.status == 503 {
            finish(response, endpoint: path, peer: peer, started: .now, reason: "not ready: \(health.state)")
        } else if response.status >= 400 {
            let method = LogText.escaped(head.method)
            finish(response, endpoint: path, peer: peer, started: .now, reason: "method \(method)")
        } else {
            metrics.request(endpoint: path, status: response.status, duration: .zero)
        }
        return response
    }

    /// Logs and counts one answer: every answer is counted; refusals (4xx) and failures (5xx: a `/healthz` while not
    /// ready, an event that cannot be stored) are logged through a rate limit per status, with the path escaped and
    /// cut, as any client can repeat them. `fill` adds the fields particular to the answer.
    private func finish(
        _ response: HTTPResponse,
        endpoint: String,
        peer: String,
        started: ContinuousClock.Instant,
        reason: @autoclosure () -> String,
        fill: (inout RequestLogRecord) -> Void = { _ in }
    ) {
        let elapsed = ContinuousClock.now - started
        let label = response.status == 404 ? "unknown" : endpoint  // Unknown paths would make unbounded labels.
        metrics.request(endpoint: label, status: response.status, duration: elapsed)
        func record() -> RequestLogRecord {
            let microseconds =
                elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            var record = RequestLogRecord(
                endpoint: LogText.escaped(endpoint),
                microseconds: Int(microseconds),
                peer: peer,
                reason: reason(),
                status: response.status
            )
            fill(&record)
            return record
        }
        switch response.status {
        case 400..<500:
            refusals.log(.warning, kind: "refused_\(response.status)", "request", metadata: record().metadata)
        case 500...:
            refusals.log(.error, kind: "failed_\(response.status)", "request", metadata: record().metadata)
        default:
            log(record(), level: .info)
        }
    }

    /// Writes a request's record through the daemon's handler's typed path, or through swift-log.
    private func log(_ record: @autoclosure () -> RequestLogRecord, level: Logger.Level) {
        guard logger.logLevel <= level else { return }
        let record = record()
        if let requestLog, requestLog.logRequest(record, level: level) { return }
        logger.log(level: level, "request", metadata: record.metadata)
    }
}

/// Whether the daemon is ready (serving), starting or draining, for `/healthz`.
final class HealthState: Sendable {
    private let value = Mutex("starting")

    var state: String {
        value.withLock { $0 }
    }

    var isReady: Bool { state == "ready" }

    /// Whether ``fail(_:)`` was called: the daemon cannot serve until restarted.
    var isFailed: Bool { state.hasPrefix("failed") }

    func set(_ state: String) {
        value.withLock { if !$0.hasPrefix("failed") { $0 = state } }
    }

    /// Latches `failed: <reason>`: later ``set(_:)`` calls no longer change the state.
    func fail(_ reason: String) {
        value.withLock { if !$0.hasPrefix("failed") { $0 = "failed: \(reason)" } }
    }
}
