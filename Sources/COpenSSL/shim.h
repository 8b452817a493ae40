// The slice of OpenSSL's libcrypto that vipps-webhookd uses, for Swift.
// VippsCrypto wraps these; tls.h holds what the HTTPClient module needs of libssl.
#ifndef VIPPS_COPENSSL_SHIM_H
#define VIPPS_COPENSSL_SHIM_H

#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <stddef.h>
#include <stdint.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/// SHA-256 of `len` bytes at `data` into `out` (32 bytes), with an algorithm fetched once by the caller
/// (`EVP_MD_fetch(NULL, "SHA256", NULL)`): an explicit fetch saves OpenSSL 3's per-call implicit fetch.
/// Returns 1 on success.
static inline int vipps_sha256(const EVP_MD *md, const void *data, size_t len, uint8_t out[32]) {
    unsigned int outLen = 0;
    return EVP_Digest(data, len, out, &outLen, md, NULL) == 1 && outLen == 32;
}

/// A new HMAC-SHA256 context keyed with `key`, to be used as a template with `vipps_hmac_sha256_keyed`
/// (the key schedule is computed once). NULL on failure; free with `EVP_MAC_CTX_free`.
static inline EVP_MAC_CTX *vipps_hmac_sha256_key_new(const void *key, size_t keyLen) {
    static const uint8_t empty = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  /* the context holds its own reference */
    if (ctx == NULL) return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx, keyLen ? key : &empty, keyLen, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// HMAC-SHA256 of `len` bytes at `data` with a keyed template from `vipps_hmac_sha256_key_new` into `out`.
/// The template is only read (duplicated), so one template may serve several threads at once. Returns 1 on success.
static inline int vipps_hmac_sha256_keyed(const EVP_MAC_CTX *keyed, const void *data, size_t len, uint8_t out[32]) {
    static const uint8_t empty = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(keyed);
    if (ctx == NULL) return 0;
    size_t outLen = 0;
    int ok = EVP_MAC_update(ctx, len ? data : &empty, len) == 1 && EVP_MAC_final(ctx, out, &outLen, 32) == 1
        && outLen == 32;
    EVP_MAC_CTX_free(ctx);
    return ok;
}

/// Constant-time comparison of `len` bytes: 0 when equal.
static inline int vipps_memcmp_consttime(const void *a, const void *b, size_t len) {
    return CRYPTO_memcmp(a, b, len);
}

/// Cryptographically secure random bytes. Returns 1 on success.
static inline int vipps_random_bytes(uint8_t *out, size_t len) {
    return RAND_bytes(out, (int)len);
}

#endif
