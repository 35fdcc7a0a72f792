/*
 * server.c - bbtbench serve: libmicrohttpd, the pool of backend instances,
 * authentication, limits, the idempotency cache, counters and /metrics,
 * and the stop on SIGTERM (server.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* qsort_r */
#endif
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/rng.h"
#include "core/util.h"
#include "plugin/services.h"
#include "serve/auth.h"
#include "serve/idem.h"
#include "serve/protocol.h"
#include "serve/server.h"
#include "core/sha256.h"

struct bbt_serve_params bbt_serve_default_params(void)
{
	struct bbt_serve_params p = {
		.listen = "127.0.0.1:8080",
		.threads = 1,
		.queue = 16,
		.limits = { .max_body = 64u << 20, .max_batch = 4096, .max_variants = 1024 },
		.idem_entries = 1024,
		.idem_bytes = 64u << 20,
		.timeout_s = 60,
	};
	return p;
}

/* ---------------------------------------------------------------- */
/* Routes and counters */

enum route { R_HEALTH, R_METRICS, R_INFO, R_VOCAB, R_TOKENIZE, R_SCORE, R_MODELS, R_COMPLETIONS,
	     R_OTHER, N_ROUTES };
static const char *const route_path[N_ROUTES] = {
	"/health", "/metrics", "/v1/info", "/v1/vocab", "/v1/tokenize", "/v1/score", "/v1/models",
	"/v1/completions", "other",
};
static const int route_post[N_ROUTES] = { 0, 0, 0, 0, 1, 1, 0, 1, 0 };

static const int codes[] = { 200, 400, 401, 404, 405, 409, 413, 429, 500, 503 };
#define N_CODES (sizeof codes / sizeof codes[0])
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct client_stats {
	unsigned long long calls, tokens, bytes_in, bytes_out;
	unsigned long long pending;   /* calls admitted under a quota, not finished */
	unsigned long long refused;   /* 429s for a spent quota */
};

struct worker {
	void *state;
	bbt_hostsvc_t *svc;
	size_t prompt_len, prompt_layers;
	int busy;
};

struct server {
	const struct bbt_serve_params *p;
	const struct bbt_serve_backend *b;
	struct bbt_serve_limits lim;
	struct bbt_model_info info;
	bbt_auth_t *auth;
	bbt_idem_t *idem;
	char *info_json;
	char *models_json;        /* GET /v1/models */
	char model_id[256];       /* the model's name there: its file's, or the backend's */
	int32_t unk_id;           /* the token unknown text becomes (no logit), or -1 */
	char *vocab;              /* NUL-terminated texts, back to back */
	size_t vocab_len;

	pthread_mutex_t mu;       /* everything below */
	pthread_cond_t cv;        /* a worker came free, or in_flight fell */
	struct worker *workers;
	size_t n_workers;
	size_t waiting, in_flight;
	int stopping;
	unsigned long long requests[N_ROUTES][N_CODES + 1];
	double seconds_sum[N_ROUTES];
	unsigned long long seconds_count[N_ROUTES];
	unsigned long long score_buckets[N_BUCKETS];
	unsigned long long reopens;
	struct client_stats *clients;   /* [0]: anonymous, [i]: token i */
	size_t n_clients;
};

/* One request: what the handler keeps between libmicrohttpd's calls. */
struct req {
	enum route route;
	size_t client;
	char *body;
	size_t len, cap;
	int too_big;
	int answered;   /* a response is queued: ignore the rest of the body */
};

/* ---------------------------------------------------------------- */
/* Responses */

static enum MHD_Result send_response(struct server *s, struct MHD_Connection *c, struct req *rq,
                                     int status, const char *ctype, void *body, size_t len,
                                     const char *headers)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "X-BBT-Protocol", "1");
	if (ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == 503)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	for (const char *h = headers; h && *h;) {   /* "Name: value\n" lines */
		const char *colon = strchr(h, ':'), *nl = strchr(h, '\n');
		if (colon == NULL || nl == NULL || colon > nl)
			break;
		char name[64], value[128];
		snprintf(name, sizeof name, "%.*s", (int)(colon - h), h);
		snprintf(value, sizeof value, "%.*s", (int)(nl - colon - 2), colon + 2);
		MHD_add_response_header(r, name, value);
		h = nl + 1;
	}
	if (rq)
		rq->answered = 1;
	pthread_mutex_lock(&s->mu);
	if (s->stopping)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	size_t ci = N_CODES;
	for (size_t i = 0; i < N_CODES; i++)
		if (codes[i] == status)
			ci = i;
	s->requests[rq ? rq->route : R_OTHER][ci]++;
	if (rq && rq->client < s->n_clients)
		s->clients[rq->client].bytes_out += len;
	pthread_mutex_unlock(&s->mu);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct server *s, struct MHD_Connection *c, struct req *rq,
                                 int status, const char *text)
{
	char *b = bbt_strdup(text);
	return send_response(s, c, rq, status, "text/plain; charset=utf-8", b, b ? strlen(b) : 0,
	                     NULL);
}

/* {"error": "one line"} */
static enum MHD_Result send_error(struct server *s, struct MHD_Connection *c, struct req *rq,
                                  int status, const char *fmt, ...) BBT_PRINTF(5, 6);
static enum MHD_Result send_error(struct server *s, struct MHD_Connection *c, struct req *rq,
                                  int status, const char *fmt, ...)
{
	char msg[BBT_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)   /* one line */
		if ((unsigned char)*p < ' ')
			*p = ' ';
	bbt_log(BBT_LOG_DEBUG, "serve", "%d %s: %s", status, rq ? route_path[rq->route] : "?", msg);
	json_t *j = json_pack("{s:s}", "error", msg);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text == NULL)   /* not UTF-8: the client's bytes quoted back */
		text = bbt_strdup("{\"error\": \"bad request\"}");
	size_t len = text ? strlen(text) : 0;
	char *body = text ? bbt_asprintf("%s\n", text) : NULL;
	free(text);
	return send_response(s, c, rq, status, "application/json", body, body ? len + 1 : 0, NULL);
}

/* ---------------------------------------------------------------- */
/* The pool of backend instances */

