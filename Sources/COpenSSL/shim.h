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

/// SHA-256 of `len` bytes at `data` into `out` (32 bytes) with `ctx`, a digest context this thread holds alone
/// (from `EVP_MD_CTX_new`, used again and again: OpenSSL 3 keeps its state when the algorithm is the same), and an
/// algorithm fetched once by the caller (`EVP_MD_fetch(NULL, "SHA256", NULL)`). Returns 1 on success.
static inline int vipps_sha256(EVP_MD_CTX *ctx, const EVP_MD *md, const void *data, size_t len, uint8_t out[32]) {
    static const uint8_t empty = 0;
    unsigned int outLen = 0;
    return EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, len ? data : &empty, len) == 1
        && EVP_DigestFinal_ex(ctx, out, &outLen) == 1 && outLen == 32;
}

/// A new HMAC-SHA256 context keyed with `key`, the template of `vipps_hmac_sha256_copy`
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

/// A copy of `keyed` (a context from `vipps_hmac_sha256_key_new`) with the same key schedule. NULL on failure;
/// free with `EVP_MAC_CTX_free`.
static inline EVP_MAC_CTX *vipps_hmac_sha256_copy(const EVP_MAC_CTX *keyed) {
    return EVP_MAC_CTX_dup(keyed);
}

/// HMAC-SHA256 of `len` bytes at `data` into `out` with `ctx`, a keyed context this thread holds alone: it starts
/// over from the key it holds (the key schedule is not computed again, nothing is allocated). Returns 1 on success.
static inline int vipps_hmac_sha256(EVP_MAC_CTX *ctx, const void *data, size_t len, uint8_t out[32]) {
    static const uint8_t empty = 0;
    size_t outLen = 0;
    return EVP_MAC_init(ctx, NULL, 0, NULL) == 1 && EVP_MAC_update(ctx, len ? data : &empty, len) == 1
        && EVP_MAC_final(ctx, out, &outLen, 32) == 1 && outLen == 32;
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
