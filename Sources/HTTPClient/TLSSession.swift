import COpenSSL
import Glibc

/// A TLS client session over a connected socket: handshake, verification, reads and writes that wait on the
/// socket's deadline when OpenSSL wants more I/O.
final class TLSSession: ByteStream {
    private let ssl: OpaquePointer
    private let connection: SocketConnection
    private let context: TLSContext

    /// Sets up a session for `host` on `connection` and completes the handshake, verifying the peer when the context
    /// says so.
    init(context: TLSContext, connection: SocketConnection, host: String, hostIsAddress: Bool) throws(HTTPClientError) {
        ERR_clear_error()
        guard let ssl = vipps_tls_session_new(context.context, connection.fd, host, hostIsAddress ? 1 : 0) else {
            throw .tls(place: connection.place, .setupFailed(Self.takeError()))
        }
        self.ssl = ssl
        self.connection = connection
        self.context = context
        try handshake(host: host)
    }

    deinit {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)  // best effort close_notify on the non-blocking socket; never waited for
        SSL_free(ssl)
    }

    func write(_ bytes: [UInt8]) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let count = bytes.withUnsafeBytes {
                SSL_write(ssl, $0.baseAddress! + offset, Int32(min($0.count - offset, Int(Int32.max))))
            }
            if count > 0 {
                offset += Int(count)
            } else {
                try waitOrThrow(result: count, doing: "sending the request")
            }
        }
    }

    func read(into buffer: inout [UInt8]) throws(HTTPClientError) -> Int {
        while true {
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 { return Int(count) }
            if SSL_get_error(ssl, count) == SSL_ERROR_ZERO_RETURN { return 0 }
            try waitOrThrow(result: count, doing: "reading the answer")
        }
    }

    private func handshake(host: String) throws(HTTPClientError) {
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let code = SSL_get_error(ssl, result)
            switch code {
            case SSL_ERROR_WANT_READ: try connection.wait(for: Int16(POLLIN), doing: "in the TLS handshake")
            case SSL_ERROR_WANT_WRITE: try connection.wait(for: Int16(POLLOUT), doing: "in the TLS handshake")
            case SSL_ERROR_ZERO_RETURN: throw .tls(place: connection.place, .closedDuringHandshake)
            case SSL_ERROR_SYSCALL:
                let saved = errno
                let queued = Self.takeError()
                if !queued.isEmpty { throw .tls(place: connection.place, .handshakeFailed(queued)) }
                if saved == 0 || saved == ECONNRESET || saved == EPIPE {
                    throw .tls(place: connection.place, .closedDuringHandshake)
                }
                throw .connectionFailed(place: connection.place, reason: SocketConnection.text(saved, "TLS handshake"))
            default:
                let verdict = SSL_get_verify_result(ssl)
                let queued = Self.takeError()
                if context.verifies && verdict != X509_V_OK {
                    throw .tls(place: connection.place, Self.failure(verdict: Int32(verdict), host: host))
                }
                throw .tls(place: connection.place, .handshakeFailed(queued.isEmpty ? "error \(code)" : queued))
            }
        }
    }

    /// After a failed `SSL_read`/`SSL_write`: waits when OpenSSL wants I/O, else throws what went wrong.
    private func waitOrThrow(result: Int32, doing what: String) throws(HTTPClientError) {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: try connection.wait(for: Int16(POLLIN), doing: what)
        case SSL_ERROR_WANT_WRITE: try connection.wait(for: Int16(POLLOUT), doing: what)
        case SSL_ERROR_SYSCALL:
            let saved = errno
            let queued = Self.takeError()
            let reason =
                !queued.isEmpty
                ? queued : saved == 0 ? "closed without TLS close_notify" : SocketConnection.text(saved, what)
            throw .connectionFailed(place: connection.place, reason: reason)
        default:
            let queued = Self.takeError()
            throw .connectionFailed(place: connection.place, reason: queued.isEmpty ? "TLS error \(code)" : queued)
        }
    }

    /// A verification result in words.
    private static func failure(verdict: Int32, host: String) -> TLSFailure {
        let reason = String(cString: X509_verify_cert_error_string(Int(verdict)))
        switch verdict {
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH: return .nameMismatch(host: host)
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            return .untrustedCertificate(reason)
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID: return .certificateOutOfDate(reason)
        default: return .certificateRejected(reason)
        }
    }

    /// The oldest error on this thread's OpenSSL error queue, as text; clears the queue.
    static func takeError() -> String {
        var text = [CChar](repeating: 0, count: 256)
        vipps_tls_take_error(&text, text.count)
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
