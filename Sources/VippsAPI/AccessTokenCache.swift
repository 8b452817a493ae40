import Synchronization
import VippsWebhooks

/// The access token of one set of credentials, shared by ``ManagementClient`` and ``VippsAPISession``: fetched on
/// first use, reused, and fetched anew once it is within ``refreshMarginSeconds`` of the end of its lifetime.
///
/// The caller chooses how the token request travels (once, or with retries), so that this type holds no policy of
/// its own about sending. Safe to share between threads. Also the one place that knows every secret to redact.
final class AccessTokenCache: Sendable {
    /// A token is fetched anew this many seconds before the end of its lifetime.
    static let refreshMarginSeconds: Int64 = 120
    /// Lifetime assumed when the token answer says none.
    static let assumedLifetimeSeconds: Int64 = 900

    private struct CachedToken {
        var value: String
        var refreshAtMillis: Int64
    }

    private let request: ManagementRequest
    private let secrets: [String]
    private let nowMillis: @Sendable () -> Int64
    private let cached = Mutex<CachedToken?>(nil)

    /// Creates an empty cache for the token of `credentials` at `baseURL`, with `nowMillis` as the clock.
    init(
        baseURL: String,
        credentials: ManagementCredentials,
        identity: ClientIdentity,
        nowMillis: @escaping @Sendable () -> Int64 = AccessTokenCache.monotonicMillis
    ) {
        request = ManagementRequest.accessToken(baseURL: baseURL, credentials: credentials, identity: identity)
        secrets = credentials.secrets
        self.nowMillis = nowMillis
    }

    /// The token: the cached one while it is fresh, else one fetched by handing the token request to `send`.
    /// - Throws: what `send` throws; ``ManagementError/rejected(_:)`` for an answer other than 200;
    ///   ``ManagementError/malformedResponse(_:)`` for an answer without a token.
    func value(
        sendingWith send: (ManagementRequest) throws(ManagementError) -> ManagementResponse
    ) throws(ManagementError) -> String {
        let now = nowMillis()
        if let token = cached.withLock({ $0 }), now < token.refreshAtMillis { return token.value }
        let response = try send(request)
        guard response.status == 200 else { throw rejection(.accessToken, response) }
        let json: JSONValue
        do { json = try JSONParser.parse(response.body) } catch {
            throw .malformedResponse("the token answer is not JSON (\(error))")
        }
        let fresh = try AccessToken.parse(json)
        // At most a day: the answer's number must not overflow the refresh time below.
        let lifetime = min(max(fresh.expiresIn ?? Self.assumedLifetimeSeconds, 0), 86_400)
        let usable = max(lifetime - Self.refreshMarginSeconds, lifetime / 2)
        cached.withLock { $0 = CachedToken(value: fresh.value, refreshAtMillis: now + usable * 1000) }
        return fresh.value
    }

    /// Forgets the cached token (the API refused it), so that the next ``value(sendingWith:)`` fetches a new one.
    func discard() {
        cached.withLock { $0 = nil }
    }

    /// The error for an answer `response` to `step` that was not the expected one, secrets removed.
    func rejection(_ step: ManagementRejection.Step, _ response: ManagementResponse) -> ManagementError {
        ManagementRejection.error(step, response, redact: redacted)
    }

    /// `text` without the client secret, the subscription key or the token.
    func redacted(_ text: String) -> String {
        OutputText.redacting(secrets + [cached.withLock { $0?.value }].compactMap { $0 }, in: text)
    }

    /// Milliseconds on a clock that never goes back, counted from the first call in this process.
    static func monotonicMillis() -> Int64 {
        let elapsed = processStart.duration(to: .now).components
        return elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
    }

    private static let processStart = ContinuousClock.now
}
