/*
 * idem.h - the idempotency cache: the stored response of each
 * (client, Idempotency-Key), so that a retried request is answered, not
 * scored and counted again (doc/protocol.md). Bounded in entries and
 * bytes; the oldest finished entries go first. Thread-safe.
 *
 *     struct bbt_idem_resp r;
 *     switch (bbt_idem_begin(c, client, key, hash, &r)) {
 *     case BBT_IDEM_NEW:      do the work; bbt_idem_done(c, client, key, &resp)
 *                             (or bbt_idem_abandon when it failed)
 *     case BBT_IDEM_REPLAY:   answer r; bbt_idem_resp_release(&r)
 *     case BBT_IDEM_CONFLICT: 409
 *     }
 */
#ifndef BBT_SERVE_IDEM_H
#define BBT_SERVE_IDEM_H

#include <stddef.h>
#include <stdint.h>

enum { BBT_IDEM_NEW = 0, BBT_IDEM_REPLAY = 1, BBT_IDEM_CONFLICT = 2 };

struct bbt_idem_resp {
	int status;
	const char *content_type;  /* a static string */
	char *headers;             /* "Name: value\n" lines, or NULL */
	void *body;
	size_t len;
};

typedef struct bbt_idem bbt_idem_t;

/* NULL on out of memory. max_entries 0: nothing is stored (every key NEW). */
bbt_idem_t *bbt_idem_alloc(size_t max_entries, size_t max_bytes);
void bbt_idem_free(bbt_idem_t *c);

/* See above; waits while another request holds the same key. REPLAY
 * fills out with malloc'ed copies (BBT_IDEM_NEW on out of memory). */
int bbt_idem_begin(bbt_idem_t *c, size_t client, const char *key, uint64_t hash,
                   struct bbt_idem_resp *out);
/* Store a copy of resp for the key begun with BBT_IDEM_NEW, or forget the
 * key (the request failed: a retry does the work). */
void bbt_idem_done(bbt_idem_t *c, size_t client, const char *key, const struct bbt_idem_resp *resp);
void bbt_idem_abandon(bbt_idem_t *c, size_t client, const char *key);
void bbt_idem_resp_release(struct bbt_idem_resp *r);
/* Responses answered from the cache so far. */
unsigned long long bbt_idem_replays(bbt_idem_t *c);

#endif /* BBT_SERVE_IDEM_H */
