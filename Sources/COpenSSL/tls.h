// The slice of OpenSSL's libssl that vipps-webhookd's HTTPS client uses, for Swift.
// Only the HTTPClient module uses these; VippsCrypto uses shim.h.
#ifndef VIPPS_COPENSSL_TLS_H
#define VIPPS_COPENSSL_TLS_H

#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/// A client context: TLS 1.2 or newer; with `verify`, the peer's chain is checked against `ca_file` (PEM) when given,
/// else the system store. NULL on failure (the reason is on OpenSSL's error queue). Free with `SSL_CTX_free`.
static inline SSL_CTX *vipps_tls_client_context_new(const char *ca_file, int verify) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) goto fail;
    if (verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (ca_file != NULL) {
            if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) goto fail;
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            goto fail;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/// A client session on the connected socket `fd` for `host`: SNI (for names, not addresses) and, when the context
/// verifies, the certificate must match `host` (a DNS name or an IP address). NULL on failure. Free with `SSL_free`.
static inline SSL *vipps_tls_session_new(SSL_CTX *ctx, int fd, const char *host, int host_is_address) {
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return NULL;
    if (SSL_set_fd(ssl, fd) != 1) goto fail;
    if (host_is_address) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1) goto fail;
    } else {
        if (SSL_set_tlsext_host_name(ssl, host) != 1) goto fail;
        X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl, host) != 1) goto fail;
    }
    SSL_set_connect_state(ssl);
    return ssl;
fail:
    SSL_free(ssl);
    return NULL;
}

/// The oldest error on this thread's OpenSSL error queue as text (empty when none), and clears the queue.
static inline void vipps_tls_take_error(char *out, size_t len) {
    unsigned long code = ERR_get_error();
    if (len > 0) out[0] = 0;
    if (code != 0 && len > 0) ERR_error_string_n(code, out, len);
    ERR_clear_error();
}

#endif
