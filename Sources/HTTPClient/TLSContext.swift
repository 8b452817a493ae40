import COpenSSL

/// An OpenSSL client context: TLS ≥ 1.2, peer verification against a CA file or the system store (or none, when
/// told to be insecure). Shared by the connections of one client; freed with it.
final class TLSContext: @unchecked Sendable {
    /// The OpenSSL context; only read after creation, which OpenSSL allows from several threads.
    let context: OpaquePointer
    /// Whether the peer's certificate is verified.
    let verifies: Bool

    /// Creates a context from `options`.
    init(_ options: TLSOptions) throws(TLSFailure) {
        ERR_clear_error()
        guard let context = vipps_tls_client_context_new(options.caFile, options.verifyPeer ? 1 : 0) else {
            let reason = TLSSession.takeError()
            if let caFile = options.caFile { throw .unusableCAFile(path: caFile, reason: reason) }
            throw .setupFailed(reason)
        }
        self.context = context
        verifies = options.verifyPeer
    }

    deinit { SSL_CTX_free(context) }
}
