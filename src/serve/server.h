/*
 * server.h - `bbtbench serve`: one backend behind an HTTP/1.1 server
 * (libmicrohttpd) speaking doc/protocol.md.
 *
 * Threads: libmicrohttpd gives each connection a thread, which reads the
 * request, checks it, and then takes one of `threads` backend instances
 * (each opened from the same plugin and model: backends are not
 * thread-safe) to tokenize or score; at most `queue` requests wait for
 * an instance, and one more is refused with 503 and Retry-After. SIGTERM
 * or SIGINT stops taking requests, lets those being worked on finish,
 * and returns. Quotas (--quota calls=N, tokens=N) hold for each client:
 * once one is spent, its score and completion requests get 429 with a
 * one-line reason (a replayed response costs nothing).
 *
 *     struct bbt_serve_params p = bbt_serve_default_params();
 *     p.listen = "127.0.0.1:8080";
 *     struct bbt_serve_backend b = { desc, opts, "model.gguf", 42 };
 *     rc = bbt_serve_run(&p, &b, err, sizeof err);   (blocks until SIGTERM)
 */
#ifndef BBT_SERVE_SERVER_H
#define BBT_SERVE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/plugin.h>
#include "plugin/options.h"
#include "serve/protocol.h"

struct bbt_serve_params {
	const char *listen;       /* HOST:PORT or [V6]:PORT; port 0: any free port */
	const char *token_file;   /* bearer tokens; NULL: none, and loopback only */
	const char *ready_file;   /* NULL, or written with the URL once serving */
	size_t threads;           /* backend instances that work in parallel */
	size_t queue;             /* requests that may wait for an instance */
	struct bbt_serve_limits limits; /* 0 in max_seq_len / max_prompt_len: the model's */
	size_t idem_entries;      /* idempotency cache: responses kept (0: none) */
	size_t idem_bytes;        /* ... and their bytes at most */
	unsigned timeout_s;       /* a connection idle this long is closed */
	unsigned long long quota_calls;  /* score/completion calls per client (each token,
	                                    or the anonymous one); 0: no quota */
	unsigned long long quota_tokens; /* positions scored per client; 0: no quota */
};

struct bbt_serve_params bbt_serve_default_params(void);

/* What the workers open. */
struct bbt_serve_backend {
	const struct bbt_plugin *desc;  /* a backend plugin */
	const bbt_options_t *opts;      /* its resolved options (borrowed) */
	const char *model;              /* the model file, or NULL */
	uint64_t seed;                  /* the run seed a backend is opened with */
};

/* Serve until SIGTERM/SIGINT. BBT_OK after a clean stop; a negative status
 * with one line in err when it cannot start (bad address, refused
 * non-loopback address without tokens, token file, backend). */
int bbt_serve_run(const struct bbt_serve_params *p, const struct bbt_serve_backend *b,
                  char *err, size_t errlen);

#endif /* BBT_SERVE_SERVER_H */
