import Synchronization
import VippsWebhooks

/// Calls to the vendor's APIs with one access token that is reused and fetched anew before it expires; retries 429
/// and 5xx answers and network failures with backoff (honouring `Retry-After` up to ``RetrySchedule/longestWait``).
///
/// Safe to share between threads; calls run one at a time. Errors are ``ManagementError`` values whose descriptions
/// never contain the client secret, the subscription key or a token.
public final class VippsAPISession: Sendable {
    /// How often and how long to wait before trying a call again.
    public struct RetrySchedule: Sendable {
        /// Attempts in all, the first included.
        public var attempts: Int
        /// Seconds before the second attempt; doubled for each later one.
        public var firstWait: Double
        /// Longest wait, also the cap for `Retry-After`.
        public var longestWait: Double

        /// Creates a schedule.
        public init(attempts: Int, firstWait: Double, longestWait: Double) {
            self.attempts = attempts
            self.firstWait = firstWait
            self.longestWait = longestWait
        }

        /// 4 attempts, waiting 0.5, 1 and 2 s (longer when `Retry-After` asks, at most 30 s).
        public static let standard = RetrySchedule(attempts: 4, firstWait: 0.5, longestWait: 30)
    }

    /// Longest answer body accepted.
    public static let maximumResponseBytes = 4 << 20

    private let baseURL: String
    private let credentials: ManagementCredentials
    private let identity: ClientIdentity
    private let transport: any ManagementTransport
    private let retry: RetrySchedule
    private let sleep: @Sendable (Double) -> Void
    private let token: AccessTokenCache
    private let calls = Mutex(())
    /// Requests sent so far (every attempt, token requests included).
    private let requestsSent = Atomic<Int>(0)

    /// Requests sent so far, every attempt and token request counted: what a caller keeping to a rate of calls
    /// paces by (one call of ``call(_:_:msn:step:expecting:)`` may send up to 2 × 4 requests and two token requests).
    public var requests: Int { requestsSent.load(ordering: .relaxed) }

    /// Creates a session.
    /// - Parameters:
    ///   - baseURL: the API root, checked with ``ManagementInput/checkBaseURL(_:)``.
    ///   - credentials: the merchant's keys.
    ///   - identity: the `Vipps-System-*` header values.
    ///   - transport: how requests travel.
    ///   - retry: the retry schedule.
    ///   - nowMillis: the clock (milliseconds since 1970), for token expiry.
    ///   - sleep: waits the given seconds between attempts.
    public init(
        baseURL: String,
        credentials: ManagementCredentials,
        identity: ClientIdentity,
        transport: any ManagementTransport = HTTPClientTransport(),
        retry: RetrySchedule = .standard,
        nowMillis: @escaping @Sendable () -> Int64,
        sleep: @escaping @Sendable (Double) -> Void
    ) throws(ManagementError) {
        self.baseURL = try ManagementInput.checkBaseURL(baseURL)
        self.credentials = credentials
        self.identity = identity
        self.transport = transport
        self.retry = retry
        self.sleep = sleep
        token = AccessTokenCache(
            baseURL: self.baseURL,
            credentials: credentials,
            identity: identity,
            nowMillis: nowMillis
        )
    }

    /// Sends `method path` with the token and the given `Merchant-Serial-Number`; returns the answer when its status
    /// is in `expecting`, else throws ``ManagementError/rejected(_:)`` for `step`.
    public func call(
        _ method: String,
        _ path: String,
        msn: String?,
        step: ManagementRejection.Step,
        expecting: Set<Int>
    ) throws(ManagementError) -> ManagementResponse {
        try calls.withLock { _ throws(ManagementError) in
            var response = try attempt(method, path, msn: msn)
            if response.status == 401 {
                // The token may have been revoked early: fetch a new one once.
                token.discard()
                response = try attempt(method, path, msn: msn)
            }
            guard expecting.contains(response.status) else { throw token.rejection(step, response) }
            return response
        }
    }

    private func attempt(_ method: String, _ path: String, msn: String?) throws(ManagementError) -> ManagementResponse {
        let value = try token.value(sendingWith: sendRetrying)
        var headers: [(name: String, value: String)] = [
            ("Authorization", "Bearer \(value)"), ("Ocp-Apim-Subscription-Key", credentials.subscriptionKey),
            ("Accept", "application/json, application/problem+json"),
        ]
        if let msn { headers.append(("Merchant-Serial-Number", msn)) }
        return try sendRetrying(
            ManagementRequest(method: method, url: baseURL + path, headers: headers + identity.headers)
        )
    }

    /// Sends `request`, again after a wait when the answer is 429 or 5xx or there was no answer.
    private func sendRetrying(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
        var wait = retry.firstWait
        var attempt = 1
        while true {
            let outcome: Result<ManagementResponse, ManagementError>
            requestsSent.add(1, ordering: .relaxed)
            do {
                outcome = .success(try transport.perform(request))
            } catch .network(let message) {
                outcome = .failure(.network(token.redacted(message)))
            } catch {
                outcome = .failure(error)
            }
            let retryable: Bool
            var asked: Double?
            switch outcome {
            case .success(let response):
                guard response.body.count <= Self.maximumResponseBytes else {
                    throw .malformedResponse("the answer body is over \(Self.maximumResponseBytes) bytes")
                }
                retryable = response.status == 429 || (500...599).contains(response.status)
                asked = response.retryAfterSeconds.flatMap { $0.isFinite ? $0 : nil }  // NaN would pass min/max
            case .failure(let error):
                guard case .network = error else { throw error }
                retryable = true
            }
            guard retryable, attempt < retry.attempts else { return try outcome.get() }
            sleep(min(max(asked ?? wait, 0), retry.longestWait))
            wait = min(wait * 2, retry.longestWait)
            attempt += 1
        }
    }
}
