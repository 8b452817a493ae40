// The slice of OpenSSL's libcrypto that vipps-webhookd uses, for Swift.
// Only the VippsCrypto module imports this; everything else goes through it.
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

/// SHA-256 of `len` bytes at `data` into `out` (32 bytes). Returns 1 on success.
static inline int vipps_sha256(const void *data, size_t len, uint8_t out[32]) {
    unsigned int outLen = 0;
    return EVP_Digest(data, len, out, &outLen, EVP_sha256(), NULL) == 1 && outLen == 32;
}

/// HMAC-SHA256 of `len` bytes at `data` with the key `key` into `out` (32 bytes). Returns 1 on success.
static inline int vipps_hmac_sha256(const void *key, size_t keyLen, const void *data, size_t len, uint8_t out[32]) {
    unsigned int outLen = 0;
    /* HMAC() with a NULL key pointer would use a static empty key; pass a valid pointer for empty keys. */
    static const uint8_t empty = 0;
    return HMAC(EVP_sha256(), keyLen ? key : &empty, (int)keyLen, data ? data : &empty, len, out, &outLen) != NULL
        && outLen == 32;
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
