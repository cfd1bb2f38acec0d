/* sha256.h: the SHA-256 hash (FIPS 180-4), for naming a model's values: a
 * delta file records the hash of the base model it applies to. */
#ifndef ST_SHA256_H
#define ST_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct st_sha256 {
    uint32_t h[8];
    uint64_t bytes;          /* message length so far */
    unsigned char block[64]; /* the partial block */
    size_t fill;             /* bytes in block */
};

void st_sha256_init(struct st_sha256 *s);
void st_sha256_update(struct st_sha256 *s, const void *data, size_t n);
/* The digest as 64 lowercase hex digits and a NUL into hex[65]. */
void st_sha256_final(struct st_sha256 *s, char hex[65]);

#endif
