/*
 * sha256.h - SHA-256 (FIPS 180-4) of a file: a served model's identity
 * (/v1/info's model.sha256) and a saved prompt's (result.json's
 * prompt.sha256), so that results name the exact bytes.
 */
#ifndef BBT_CORE_SHA256_H
#define BBT_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct bbt_sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[64];
	size_t nbuf;
};

void bbt_sha256_init(struct bbt_sha256 *s);
void bbt_sha256_update(struct bbt_sha256 *s, const void *data, size_t len);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void bbt_sha256_final_hex(struct bbt_sha256 *s, char hex[65]);

/* The file's digest in hex[65] and its size. BBT_EIO with "path: strerror". */
int bbt_sha256_file(const char *path, char hex[65], long long *size, char *err, size_t errlen);

#endif /* BBT_CORE_SHA256_H */