static int open_instance(struct server *s, struct worker *w, size_t P, size_t layers,
                         struct bbt_model_info *info, char *err, size_t errlen)
{
	const struct bbt_backend_ops *ops = s->b->desc->backend;
	if (w->state != NULL) {
		ops->close(w->state);
		w->state = NULL;
	}
	struct bbt_backend_params bp = {
		.model = s->b->model,
		.prompt_len = P,
		.prompt_layers = layers ? layers : 1,
		.seed = s->b->seed,
	};
	struct bbt_model_info scratch;
	memset(&scratch, 0, sizeof scratch);
	int rc = ops->open(bbt_hostsvc_host(w->svc), &bp, &w->state, info ? info : &scratch, err,
	                   errlen);
	if (rc < 0) {
		w->state = NULL;
		bbt_error_prefix(err, errlen, "backend %s", s->b->desc->name);
		return rc;
	}
	w->prompt_len = P;
	w->prompt_layers = bp.prompt_layers;
	return BBT_OK;
}

/* A free instance, preferring one opened for this prompt geometry; NULL
 * with *status 503 when the queue is full or the server stops. */
static struct worker *acquire(struct server *s, size_t P, size_t layers, int *status)
{
	pthread_mutex_lock(&s->mu);
	struct worker *got = NULL;
	int waited = 0;
	for (;;) {
		if (s->stopping)
			break;
		for (size_t i = 0; i < s->n_workers; i++) {
			struct worker *w = &s->workers[i];
			if (!w->busy && (got == NULL || (w->prompt_len == P && w->prompt_layers == layers)))
				got = w;
		}
		if (got != NULL)
			break;
		if (!waited && s->waiting >= s->p->queue)
			break;
		if (!waited)
			s->waiting++;
		waited = 1;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	if (waited)
		s->waiting--;
	if (got != NULL)
		got->busy = 1;
	pthread_mutex_unlock(&s->mu);
	*status = 503;
	return got;
}

static void release(struct server *s, struct worker *w)
{
	pthread_mutex_lock(&s->mu);
	w->busy = 0;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------------- */
/* Endpoints */

static enum MHD_Result do_metrics(struct server *s, struct MHD_Connection *c, struct req *rq)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return send_error(s, c, rq, 500, "out of memory");
	pthread_mutex_lock(&s->mu);
	fprintf(f, "# HELP bbt_requests_total Requests answered, by path and status.\n"
	           "# TYPE bbt_requests_total counter\n");
	for (size_t r = 0; r < N_ROUTES; r++)
		for (size_t i = 0; i <= N_CODES; i++)
			if (s->requests[r][i])
				fprintf(f, "bbt_requests_total{path=\"%s\",code=\"%s%d\"} %llu\n",
				        route_path[r], i < N_CODES ? "" : "other", i < N_CODES ? codes[i] : 0,
				        s->requests[r][i]);
	fprintf(f, "# HELP bbt_request_seconds Time from the full request body to the response.\n"
	           "# TYPE bbt_request_seconds histogram\n");
	unsigned long long cum = 0;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cum += s->score_buckets[i];
		fprintf(f, "bbt_request_seconds_bucket{path=\"/v1/score\",le=\"%g\"} %llu\n", buckets[i],
		        cum);
	}
	fprintf(f, "bbt_request_seconds_bucket{path=\"/v1/score\",le=\"+Inf\"} %llu\n",
	        s->seconds_count[R_SCORE]);
	for (size_t r = 0; r < N_ROUTES; r++)
		if (s->seconds_count[r])
			fprintf(f, "bbt_request_seconds_sum{path=\"%s\"} %.9g\n"
			           "bbt_request_seconds_count{path=\"%s\"} %llu\n",
			        route_path[r], s->seconds_sum[r], route_path[r], s->seconds_count[r]);
	fprintf(f, "# TYPE bbt_queue_depth gauge\nbbt_queue_depth %zu\n"
	           "# TYPE bbt_in_flight gauge\nbbt_in_flight %zu\n"
	           "# TYPE bbt_workers gauge\nbbt_workers %zu\n"
	           "# TYPE bbt_queue_capacity gauge\nbbt_queue_capacity %zu\n"
	           "# TYPE bbt_backend_reopens_total counter\nbbt_backend_reopens_total %llu\n",
	        s->waiting, s->in_flight, s->n_workers, s->p->queue, s->reopens);
	static const char *const names[5] = { "calls", "tokens_scored", "bytes_in", "bytes_out",
		                              "quota_refused" };
	for (size_t k = 0; k < 5; k++) {
		fprintf(f, "# TYPE bbt_client_%s_total counter\n", names[k]);
		for (size_t i = 0; i < s->n_clients; i++) {
			const struct client_stats *cs = &s->clients[i];
			unsigned long long v = k == 0 ? cs->calls : k == 1 ? cs->tokens
			                       : k == 2 ? cs->bytes_in : k == 3 ? cs->bytes_out
			                       : cs->refused;
			char who[32];
			snprintf(who, sizeof who, i == 0 ? "anonymous" : "%zu", i);
			if (i > 0 || s->auth == NULL)
				fprintf(f, "bbt_client_%s_total{client=\"%s\"} %llu\n", names[k], who, v);
		}
	}
	if (s->p->quota_calls)
		fprintf(f, "# TYPE bbt_quota_calls gauge\nbbt_quota_calls %llu\n", s->p->quota_calls);
	if (s->p->quota_tokens)
		fprintf(f, "# TYPE bbt_quota_tokens gauge\nbbt_quota_tokens %llu\n",
		        s->p->quota_tokens);
	pthread_mutex_unlock(&s->mu);
	fprintf(f, "# TYPE bbt_idempotent_replays_total counter\nbbt_idempotent_replays_total %llu\n",
	        bbt_idem_replays(s->idem));
	if (fclose(f) != 0) {
		free(buf);
		return send_error(s, c, rq, 500, "out of memory");
	}
	return send_response(s, c, rq, 200, "text/plain; version=0.0.4", buf, len, NULL);
}

