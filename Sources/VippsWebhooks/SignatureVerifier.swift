import HTTP1
import VippsCrypto

/// Decides whether a request is an authentic Vipps webhook delivery (README: How signing works).
///
/// Checks, in this order: the needed headers are there and well-formed; the content hash matches the raw body; the
/// signature matches under one of the endpoint's secrets (several during rotation); the date is an HTTP-date within
/// the allowed clock skew. Digests are compared in constant time. The date is checked last so that a forged request
/// is reported as a signature failure and "date outside window" means authentic but stale (a replay, or a skewed
/// clock).
public struct SignatureVerifier: Sendable {
    /// The secrets any of which may have signed a request.
    public let secrets: [WebhookSecret]
    /// Largest allowed distance, in seconds, between `x-ms-date` and now.
    public let clockSkewSeconds: Int64

    /// A verifier for one endpoint.
    /// - Parameters:
    ///   - secrets: the registration secrets of the endpoint, tried in order.
    ///   - clockSkewSeconds: the allowed distance between the request's date and now (default 300).
    public init(secrets: [WebhookSecret], clockSkewSeconds: Int64 = 300) {
        self.secrets = secrets.filter { !$0.isEmpty }
        self.clockSkewSeconds = clockSkewSeconds
    }

    /// The header fields ``verify(method:target:headers:body:now:)`` reads; others may be left out of `headers`.
    public static let headerNames = [
        SignedHeaderFields.dateName, SignedHeaderFields.contentHashName, SignedHeaderFields.authorizationName,
        SignedHeaderFields.vippsAuthorizationName,
    ]

    /// Verifies one request.
    /// - Parameters:
    ///   - method: the request's method.
    ///   - target: host and path+query the signature must cover (from the endpoint's public URL).
    ///   - headers: the request's header fields; names are matched case-insensitively.
    ///   - body: the raw body bytes as received.
    ///   - now: the current time in seconds since 1970.
    /// - Returns: `.authentic` with the index of the secret that matched, or the reason for rejecting.
    public func verify(
        method: String,
        target: SignedTarget,
        headers: some Sequence<(name: String, value: String)>,
        body: some Collection<UInt8>,
        now: Int64
    ) -> VerificationResult {
        check(method: method, target: target, fields: SignedHeaderFields(headers), body: body, now: now)
    }

    /// ``verify(method:target:headers:body:now:)`` for the daemon's own types, compiled for them here: a generic
    /// call from another module runs unspecialized, looking up type metadata for every header byte compared.
    public func verify(
        method: String,
        target: SignedTarget,
        headers: [(name: String, value: String)],
        body: [UInt8],
        now: Int64
    ) -> VerificationResult {
        check(method: method, target: target, fields: SignedHeaderFields(headers), body: body, now: now)
    }

    /// ``verify(method:target:headers:body:now:)`` for a parsed request's header fields: one pass over them, a
    /// string made only for the fields the signature reads.
    public func verify(
        method: String,
        target: SignedTarget,
        headers: HTTPHeaders,
        body: [UInt8],
        now: Int64
    ) -> VerificationResult {
        check(method: method, target: target, fields: SignedHeaderFields(headers), body: body, now: now)
    }

    private func check(
        method: String,
        target: SignedTarget,
        fields: SignedHeaderFields,
        body: some Collection<UInt8>,
        now: Int64
    ) -> VerificationResult {
        guard let date = fields.date else { return .rejected(.missingHeader(SignedHeaderFields.dateName)) }
        guard let claimedHash = fields.contentHash else {
            return .rejected(.missingHeader(SignedHeaderFields.contentHashName))
        }
        guard !fields.authorizations.isEmpty else {
            return .rejected(.missingHeader(SignedHeaderFields.authorizationName))
        }
        // A loop, not `lazy.compactMap(_:).first`, which parses the first parseable value twice.
        var parsed: AuthorizationHeader?
        for value in fields.authorizations where parsed == nil { parsed = AuthorizationHeader(parsing: value) }
        guard let authorization = parsed else { return .rejected(.malformedAuthorization) }

        let actualHash = ContentHash.of(body)
        guard ConstantTime.equal(actualHash, claimedHash) else { return .rejected(.contentHashMismatch) }

        let message = StringToSign.bytes(method: method, target: target, date: date, contentHash: actualHash)
        var matched: Int?
        for (index, secret) in secrets.enumerated() {
            let expected = secret.hmacKey.base64AuthenticationCode(for: message)
            if ConstantTime.equal(expected, authorization.signature) {
                matched = index
                break
            }
        }
        guard let matched else { return .rejected(.signatureMismatch) }

        guard let seconds = HTTPDate.parse(date) else { return .rejected(.unparseableDate) }
        guard abs(seconds - now) <= clockSkewSeconds else { return .rejected(.dateOutsideWindow(seconds - now)) }
        return .authentic(secretIndex: matched)
    }
}

