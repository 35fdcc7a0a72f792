/*
 * client.h - what the http and openai backends share: one libcurl handle
 * to one server, requests with retries and an Idempotency-Key, a bearer
 * token read from a file, and the accounting (requests, retries, bytes,
 * seconds) each plugin reports when it closes. Compiled into both modules
 * (libhttpclient.la, which libtool copies into each module, so either
 * loads alone); only the public headers are seen. Errors are reported with
 * <bbtbench/status.h>'s bbt_error().
 *
 *     static const struct bbt_option_spec options[] = {
 *         { "url", ... }, HC_OPTIONS, { 0 } };
 *     struct hc c;
 *     if (hc_open(&c, host, "openai", url, err, errlen) < 0) ...
 *     hc_next_key(&c, key, sizeof key);
 *     hc_request(&c, "/v1/completions", body, len, "application/json", key, &r, err, errlen);
 *     hc_close(&c);
 */
#ifndef BBT_HTTP_CLIENT_H
#define BBT_HTTP_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>

#include <bbtbench/plugin.h>

/* The options every client takes (after the plugin's own "url"). */
#define HC_OPTIONS \
	{ "token_file", BBT_OPT_STRING, NULL, NULL, 0, 0, \
	  "a file whose first token is sent as Authorization: Bearer" }, \
	{ "timeout", BBT_OPT_DOUBLE, "600", NULL, 0.1, 86400, "seconds one request may take" }, \
	{ "connect_timeout", BBT_OPT_DOUBLE, "10", NULL, 0.1, 3600, "seconds to connect" }, \
	{ "retries", BBT_OPT_INT, "8", NULL, 0, 1000, \
	  "times a call is sent again after a 5xx or a transport error" }, \
	{ "backoff", BBT_OPT_DOUBLE, "0.1", NULL, 0, 60, \
	  "seconds before the first retry; doubled each time, at most 10" }

struct hc {
	const bbt_host_t *host;
	const char *who;           /* the plugin's name, for messages */
	CURL *curl;
	char *url;                 /* without a trailing '/' */
	char *auth;                /* "Authorization: Bearer ..." or NULL */
	double backoff;
	long retries;
	char key_prefix[40];       /* random per process */
	unsigned long long seq;    /* keys handed out */
	/* accounting */
	unsigned long long calls, retried, sent, received;
	double seconds;            /* wall time in hc_request, retries' pauses included */
};

/* One response: the body (NUL-terminated), the status, Retry-After, and
 * the X-BBT-Variants, -Sequences, -Labels, -Tokens-Scored counts (-1 when
 * absent). */
struct hc_resp {
	char *body;
	size_t len, cap;
	long status;
	double retry_after;
	long long counts[4];
};

/* Set c up for url (http:// or https://) with the HC_OPTIONS; BBT_OK or
 * an error with c released. */
int hc_open(struct hc *c, const bbt_host_t *host, const char *who, const char *url, char *err,
            size_t errlen);

/* GET (body NULL) or POST path, retried on transport errors, timeouts,
 * 500, 502, 503 and 504 after a growing pause (Retry-After wins), with
 * the same key. BBT_OK on 200 (r filled; free r->body); otherwise
 * BBT_EIO (unreachable, 5xx after the retries, 429: a spent quota, not
 * retried), BBT_ENOTSUP (404) or BBT_EINVAL (another 4xx), with the
 * server's one-line reason. */
int hc_request(struct hc *c, const char *path, const void *body, size_t len, const char *ctype,
               const char *key, struct hc_resp *r, char *err, size_t errlen);

/* Add c's requests, retries and bytes to t's (the plugin's transport). */
void hc_totals(const struct hc *c, struct bbt_backend_transport *t);

/* The next Idempotency-Key: the process's prefix and a counter. */
void hc_next_key(struct hc *c, char *key, size_t n);

/* The server's one-line reason from an error body {"error": "..."} (or
 * OpenAI's {"error": {"message": "..."}}), else the body's start. */
void hc_reason(const struct hc_resp *r, char *out, size_t outlen);

/* Log the accounting line, release everything. */
void hc_close(struct hc *c);

#endif /* BBT_HTTP_CLIENT_H */