static enum MHD_Result do_tokenize(struct server *s, struct MHD_Connection *c, struct req *rq)
{
	json_error_t jerr;
	json_t *j = json_loadb(rq->body ? rq->body : "", rq->len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return send_error(s, c, rq, 400, "tokenize: %s (at byte %d)", jerr.text, jerr.position);
	json_t *one = json_object_get(j, "text"), *many = json_object_get(j, "texts");
	if (!json_is_object(j) || (one != NULL) == (many != NULL) || (one && !json_is_string(one)) ||
	    (many && !json_is_array(many))) {
		json_decref(j);
		return send_error(s, c, rq, 400,
		                  "tokenize: the body is {\"text\": STRING} or {\"texts\": [STRING, ...]}");
	}
	size_t n = one ? 1 : json_array_size(many);
	for (size_t i = 0; many && i < n; i++)
		if (!json_is_string(json_array_get(many, i))) {
			json_decref(j);
			return send_error(s, c, rq, 400, "tokenize: \"texts\"[%zu] is not a string", i);
		}
	int status;
	struct worker *w = acquire(s, 0, 1, &status);
	if (w == NULL) {
		json_decref(j);
		return send_error(s, c, rq, status, "tokenize: the server is busy; retry");
	}
	const struct bbt_backend_ops *ops = s->b->desc->backend;
	json_t *out = json_array();
	char err[BBT_ERRLEN] = "";
	int rc = out ? BBT_OK : BBT_ENOMEM;
	for (size_t i = 0; rc == BBT_OK && i < n; i++) {
		const char *text = json_string_value(one ? one : json_array_get(many, i));
		size_t len = 0, got = 0;
		rc = ops->tokenize(w->state, text, NULL, 0, &len, err, sizeof err);
		int32_t *ids = rc == BBT_OK ? malloc((len ? len : 1) * sizeof *ids) : NULL;
		if (rc == BBT_OK && ids == NULL)
			rc = bbt_error(err, sizeof err, BBT_ENOMEM, "out of memory");
		if (rc == BBT_OK)
			rc = ops->tokenize(w->state, text, ids, len, &got, err, sizeof err);
		json_t *a = rc == BBT_OK ? json_array() : NULL;
		for (size_t k = 0; a && k < got && k < len; k++)
			json_array_append_new(a, json_integer(ids[k]));
		free(ids);
		if (rc == BBT_OK && a == NULL)
			rc = bbt_error(err, sizeof err, BBT_ENOMEM, "out of memory");
		if (rc == BBT_OK)
			json_array_append_new(out, a);
	}
	release(s, w);
	json_decref(j);
	if (rc < 0) {
		json_decref(out);
		return send_error(s, c, rq, rc == BBT_EINVAL || rc == BBT_EFORMAT ? 400 : 500,
		                  "tokenize: %s", err[0] ? err : bbt_status_str(rc));
	}
	json_t *resp = json_pack("{s:o}", "ids", one ? json_incref(json_array_get(out, 0)) : out);
	if (one)
		json_decref(out);
	char *text = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
	json_decref(resp);
	if (text == NULL)
		return send_error(s, c, rq, 500, "out of memory");
	return send_response(s, c, rq, 200, "application/json", text, strlen(text), NULL);
}

/* The score itself, into r (a 200 or an error status with a message). */
static int score(struct server *s, struct req *rq, struct bbt_idem_resp *r, char *msg,
                 size_t msglen)
{
	struct bbt_score_req sr;
	int rc = bbt_score_req_parse(rq->body ? rq->body : "", rq->len, &s->info, &s->lim, &sr, msg,
	                             msglen);
	if (rc < 0)
		return rc == BBT_ENOMEM ? 500 : 400;
	int status;
	struct worker *w = acquire(s, sr.batch.prompt_len, sr.batch.prompt_layers, &status);
	if (w == NULL) {
		bbt_score_req_release(&sr);
		snprintf(msg, msglen, "score: the queue is full; retry");
		return status;
	}
	size_t P = sr.batch.prompt_len, layers = sr.batch.prompt_layers;
	rc = BBT_OK;
	if (sr.prompts != NULL && (w->prompt_len != P || w->prompt_layers != layers)) {
		bbt_log(BBT_LOG_INFO, "serve", "reopening a backend instance for prompt_len %zu, "
		        "%zu prompt layer(s)", P, layers);
		rc = open_instance(s, w, P, layers, NULL, msg, msglen);
		pthread_mutex_lock(&s->mu);
		s->reopens++;
		pthread_mutex_unlock(&s->mu);
		if (rc < 0 && open_instance(s, w, 0, 1, NULL, msg + strlen(msg), 0) < 0)
			w->state = NULL;
	}
	size_t n = sr.n_variants * sr.batch.n_seq * sr.batch.n_labels;
	float *logits = rc == BBT_OK ? malloc((n ? n : 1) * sizeof *logits) : NULL;
	if (rc == BBT_OK && logits == NULL)
		rc = bbt_error(msg, msglen, BBT_ENOMEM, "score: out of memory");
	if (rc == BBT_OK && w->state == NULL)
		rc = bbt_error(msg, msglen, BBT_EINTERNAL, "score: the backend instance is closed");
	if (rc == BBT_OK) {
		rc = s->b->desc->backend->score(w->state, &sr.batch, sr.prompts, sr.n_variants, logits,
		                                msg, msglen);
		if (rc < 0)
			bbt_error_prefix(msg, msglen, "backend %s", s->b->desc->name);
	}
	release(s, w);
	if (rc < 0) {
		free(logits);
		bbt_score_req_release(&sr);
		return rc == BBT_EINVAL ? 400 : 500;
	}
	r->status = 200;
	r->content_type = "application/octet-stream";
	r->len = n * 4;
	r->body = malloc(r->len ? r->len : 1);
	r->headers = bbt_asprintf("X-BBT-Variants: %zu\nX-BBT-Sequences: %zu\nX-BBT-Labels: %zu\n"
	                          "X-BBT-Tokens-Scored: %zu\n", sr.n_variants, sr.batch.n_seq,
	                          sr.batch.n_labels, sr.tokens);
	if (r->body == NULL || r->headers == NULL) {
		free(logits);
		bbt_score_req_release(&sr);
		snprintf(msg, msglen, "score: out of memory");
		return 500;
	}
	bbt_le_put_f32(r->body, logits, n);
	free(logits);
	pthread_mutex_lock(&s->mu);
	s->clients[rq->client].calls++;
	s->clients[rq->client].tokens += sr.tokens;
	pthread_mutex_unlock(&s->mu);
	bbt_score_req_release(&sr);
	return 200;
}

/* Append text's tokens to ids (cap grown as needed). */
static int append_tokens(const struct bbt_backend_ops *ops, void *state, const char *text,
                         int32_t **ids, size_t *n, size_t *cap, char *msg, size_t msglen)
{
	size_t len = 0, got = 0;
	int rc = ops->tokenize(state, text, NULL, 0, &len, msg, msglen);
	if (rc < 0)
		return rc;
	if (*n + len + 2 > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < *n + len + 2)
			c *= 2;
		int32_t *v = realloc(*ids, c * sizeof *v);
		if (v == NULL)
			return bbt_error(msg, msglen, BBT_ENOMEM, "out of memory");
		*ids = v;
		*cap = c;
	}
	rc = ops->tokenize(state, text, *ids + *n, len, &got, msg, msglen);
	if (rc == BBT_OK && got != len)
		rc = bbt_error(msg, msglen, BBT_EINTERNAL, "the tokenizer gave %zu then %zu tokens", len,
		               got);
	if (rc == BBT_OK)
		*n += len;
	return rc;
}

