/*
 * auth.h - bearer tokens: the token file (`--token-file`, one token per
 * line; blank lines and '#' comments skipped) and a comparison whose work
 * does not depend on where a wrong token differs, nor on which token
 * matched. A client is known by its token's index (the line's rank among
 * the tokens, from 1), never by the token itself.
 */
#ifndef BBT_SERVE_AUTH_H
#define BBT_SERVE_AUTH_H

#include <stddef.h>

typedef struct bbt_auth bbt_auth_t;

/* Read the token file. BBT_EIO (unreadable), BBT_EFORMAT (no token, or a
 * token with a control character or space) with one line in err. The file
 * must not be readable by others (a warning is logged if it is). */
int bbt_auth_load(const char *path, bbt_auth_t **out, char *err, size_t errlen);
void bbt_auth_free(bbt_auth_t *a);
size_t bbt_auth_count(const bbt_auth_t *a);

/* The client index (1..count) whose token is the `Authorization` header's
 * "Bearer TOKEN", or 0: missing, malformed or unknown. */
size_t bbt_auth_check(const bbt_auth_t *a, const char *authorization);

/* 1 when a and b (la, lb bytes) are equal; constant time in la for a given lb. */
int bbt_auth_equal(const char *a, size_t la, const char *b, size_t lb);

#endif /* BBT_SERVE_AUTH_H */