/// The outcome of verifying one request.
public enum VerificationResult: Sendable, Equatable {
    /// Authentic: signed with the secret at `secretIndex` and within the date window.
    case authentic(secretIndex: Int)
    /// Not accepted, for the reason given.
    case rejected(VerificationFailure)
}

/// Why a request is not accepted as authentic. Every case maps to HTTP 401.
public enum VerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required header is absent (its lower-case name).
    case missingHeader(String)
    /// Neither `authorization` nor `x-vipps-authorization` has the `HMAC-SHA256 SignedHeaders=…&Signature=…` form.
    case malformedAuthorization
    /// `x-ms-content-sha256` does not match the body.
    case contentHashMismatch
    /// The signature matches none of the endpoint's secrets.
    case signatureMismatch
    /// `x-ms-date` is not an HTTP-date.
    case unparseableDate
    /// The date is further from now than the allowed skew; the value is date − now in seconds.
    case dateOutsideWindow(Int64)

    /// A short stable name for logs and metric labels.
    public var reason: String {
        switch self {
        case .missingHeader: "missing_header"
        case .malformedAuthorization: "malformed_authorization"
        case .contentHashMismatch: "content_hash_mismatch"
        case .signatureMismatch: "signature_mismatch"
        case .unparseableDate: "unparseable_date"
        case .dateOutsideWindow: "date_outside_window"
        }
    }

    public var description: String {
        switch self {
        case .missingHeader(let name): "missing header \(name)"
        case .malformedAuthorization: "malformed authorization header"
        case .contentHashMismatch: "x-ms-content-sha256 does not match the body"
        case .signatureMismatch: "signature does not match any secret of the endpoint"
        case .unparseableDate: "x-ms-date is not an HTTP-date"
        case .dateOutsideWindow(let offset): "x-ms-date is \(offset) s away from now, outside the allowed window"
        }
    }
}

/// The signature-related header fields of a request, found case-insensitively.
struct SignedHeaderFields {
    var date: String?
    var contentHash: String?
    /// `authorization` first, then `x-vipps-authorization` (a proxy may strip or replace the former).
    var authorizations: [String] = []

    init(_ headers: some Sequence<(name: String, value: String)>) {
        var vipps: [String] = []
        for (name, value) in headers { take(name.utf8, { value }, vipps: &vipps) }
        authorizations += vipps
    }

    /// The fields of a parsed head, matched on their bytes; a value becomes a string only when its field is read.
    init(_ headers: HTTPHeaders) {
        var vipps: [String] = []
        headers.forEachField { name, value in take(name, { String(decoding: value, as: UTF8.self) }, vipps: &vipps) }
        authorizations += vipps
    }

    /// Keeps `value()` when `name` is one of the signature's fields (the first date and content hash; every
    /// authorization, `x-vipps-authorization` ones into `vipps`).
    private mutating func take(
        _ name: some Collection<UInt8>,
        _ value: () -> String,
        vipps: inout [String]
    ) {
        if ASCII.equalsIgnoringCase(name, Self.dateBytes) {
            if date == nil { date = Self.trimmed(value()) }
        } else if ASCII.equalsIgnoringCase(name, Self.contentHashBytes) {
            if contentHash == nil { contentHash = Self.trimmed(value()) }
        } else if ASCII.equalsIgnoringCase(name, Self.authorizationBytes) {
            authorizations.append(value())
        } else if ASCII.equalsIgnoringCase(name, Self.vippsAuthorizationBytes) {
            vipps.append(value())
        }
    }

    /// The field names read (lower-case), also ``SignatureVerifier/headerNames``.
    static let dateName = "x-ms-date"
    static let contentHashName = "x-ms-content-sha256"
    static let authorizationName = "authorization"
    static let vippsAuthorizationName = "x-vipps-authorization"
    private static let dateBytes = Array(dateName.utf8)
    private static let contentHashBytes = Array(contentHashName.utf8)
    private static let authorizationBytes = Array(authorizationName.utf8)
    private static let vippsAuthorizationBytes = Array(vippsAuthorizationName.utf8)

    private static func trimmed(_ value: String) -> String {
        guard let first = value.utf8.first, let last = value.utf8.last, ASCII.isSpace(first) || ASCII.isSpace(last)
        else { return value }
        return String(ASCII.trimmed(value))
    }
}