/* The markers a prompt for a masked model carries (GET /v1/models): two
 * private-use characters, which no tokenizer text holds. */
#define MASK_MARKER "\xee\x80\x80"   /* U+E000: the mask token, once */
#define SEP_MARKER "\xee\x80\x81"    /* U+E001: the separator (eos) token */
#define INPUT_MASK_MARKER "\xee\x80\x82" /* U+E002: a mask token in the input, not read */

/* One prompt text as the model's sequence: causal, [bos] text, predicted
 * after its last token; masked, [bos] text [eos], the markers in the text
 * becoming the mask and separator tokens (a text that ends in the
 * separator marker gets no second one). */
static int render_prompt(struct server *s, struct worker *w, const char *text, size_t i,
                         int32_t **ids, size_t *n, size_t *cap, size_t *predict, char *msg,
                         size_t msglen)
{
	const struct bbt_backend_ops *ops = s->b->desc->backend;
	const struct bbt_model_info *in = &s->info;
	size_t start = *n, masks = 0;
	int rc = append_tokens(ops, w->state, "", ids, n, cap, msg, msglen);   /* room for bos */
	if (rc == BBT_OK && in->bos_id >= 0)
		(*ids)[(*n)++] = in->bos_id;
	int causal = in->causal || in->mask_id < 0, closed = 0;
	for (const char *p = text; rc == BBT_OK;) {
		const char *m = causal ? NULL : strstr(p, MASK_MARKER);
		const char *e = causal ? NULL : strstr(p, SEP_MARKER);
		const char *x = causal ? NULL : strstr(p, INPUT_MASK_MARKER);
		const char *at = m && (!e || m < e) ? m : e;
		if (x && (!at || x < at))
			at = x;
		char *seg = at ? bbt_asprintf("%.*s", (int)(at - p), p) : NULL;
		if (at && seg == NULL)
			return bbt_error(msg, msglen, BBT_ENOMEM, "out of memory");
		rc = append_tokens(ops, w->state, at ? seg : p, ids, n, cap, msg, msglen);
		free(seg);
		if (rc < 0 || at == NULL)
			break;
		if (at == m) {
			*predict = *n - start;
			masks++;
		}
		(*ids)[(*n)++] = at == e ? in->eos_id : in->mask_id;   /* append_tokens left room */
		p = at + strlen(MASK_MARKER);
		closed = at == e && *p == '\0';
	}
	if (rc < 0)
		return rc;
	if (causal) {
		if (*n == start)
			return bbt_error(msg, msglen, BBT_EINVAL, "completions: prompt %zu has no tokens", i);
		*predict = *n - start - 1;
		return BBT_OK;
	}
	if (masks != 1)
		return bbt_error(msg, msglen, BBT_EINVAL,
		                 "completions: prompt %zu: a masked model reads the position of its mask "
		                 "marker U+E000, which must be in the prompt once, not %zu times", i, masks);
	if (!closed && in->eos_id >= 0)
		(*ids)[(*n)++] = in->eos_id;
	return BBT_OK;
}

static int by_logit(const void *a, const void *b, void *ctx)
{
	const float *row = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return row[x] > row[y] ? -1 : row[x] < row[y] ? 1 : x < y ? -1 : x > y;
}

/* One choice: the log-softmax of the row (all the vocabulary's logits at
 * the predicted position), its top k and its argmax as the text. */
static json_t *choice_json(struct server *s, const float *row, const int32_t *id, size_t V,
                           size_t i, long k, size_t *order)
{
	const struct bbt_backend_ops *ops = s->b->desc->backend;
	double mx = -INFINITY, sum = 0;
	for (size_t t = 0; t < V; t++)
		if (row[t] > mx)
			mx = row[t];
	for (size_t t = 0; t < V; t++)
		sum += exp((double)row[t] - mx);
	double lse = mx + log(sum);
	/* the ids by logit, the likeliest first (ties: the smaller id) */
	size_t kk = k < 1 ? 1 : (size_t)k < V ? (size_t)k : V;
	for (size_t t = 0; t < V; t++)
		order[t] = t;
	qsort_r(order, V, sizeof *order, by_logit, (void *)row);
	const char *top = ops->token_text ? ops->token_text(s->workers[0].state, id[order[0]]) : NULL;
	json_t *ch = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "text", top ? top : "",
	                       "finish_reason", "length");
	if (ch == NULL || k < 0)
		return ch;
	json_t *tl = json_object();
	for (size_t a = 0; tl && a < kk; a++) {
		const char *t = ops->token_text ? ops->token_text(s->workers[0].state, id[order[a]])
		                                : NULL;
		if (t && json_object_get(tl, t) == NULL)   /* two tokens of one text: the likelier */
			json_object_set_new(tl, t, json_real((double)row[order[a]] - lse));
	}
	json_t *lp = json_pack("{s:[s], s:[f], s:[o], s:[i]}", "tokens", top ? top : "",
	                       "token_logprobs", (double)row[order[0]] - lse, "top_logprobs",
	                       tl ? tl : json_object(), "text_offset", 0);
	if (lp == NULL || json_object_set_new(ch, "logprobs", lp) < 0) {
		json_decref(ch);
		return NULL;
	}
	return ch;
}

