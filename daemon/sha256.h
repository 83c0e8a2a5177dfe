/* SHA-256 (FIPS 180-4): token digests for the config (tokens may be stored as their sha256) and
 * any other place that needs a content hash. Small and dependency-free on purpose: cmsd links no
 * crypto library just for this. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CMS_SHA256_LEN 32

struct cms_sha256 {
        uint32_t h[8];
        uint64_t total; /* bytes fed so far */
        unsigned char block[64];
        size_t fill; /* bytes waiting in block */
};

void cms_sha256_init(struct cms_sha256 *s);
void cms_sha256_update(struct cms_sha256 *s, const void *data, size_t n);
/* Writes the digest and wipes the state. */
void cms_sha256_final(struct cms_sha256 *s, unsigned char out[CMS_SHA256_LEN]);
/* One-shot form. */
void cms_sha256(const void *data, size_t n, unsigned char out[CMS_SHA256_LEN]);
/* Lower-case hex of a digest, NUL-terminated (65 bytes). */
void cms_sha256_hex(const unsigned char digest[CMS_SHA256_LEN], char out[2 * CMS_SHA256_LEN + 1]);
