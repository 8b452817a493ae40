/// Why a request got no usable HTTP answer, in words an operator can act on.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request itself cannot be sent (a header with a line break, a bad method).
    case invalidRequest(String)
    /// The host name did not resolve.
    case hostNotFound(host: String, reason: String)
    /// No TCP connection: refused, unreachable, …
    case connectFailed(place: String, reason: String)
    /// The deadline passed while doing something.
    case timedOut(place: String, doing: String, seconds: Double)
    /// TLS could not be set up or the peer failed verification.
    case tls(place: String, TLSFailure)
    /// Sending or receiving failed after the connection was up.
    case connectionFailed(place: String, reason: String)
    /// The peer's answer is not HTTP/1.x, too large, or cut off.
    case invalidAnswer(place: String, reason: String)

    public var description: String {
        switch self {
        case .invalidRequest(let reason): "invalid request: \(reason)"
        case .hostNotFound(let host, let reason): "host \(host) not found: \(reason)"
        case .connectFailed(let place, let reason): "cannot connect to \(place): \(reason)"
        case .timedOut(let place, let doing, let seconds):
            "timed out after \(Self.seconds(seconds)) s \(doing) (\(place))"
        case .tls(let place, let failure): "TLS with \(place) failed: \(failure)"
        case .connectionFailed(let place, let reason): "connection to \(place) failed: \(reason)"
        case .invalidAnswer(let place, let reason): "bad answer from \(place): \(reason)"
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// What went wrong in a TLS handshake or verification.
public enum TLSFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The chain does not lead to a trusted CA (self-signed, private CA not given, incomplete chain).
    case untrustedCertificate(String)
    /// The certificate is valid but for another name or address.
    case nameMismatch(host: String)
    /// The certificate has expired or is not valid yet.
    case certificateOutOfDate(String)
    /// Another verification failure, as OpenSSL words it.
    case certificateRejected(String)
    /// The peer closed the connection during the handshake.
    case closedDuringHandshake
    /// The handshake failed for a protocol reason (no shared version or cipher, not TLS at all).
    case handshakeFailed(String)
    /// The CA file given could not be loaded.
    case unusableCAFile(path: String, reason: String)
    /// The client could not be set up (OpenSSL refused).
    case setupFailed(String)

    public var description: String {
        switch self {
        case .untrustedCertificate(let reason): "certificate not trusted (unknown CA: \(reason))"
        case .nameMismatch(let host): "certificate does not match the host name \(host)"
        case .certificateOutOfDate(let reason): "certificate out of date: \(reason)"
        case .certificateRejected(let reason): "certificate rejected: \(reason)"
        case .closedDuringHandshake: "the peer closed the connection during the handshake (refused TLS)"
        case .handshakeFailed(let reason): "handshake refused: \(reason)"
        case .unusableCAFile(let path, let reason): "cannot load CA file \(path): \(reason)"
        case .setupFailed(let reason): "cannot set up TLS: \(reason)"
        }
    }
}