/* POST /v1/completions: the OpenAI-compatible shape (doc/protocol.md). */
static int completions(struct server *s, struct req *rq, struct bbt_idem_resp *r, char *msg,
                       size_t msglen)
{
	struct bbt_completion_req cr;
	size_t V = s->info.vocab_size;
	int rc = bbt_completion_req_parse(rq->body ? rq->body : "", rq->len, s->model_id,
	                                  s->lim.max_batch, (long)V, &cr, msg, msglen);
	if (rc < 0)
		return rc == BBT_ENOMEM ? 500 : rc == BBT_ENOTFOUND ? 404 : 400;
	const struct bbt_backend_ops *ops = s->b->desc->backend;
	int status;
	struct worker *w = acquire(s, 0, 1, &status);
	if (w == NULL) {
		bbt_completion_req_release(&cr);
		snprintf(msg, msglen, "completions: the queue is full; retry");
		return status;
	}
	size_t *offset = calloc(cr.n + 1, sizeof *offset), *predict = calloc(cr.n, sizeof *predict);
	size_t *ppos = calloc(cr.n, sizeof *ppos), n_ids = 0, cap = 0, tokens = 0;
	int32_t *ids = NULL, *labels = malloc((V ? V : 1) * sizeof *labels);
	size_t n_logits = cr.n * V;
	float *logits = malloc((n_logits > 0 ? n_logits : 1) * sizeof *logits);
	size_t *order = malloc((V ? V : 1) * sizeof *order);
	rc = offset && predict && ppos && labels && logits && order
	     ? BBT_OK : bbt_error(msg, msglen, BBT_ENOMEM, "out of memory");
	size_t nl = 0;   /* every id but the unknown token's, which backends do not score */
	for (size_t t = 0; rc == BBT_OK && t < V; t++)
		if ((int32_t)t != s->unk_id)
			labels[nl++] = (int32_t)t;
	for (size_t i = 0; rc == BBT_OK && i < cr.n; i++) {
		rc = render_prompt(s, w, cr.prompts[i], i, &ids, &n_ids, &cap, &predict[i], msg, msglen);
		offset[i + 1] = n_ids;
		size_t len = n_ids - offset[i];
		if (rc == BBT_OK && s->lim.max_seq_len && len > s->lim.max_seq_len)
			rc = bbt_error(msg, msglen, BBT_EINVAL,
			               "completions: prompt %zu has %zu tokens; this server takes %zu", i,
			               len, s->lim.max_seq_len);
		tokens += len;
	}
	if (rc == BBT_OK) {
		struct bbt_batch b = { .n_seq = cr.n, .ids = ids, .offset = offset,
			               .predict_pos = predict, .prompt_pos = ppos, .n_labels = nl,
			               .label_ids = labels, .prompt_len = 0, .prompt_layers = 1 };
		rc = ops->score(w->state, &b, NULL, 1, logits, msg, msglen);
		if (rc < 0)
			bbt_error_prefix(msg, msglen, "backend %s", s->b->desc->name);
	}
	release(s, w);
	json_t *choices = rc == BBT_OK ? json_array() : NULL;
	for (size_t i = 0; choices && i < cr.n; i++)
		if (json_array_append_new(choices, choice_json(s, logits + i * nl, labels, nl, i,
		                                                cr.logprobs, order)) < 0) {
			json_decref(choices);
			choices = NULL;
		}
	json_t *resp = choices ? json_pack("{s:s, s:s, s:I, s:s, s:o, s:{s:I, s:I, s:I}}", "id",
	                                   "cmpl-bbtbench", "object", "text_completion", "created",
	                                   (json_int_t)0, "model", s->model_id, "choices", choices,
	                                   "usage", "prompt_tokens", (json_int_t)tokens,
	                                   "completion_tokens", (json_int_t)cr.n, "total_tokens",
	                                   (json_int_t)(tokens + cr.n))
	                       : NULL;
	r->body = resp ? json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(resp);
	free(offset);
	free(predict);
	free(ppos);
	free(ids);
	free(labels);
	free(logits);
	free(order);
	bbt_completion_req_release(&cr);
	if (rc < 0)
		return rc == BBT_EINVAL ? 400 : 500;
	if (r->body == NULL) {
		snprintf(msg, msglen, "completions: out of memory (or a NaN logit)");
		return 500;
	}
	r->status = 200;
	r->content_type = "application/json";
	r->len = strlen(r->body);
	pthread_mutex_lock(&s->mu);
	s->clients[rq->client].calls++;
	s->clients[rq->client].tokens += tokens;
	pthread_mutex_unlock(&s->mu);
	return 200;
}

static int key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (key[i] <= ' ' || key[i] > '~')
			return 0;
	return 1;
}

/* Admit one more call of client under the quotas (counted as pending
 * until it finishes, so concurrent requests cannot overdraw the calls);
 * 0 with the reason when a quota is spent. The tokens quota is checked
 * against what was scored, so the last admitted call may pass it. */
static int quota_admit(struct server *s, size_t client, char *msg, size_t msglen)
{
	const struct bbt_serve_params *p = s->p;
	pthread_mutex_lock(&s->mu);
	struct client_stats *cs = &s->clients[client];
	char who[32];
	snprintf(who, sizeof who, client ? "token %zu" : "the anonymous client", client);
	int ok = 1;
	if (p->quota_calls && cs->calls + cs->pending >= p->quota_calls) {
		snprintf(msg, msglen, "quota spent: %s has made its %llu calls (--quota calls=%llu)",
		         who, p->quota_calls, p->quota_calls);
		ok = 0;
	} else if (p->quota_tokens && cs->tokens >= p->quota_tokens) {
		snprintf(msg, msglen, "quota spent: %s has had %llu positions scored (--quota "
		         "tokens=%llu)", who, cs->tokens, p->quota_tokens);
		ok = 0;
	}
	if (ok)
		cs->pending++;
	else
		cs->refused++;
	pthread_mutex_unlock(&s->mu);
	return ok;
}

typedef int (*work_fn)(struct server *s, struct req *rq, struct bbt_idem_resp *r, char *msg,
                       size_t msglen);

/* A POST that may carry an Idempotency-Key: the cache, then fn. */
static enum MHD_Result do_keyed(struct server *s, struct MHD_Connection *c, struct req *rq,
                                work_fn fn)
{
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
	if (key != NULL && !key_valid(key))
		return send_error(s, c, rq, 400,
		                  "Idempotency-Key must be 1 to 128 visible ASCII characters");
	uint64_t hash = bbt_hash64(route_path[rq->route], strlen(route_path[rq->route]),
	                           BBT_HASH64_INIT);
	hash = bbt_hash64(rq->body ? rq->body : "", rq->len, hash);
	struct bbt_idem_resp r;
	switch (bbt_idem_begin(key ? s->idem : NULL, rq->client, key, hash, &r)) {
	case BBT_IDEM_CONFLICT:
		return send_error(s, c, rq, 409,
		                  "Idempotency-Key '%s' was used for another request", key);
	case BBT_IDEM_REPLAY: {
		size_t hl = r.headers ? strlen(r.headers) : 0;
		char *h = bbt_asprintf("%.*sX-BBT-Replayed: 1\n", (int)hl, r.headers ? r.headers : "");
		enum MHD_Result ret = send_response(s, c, rq, r.status, r.content_type, r.body, r.len, h);
		free(h);
		free(r.headers);
		return ret;
	}
	}
	char msg[BBT_ERRLEN] = "";
	if (!quota_admit(s, rq->client, msg, sizeof msg)) {
		bbt_idem_abandon(key ? s->idem : NULL, rq->client, key);
		return send_error(s, c, rq, 429, "%s", msg);
	}
	memset(&r, 0, sizeof r);
	int status = fn(s, rq, &r, msg, sizeof msg);
	pthread_mutex_lock(&s->mu);
	s->clients[rq->client].pending--;
	pthread_mutex_unlock(&s->mu);
	if (status != 200) {
		bbt_idem_abandon(key ? s->idem : NULL, rq->client, key);
		bbt_idem_resp_release(&r);
		return send_error(s, c, rq, status, "%s", msg);
	}
	bbt_idem_done(key ? s->idem : NULL, rq->client, key, &r);
	enum MHD_Result ret = send_response(s, c, rq, 200, r.content_type, r.body, r.len, r.headers);
	free(r.headers);
	return ret;
}

/* ---------------------------------------------------------------- */
/* libmicrohttpd's callbacks */

static enum route route_of(const char *url)
{
	for (int r = 0; r < R_OTHER; r++)
		if (strcmp(url, route_path[r]) == 0)
			return (enum route)r;
	return R_OTHER;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	struct req *rq = *con_cls;
	if (rq == NULL) {   /* the headers: check what can be checked before the body */
		if ((rq = calloc(1, sizeof *rq)) == NULL)
			return MHD_NO;
		*con_cls = rq;
		rq->route = route_of(url);
		int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		          strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
		if (rq->route == R_OTHER)
			return send_error(s, c, rq, 404, "no such path: %s (see doc/protocol.md)", url);
		if (route_post[rq->route] ? !post : !get)
			return send_error(s, c, rq, 405, "%s takes %s, not %s", url,
			                  route_post[rq->route] ? "POST" : "GET", method);
		if (s->auth != NULL && rq->route != R_HEALTH) {
			const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			                                            MHD_HTTP_HEADER_AUTHORIZATION);
			rq->client = bbt_auth_check(s->auth, a);
			if (rq->client == 0)
				return send_error(s, c, rq, 401, "%s",
				                  a ? "unknown token" : "no Authorization: Bearer TOKEN header");
		}
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		long long n = cl ? atoll(cl) : 0;
		if (s->lim.max_body && n > 0 && (unsigned long long)n > s->lim.max_body)
			return send_error(s, c, rq, 413, "a body of %lld bytes; this server takes %zu", n,
			                  s->lim.max_body);
		return MHD_YES;
	}
	if (rq->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {   /* the body, in pieces */
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		pthread_mutex_lock(&s->mu);
		if (rq->client < s->n_clients)
			s->clients[rq->client].bytes_in += n;
		pthread_mutex_unlock(&s->mu);
		if (rq->too_big || (s->lim.max_body && rq->len + n > s->lim.max_body)) {
			rq->too_big = 1;
			return MHD_YES;
		}
		if (rq->len + n > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 4096;
			while (cap < rq->len + n)
				cap *= 2;
			char *b = realloc(rq->body, cap);
			if (b == NULL)
				return MHD_NO;
			rq->body = b;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload_data, n);
		rq->len += n;
		return MHD_YES;
	}
	/* the whole request is in */
	if (rq->too_big)
		return send_error(s, c, rq, 413, "the body exceeds this server's %zu bytes",
		                  s->lim.max_body);
	pthread_mutex_lock(&s->mu);
	int stopping = s->stopping;
	if (!stopping)
		s->in_flight++;
	pthread_mutex_unlock(&s->mu);
	if (stopping)
		return rq->route == R_HEALTH ? send_text(s, c, rq, 503, "stopping\n")
		                             : send_error(s, c, rq, 503, "the server is stopping");
	double t0 = bbt_now();
	enum MHD_Result ret;
	switch (rq->route) {
	case R_HEALTH: ret = send_text(s, c, rq, 200, "ok\n"); break;
	case R_METRICS: ret = do_metrics(s, c, rq); break;
	case R_INFO: {
		char *j = bbt_asprintf("%s\n", s->info_json);
		ret = send_response(s, c, rq, 200, "application/json", j, j ? strlen(j) : 0, NULL);
		break;
	}
	case R_VOCAB: {
		char *v = malloc(s->vocab_len ? s->vocab_len : 1);
		if (v)
			memcpy(v, s->vocab, s->vocab_len);
		char h[64];
		snprintf(h, sizeof h, "X-BBT-Count: %zu\n", s->info.vocab_size);
		ret = send_response(s, c, rq, 200, "application/octet-stream", v, v ? s->vocab_len : 0,
		                    h);
		break;
	}
	case R_TOKENIZE: ret = do_tokenize(s, c, rq); break;
	case R_SCORE: ret = do_keyed(s, c, rq, score); break;
	case R_COMPLETIONS: ret = do_keyed(s, c, rq, completions); break;
	case R_MODELS: {
		char *j = bbt_asprintf("%s\n", s->models_json);
		ret = send_response(s, c, rq, 200, "application/json", j, j ? strlen(j) : 0, NULL);
		break;
	}
	default: ret = send_error(s, c, rq, 404, "no such path: %s", url); break;
	}
	double dt = bbt_now() - t0;
	pthread_mutex_lock(&s->mu);
	s->seconds_sum[rq->route] += dt;
	s->seconds_count[rq->route]++;
	if (rq->route == R_SCORE)
		for (size_t i = 0; i < N_BUCKETS; i++)
			if (dt <= buckets[i]) {
				s->score_buckets[i]++;
				break;
			}
	s->in_flight--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (rq == NULL)
		return;
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	bbt_log(BBT_LOG_DEBUG, "serve", "libmicrohttpd: %s", msg);
}

/* ---------------------------------------------------------------- */
/* Start-up and shut-down */

/* Bind HOST:PORT; refuse a non-loopback address without tokens. */
static int bind_listen(const char *listen_at, int have_tokens, int *fd_out, int *v6,
                       char *url, size_t urllen, char *err, size_t errlen)
{
	char host[256];
	const char *port;
	const char *colon = strrchr(listen_at, ':');
	if (listen_at[0] == '[') {
		const char *close = strchr(listen_at, ']');
		if (close == NULL || close[1] != ':')
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "--listen %s: expected [ADDRESS]:PORT", listen_at);
		snprintf(host, sizeof host, "%.*s", (int)(close - listen_at - 1), listen_at + 1);
		port = close + 2;
	} else {
		if (colon == NULL)
			return bbt_error(err, errlen, BBT_EINVAL, "--listen %s: expected HOST:PORT",
			                 listen_at);
		snprintf(host, sizeof host, "%.*s", (int)(colon - listen_at), listen_at);
		port = colon + 1;
	}
	long pn;
	if (bbt_parse_long(port, &pn) < 0 || pn < 0 || pn > 65535)
		return bbt_error(err, errlen, BBT_EINVAL, "--listen %s: port must be 0 to 65535",
		                 listen_at);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (g != 0)
		return bbt_error(err, errlen, BBT_EINVAL, "--listen %s: %s", listen_at, gai_strerror(g));
	int loopback = 0;
	if (ai->ai_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ai->ai_addr;
		loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	} else if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ai->ai_addr;
		loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
	}
	if (!loopback && !have_tokens) {
		freeaddrinfo(ai);
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--listen %s is not a loopback address: serving others needs "
		                 "--token-file", listen_at);
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return bbt_error(err, errlen, BBT_EIO, "--listen %s: %s", listen_at, strerror(e));
	}
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char addr[INET6_ADDRSTRLEN] = "?";
	int bound = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
			bound = ntohs(a->sin_port);
		} else {
			const struct sockaddr_in6 *a = (const void *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
			bound = ntohs(a->sin6_port);
		}
	}
	snprintf(url, urllen, *v6 ? "http://[%s]:%d" : "http://%s:%d", addr, bound);
	*fd_out = fd;
	return BBT_OK;
}

/* Worker 0 tells the model; the vocabulary and the model's hash. */
static int start_backends(struct server *s, char *err, size_t errlen)
{
	const struct bbt_serve_params *p = s->p;
	s->n_workers = p->threads ? p->threads : 1;
	if ((s->workers = calloc(s->n_workers, sizeof *s->workers)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	uint32_t seed = bbt_rng_derive_seed(s->b->seed, "backend");
	for (size_t i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		if ((w->svc = bbt_hostsvc_alloc(s->b->desc->name, seed, s->b->opts)) == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		int rc = open_instance(s, w, 0, 1, i == 0 ? &s->info : NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	const struct bbt_backend_ops *ops = s->b->desc->backend;
	size_t len = 0;
	for (size_t i = 0; i < s->info.vocab_size; i++) {
		const char *t = ops->token_text ? ops->token_text(s->workers[0].state, (int32_t)i) : NULL;
		len += (t ? strlen(t) : 0) + 1;
	}
	if ((s->vocab = malloc(len ? len : 1)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->info.vocab_size; i++) {
		const char *t = ops->token_text ? ops->token_text(s->workers[0].state, (int32_t)i) : NULL;
		size_t n = t ? strlen(t) : 0;
		memcpy(s->vocab + s->vocab_len, t ? t : "", n + 1);
		s->vocab_len += n + 1;
	}
	s->lim = p->limits;
	if (s->lim.max_seq_len == 0 || s->lim.max_seq_len > s->info.max_len)
		s->lim.max_seq_len = s->info.max_len;
	if (s->lim.max_prompt_len == 0 || s->lim.max_prompt_len >= s->info.max_len)
		s->lim.max_prompt_len = s->info.max_len ? s->info.max_len - 1 : 0;
	char hex[65] = "";
	long long size = 0;
	const char *base = NULL;
	if (s->b->model != NULL) {
		int rc = bbt_sha256_file(s->b->model, hex, &size, err, errlen);
		if (rc < 0)
			return rc;
		base = strrchr(s->b->model, '/');
		base = base ? base + 1 : s->b->model;
	}
	s->info_json = bbt_info_json(&s->info, s->b->desc->name, base, size, base ? hex : NULL,
	                             &s->lim);
	if (s->info_json == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "backend %s reports model facts that JSON cannot hold (NaN?)",
		                 s->b->desc->name);
	snprintf(s->model_id, sizeof s->model_id, "%s", base ? base : s->b->desc->name);
	/* the unknown token: what a rare character becomes when it is one token
	 * whose text is not that character (byte-level BPE has none) */
	s->unk_id = -1;
	static const char *const rare[] = { "\xee\x80\x80", "\xf0\x9f\x82\xa1", "\xe2\x98\x83" };
	for (size_t i = 0; i < sizeof rare / sizeof *rare && s->unk_id < 0; i++) {
		int32_t unk[2];
		size_t n_unk = 0;
		char scratch[BBT_ERRLEN];
		const char *t = NULL;
		if (ops->tokenize(s->workers[0].state, rare[i], unk, 2, &n_unk, scratch,
		                  sizeof scratch) == BBT_OK && n_unk == 1 && ops->token_text &&
		    (t = ops->token_text(s->workers[0].state, unk[0])) != NULL && strcmp(t, rare[i]) != 0)
			s->unk_id = unk[0];
	}
	int masked = !s->info.causal && s->info.mask_id >= 0;
	json_t *mj = json_pack("{s:s, s:[{s:s, s:s, s:i, s:s, s:I, s:s?, s:s?, s:s?}]}", "object",
	                       "list",
	                       "data", "id", s->model_id, "object", "model", "created", 0, "owned_by",
	                       "bbtbench", "max_model_len", (json_int_t)s->lim.max_seq_len,
	                       "mask_marker", masked ? MASK_MARKER : NULL, "sep_marker",
	                       masked && s->info.eos_id >= 0 ? SEP_MARKER : NULL,
	                       "input_mask_marker", masked ? INPUT_MASK_MARKER : NULL);
	s->models_json = mj ? json_dumps(mj, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
	                    : NULL;
	json_decref(mj);
	if (s->models_json == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	bbt_log(BBT_LOG_INFO, "serve", "%s on backend %s: %s, hidden %zu, vocabulary %zu%s%s",
	        base ? base : "(no model file)", s->b->desc->name, s->info.arch, s->info.hidden,
	        s->info.vocab_size, base ? ", sha256 " : "", base ? hex : "");
	return BBT_OK;
}

static void server_release(struct server *s)
{
	for (size_t i = 0; s->workers && i < s->n_workers; i++) {
		if (s->workers[i].state)
			s->b->desc->backend->close(s->workers[i].state);
		bbt_hostsvc_free(s->workers[i].svc);
	}
	free(s->workers);
	free(s->clients);
	free(s->vocab);
	free(s->info_json);
	free(s->models_json);
	bbt_idem_free(s->idem);
	bbt_auth_free(s->auth);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

int bbt_serve_run(const struct bbt_serve_params *p, const struct bbt_serve_backend *b,
                  char *err, size_t errlen)
{
	struct server s = { .p = p, .b = b };
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	int rc = BBT_OK, fd = -1, v6 = 0;
	char url[128];
	if (p->token_file != NULL)
		rc = bbt_auth_load(p->token_file, &s.auth, err, errlen);
	if (rc == BBT_OK)
		rc = bind_listen(p->listen, s.auth != NULL, &fd, &v6, url, sizeof url, err, errlen);
	s.n_clients = bbt_auth_count(s.auth) + 1;
	if (rc == BBT_OK && ((s.clients = calloc(s.n_clients, sizeof *s.clients)) == NULL ||
	                     (s.idem = bbt_idem_alloc(p->idem_entries, p->idem_bytes)) == NULL))
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK)
		rc = start_backends(&s, err, errlen);

	/* SIGTERM and SIGINT are taken by sigwait below: blocked in this
	 * thread before libmicrohttpd starts its own, which inherit the mask */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	struct MHD_Daemon *d = NULL;
	if (rc == BBT_OK) {
		size_t conns = s.n_workers + p->queue + 64;
		d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		                             MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0),
		                     0, NULL, NULL, handle, &s,
		                     MHD_OPTION_LISTEN_SOCKET, fd,
		                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)conns,
		                     MHD_OPTION_CONNECTION_TIMEOUT, p->timeout_s,
		                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		                     MHD_OPTION_NOTIFY_COMPLETED, completed, &s,
		                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, &s,
		                     MHD_OPTION_END);
		if (d == NULL)
			rc = bbt_error(err, errlen, BBT_EIO, "%s: libmicrohttpd cannot start", url);
	}
	if (rc == BBT_OK && p->ready_file != NULL) {
		char line[160];
		int n = snprintf(line, sizeof line, "%s\n", url);
		rc = bbt_file_write_atomic(p->ready_file, line, (size_t)n, err, errlen);
	}
	if (rc == BBT_OK) {
		bbt_log(BBT_LOG_INFO, "serve", "listening on %s (%zu worker%s, queue %zu%s)", url,
		        s.n_workers, s.n_workers == 1 ? "" : "s", p->queue,
		        s.auth ? ", bearer tokens" : ", no authentication: loopback only");
		int sig = 0;
		while (sigwait(&set, &sig) != 0)
			;
		bbt_log(BBT_LOG_INFO, "serve", "%s: finishing the requests in flight, then stopping",
		        sig == SIGTERM ? "SIGTERM" : "SIGINT");
		pthread_mutex_lock(&s.mu);
		s.stopping = 1;
		pthread_cond_broadcast(&s.cv);   /* queued requests give up (503) */
		pthread_mutex_unlock(&s.mu);
		MHD_socket ls = MHD_quiesce_daemon(d);
		if (ls != MHD_INVALID_SOCKET)
			close(ls);
		fd = -1;
		pthread_mutex_lock(&s.mu);
		while (s.in_flight > 0)
			pthread_cond_wait(&s.cv, &s.mu);
		pthread_mutex_unlock(&s.mu);
	}
	if (d != NULL)
		MHD_stop_daemon(d);
	else if (fd >= 0)
		close(fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == BBT_OK) {
		unsigned long long calls = 0, tokens = 0;
		for (size_t i = 0; i < s.n_clients; i++)
			calls += s.clients[i].calls, tokens += s.clients[i].tokens;
		bbt_log(BBT_LOG_INFO, "serve", "stopped: %llu score calls, %llu tokens scored, "
		        "%llu replayed", calls, tokens, bbt_idem_replays(s.idem));
	}
	server_release(&s);
	return rc;
}
