/*
 * http.c - the `http` backend: a model behind `bbtbench serve`, scored
 * over HTTP with libcurl (protocol: doc/protocol.md, version 1).
 *
 *     bbtbench serve --model bert.gguf --listen 127.0.0.1:8080          (elsewhere)
 *     bbtbench --backend http -O url=http://127.0.0.1:8080 --task sst2 ...
 *
 * open() reads the server's /v1/info (the model's shape, its SHA-256) and
 * its vocabulary; tokenize and score are one request each. A call that
 * meets a transport error, a timeout, 500, 502, 503 or 504 is sent again
 * after a growing pause (-O retries, -O backoff; a Retry-After wins), with
 * the same Idempotency-Key, so the server scores and counts it once.
 * Counting: the plugin's closing log line gives the calls, retries, bytes
 * sent and received and the mean latency, and `transport` (ABI 1.3) gives
 * them to the host for trace.csv and result.json.
 *
 * Replicas: -O url=A,B,C names servers that hold the same model (their
 * /v1/info must give the same SHA-256). Each score call's V prompt
 * variants are split into contiguous runs, the j-th of k = min(V, servers)
 * going to server j, all at once (one thread each); the logits land in
 * their places, so the result is the one server's, bit for bit. Calls of
 * one variant (evaluations), tokenize and the vocabulary go to A.
 *
 * A plugin sees only the public headers: this file includes nothing of the
 * host's. The requests themselves (retries, keys, token, accounting) are
 * client.c's, shared with the openai backend.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bbtbench/plugin.h>

#include "client.h"

static const struct bbt_option_spec options[] = {
	{ "url", BBT_OPT_STRING, NULL, NULL, 0, 0,
	  "the server (bbtbench serve): http://HOST:PORT; several, comma-separated: replicas "
	  "that share each generation's candidates" },
	HC_OPTIONS,
	{ 0 },
};

#define MAX_SERVERS 64

struct http {
	struct hc *c;              /* the servers (replicas), each its url, its accounting */
	size_t n_c;
	const bbt_host_t *host;
	const char *url;           /* c[0].url: tokenize, the vocabulary, messages */
	struct bbt_model_info info;
	char model[512];           /* the server's model: file and sha256, for the log */
	char file[128], sha[65];   /* the same, for transport */
	char servers[256];         /* the urls, comma-separated */
	double seconds;            /* wall time of the calls (replicas at once count once) */
	char **tok;                /* token texts, into vocab */
	char *vocab;
	size_t n_tok;
	char *last_text;           /* tokenize's last answer (the host asks twice) */
	int32_t *last_ids;
	size_t last_n;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- */
/* open / close */

static void http_close(void *state)
{
	struct http *h = state;
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n_c; i++)
		hc_close(&h->c[i]);
	free(h->c);
	free(h->tok);
	free(h->vocab);
	free(h->last_text);
	free(h->last_ids);
	free(h);
}

static long long jint(json_t *j, const char *key, long long def)
{
	json_t *v = json_object_get(j, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

/* /v1/info of server i: the model's facts from the first; a replica must
 * hold the same model (the same SHA-256, the same shape). */
static int read_info(struct http *h, size_t i, const struct bbt_backend_params *params,
                     char *err, size_t errlen)
{
	struct hc_resp r = { 0 };
	const char *url = h->c[i].url;
	int rc = hc_request(&h->c[i], "/v1/info", NULL, 0, NULL, NULL, &r, err, errlen);
	json_error_t jerr;
	json_t *j = rc == BBT_OK ? json_loadb(r.body ? r.body : "", r.len, 0, &jerr) : NULL;
	free(r.body);
	if (rc < 0)
		return rc;
	if (j == NULL)
		return bbt_error(err, errlen, BBT_EFORMAT, "http: %s/v1/info: %s", url, jerr.text);
	struct bbt_model_info mine = { 0 }, *in = i == 0 ? &h->info : &mine;
	long long proto = jint(j, "protocol", -1);
	json_t *mean = json_object_get(j, "embed_mean"), *sd = json_object_get(j, "embed_std");
	const char *arch = json_string_value(json_object_get(j, "arch"));
	if (proto != 1)
		rc = bbt_error(err, errlen, BBT_EABI,
		               "http: %s speaks protocol %lld; this backend speaks 1", url, proto);
	else if (arch == NULL || jint(j, "hidden", 0) <= 0 || jint(j, "max_len", 0) <= 0 ||
	         !json_is_number(mean) || !json_is_number(sd))
		rc = bbt_error(err, errlen, BBT_EFORMAT, "http: %s/v1/info lacks the model's facts", url);
	const char *backend = json_string_value(json_object_get(j, "backend"));
	if (rc == BBT_OK) {
		snprintf(in->arch, sizeof in->arch, "%s", arch);
		in->hidden = (size_t)jint(j, "hidden", 0);
		in->layers = (size_t)jint(j, "layers", 0);
		in->vocab_size = (size_t)jint(j, "vocab_size", 0);
		in->max_len = (size_t)jint(j, "max_len", 0);
		in->causal = json_is_true(json_object_get(j, "causal"));
		in->bos_id = (int32_t)jint(j, "bos_id", -1);
		in->eos_id = (int32_t)jint(j, "eos_id", -1);
		in->mask_id = (int32_t)jint(j, "mask_id", -1);
		in->pad_id = (int32_t)jint(j, "pad_id", -1);
		in->embed_mean = json_number_value(mean);
		in->embed_std = json_number_value(sd);
		json_t *m = json_object_get(j, "model");
		const char *file = json_string_value(json_object_get(m, "file"));
		const char *sha = json_string_value(json_object_get(m, "sha256"));
		if (i == 0) {
			snprintf(h->model, sizeof h->model, "%s%s%.16s%s",
			         file ? file : "(no model file)", sha ? " (sha256 " : "", sha ? sha : "",
			         sha ? "...)" : "");
			snprintf(h->file, sizeof h->file, "%s", file ? file : "");
			snprintf(h->sha, sizeof h->sha, "%s", sha ? sha : "");
		} else if (strcmp(sha ? sha : "", h->sha) != 0 || in->hidden != h->info.hidden ||
		           in->vocab_size != h->info.vocab_size || in->max_len != h->info.max_len) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "http: replica %s serves %s (sha256 %.16s); %s serves %s (sha256 "
			               "%.16s): replicas must hold the same model", url,
			               file ? file : "(no model file)", sha ? sha : "none", h->url,
			               h->file[0] ? h->file : "(no model file)",
			               h->sha[0] ? h->sha : "none");
		}
		long long maxp = jint(json_object_get(j, "limits"), "max_prompt_len", -1);
		if (rc == BBT_OK && maxp >= 0 && params->prompt_len > (size_t)maxp)
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "http: --prompt-len %zu; %s takes at most %lld", params->prompt_len,
			               url, maxp);
		if (rc == BBT_OK && h->host && h->host->log)
			h->host->log(h->host->ctx, BBT_LOG_INFO, "%s: backend %s, %s: %s, hidden %zu, "
			             "vocabulary %zu", url,
			             backend ? backend : "?", h->model,
			             in->arch, in->hidden, in->vocab_size);
	}
	json_decref(j);
	return rc;
}

static int read_vocab(struct http *h, char *err, size_t errlen)
{
	struct hc_resp r = { 0 };
	int rc = hc_request(&h->c[0], "/v1/vocab", NULL, 0, NULL, NULL, &r, err, errlen);
	if (rc < 0) {
		free(r.body);
		return rc;
	}
	h->vocab = r.body;
	size_t n = 0;
	for (size_t i = 0; i < r.len; i++)
		n += r.body[i] == '\0';
	if (n != h->info.vocab_size || (r.len > 0 && r.body[r.len - 1] != '\0'))
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "http: %s/v1/vocab holds %zu token texts; the model has %zu", h->url, n,
		                 h->info.vocab_size);
	if ((h->tok = malloc((n ? n : 1) * sizeof *h->tok)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "http: out of memory");
	for (size_t i = 0, at = 0; i < n; i++) {
		h->tok[i] = r.body + at;
		at += strlen(r.body + at) + 1;
	}
	h->n_tok = n;
	return BBT_OK;
}

static int http_open(const bbt_host_t *host, const struct bbt_backend_params *params,
                     void **state, struct bbt_model_info *info, char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "http: open called with a NULL argument");
	const char *url = host->opt_string(host->ctx, "url");
	if (url == NULL || url[0] == '\0')
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "http backend needs its server: -O url=http://HOST:PORT (bbtbench serve)");
	struct http *h = calloc(1, sizeof *h);
	size_t n = 1;
	for (const char *p = url; *p; p++)
		n += *p == ',';
	if (h == NULL || (h->c = calloc(n, sizeof *h->c)) == NULL) {
		free(h);
		return bbt_error(err, errlen, BBT_ENOMEM, "http: out of memory");
	}
	h->host = host;
	double t0 = now();
	int rc = n <= MAX_SERVERS ? BBT_OK
	                          : bbt_error(err, errlen, BBT_EINVAL,
	                                      "http: -O url names %zu servers; at most %d", n,
	                                      MAX_SERVERS);
	for (const char *p = url; rc == BBT_OK && h->n_c < n; p += strcspn(p, ",") + 1) {
		char one[1024];
		snprintf(one, sizeof one, "%.*s", (int)strcspn(p, ","), p);
		rc = hc_open(&h->c[h->n_c], host, "http", one, err, errlen);
		if (rc == BBT_OK)
			h->n_c++;
		size_t used = strlen(h->servers);
		if (rc == BBT_OK && used < sizeof h->servers)
			snprintf(h->servers + used, sizeof h->servers - used, "%s%s", used ? "," : "",
			         h->c[h->n_c - 1].url);
	}
	if (rc == BBT_OK)
		h->url = h->c[0].url;
	for (size_t i = 0; rc == BBT_OK && i < h->n_c; i++)
		rc = read_info(h, i, params, err, errlen);
	if (rc == BBT_OK)
		rc = read_vocab(h, err, errlen);
	h->seconds += now() - t0;
	if (rc < 0) {
		http_close(h);
		return rc;
	}
	*info = h->info;
	*state = h;
	return BBT_OK;
}

/* ---------------------------------------------------------------- */
/* tokenize, token_text, score */

static int http_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                         char *err, size_t errlen)
{
	struct http *h = state;
	if (h == NULL || text == NULL || n == NULL || (cap > 0 && ids == NULL))
		return bbt_error(err, errlen, BBT_EINVAL, "http: tokenize called with a NULL argument");
	if (h->last_text == NULL || strcmp(h->last_text, text) != 0) {
		json_t *req = json_pack("{s:s}", "text", text);
		char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
		json_decref(req);
		if (body == NULL)
			return bbt_error(err, errlen, BBT_EINVAL, "http: tokenize: the text is not UTF-8");
		struct hc_resp r = { 0 };
		double t0 = now();
		int rc = hc_request(&h->c[0], "/v1/tokenize", body, strlen(body), "application/json",
		                    NULL, &r, err, errlen);
		h->seconds += now() - t0;
		free(body);
		json_t *j = rc == BBT_OK ? json_loadb(r.body ? r.body : "", r.len, 0, NULL) : NULL;
		free(r.body);
		if (rc < 0)
			return rc;
		json_t *a = json_object_get(j, "ids");
		size_t len = json_array_size(a);
		int32_t *v = malloc((len ? len : 1) * sizeof *v);
		char *t = strdup(text);
		if (!json_is_array(a) || v == NULL || t == NULL) {
			json_decref(j);
			free(v);
			free(t);
			return v && t ? bbt_error(err, errlen, BBT_EFORMAT, "http: tokenize: no \"ids\" array")
			                   : bbt_error(err, errlen, BBT_ENOMEM, "http: out of memory");
		}
		for (size_t i = 0; i < len; i++)
			v[i] = (int32_t)json_integer_value(json_array_get(a, i));
		json_decref(j);
		free(h->last_text);
		free(h->last_ids);
		h->last_text = t;
		h->last_ids = v;
		h->last_n = len;
	}
	*n = h->last_n;
	if (cap > 0)
		memcpy(ids, h->last_ids, (cap < h->last_n ? cap : h->last_n) * sizeof *ids);
	return BBT_OK;
}

static const char *http_token_text(void *state, int32_t id)
{
	const struct http *h = state;
	if (h == NULL || id < 0 || (size_t)id >= h->n_tok)
		return NULL;
	return h->tok[id];
}

/* A JSON array of n ints or size_t's, each minus base (offsets rebased to 0). */
static json_t *ints(const void *v, size_t n, int is_size, size_t base)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_int_t x = is_size ? (json_int_t)(((const size_t *)v)[i] - base)
		                       : ((const int32_t *)v)[i];
		if (json_array_append_new(a, json_integer(x)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* One request: variants [v0, v1) of a score call, to one server. */
struct part {
	struct http *h;
	struct hc *c;
	const struct bbt_batch *b;
	const float *prompts;      /* the call's, all variants; NULL: none */
	size_t v0, v1;
	float *logits;             /* the call's, all variants */
	int rc;
	char err[1024];
};

static int score_part(struct part *pt)
{
	struct http *h = pt->h;
	const struct bbt_batch *b = pt->b;
	char *err = pt->err;
	size_t errlen = sizeof pt->err, nv = pt->v1 - pt->v0;
	int with_prompts = pt->prompts != NULL && b->prompt_len > 0;
	/* the batch's offsets index b->ids and need not start at 0; the
	 * protocol's do: send ids[offset[0] .. offset[n_seq]) */
	size_t first = b->offset[0], n_ids = b->offset[b->n_seq] - first;
	json_t *meta = json_pack("{s:I, s:I, s:I, s:b, s:I, s:o, s:o, s:o, s:o, s:o}",
	                         "n_variants", (json_int_t)nv,
	                         "prompt_len", (json_int_t)b->prompt_len,
	                         "prompt_layers", (json_int_t)b->prompt_layers,
	                         "prompts", with_prompts,
	                         "hidden", (json_int_t)h->info.hidden,
	                         "label_ids", ints(b->label_ids, b->n_labels, 0, 0),
	                         "ids", ints(b->ids + first, n_ids, 0, 0),
	                         "offset", ints(b->offset, b->n_seq + 1, 1, first),
	                         "predict_pos", ints(b->predict_pos, b->n_seq, 1, 0),
	                         "prompt_pos", ints(b->prompt_pos, b->n_seq, 1, 0));
	char *js = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (js == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "http: out of memory");
	size_t J = strlen(js);
	size_t per = b->prompt_layers * b->prompt_len * h->info.hidden;   /* floats a variant */
	size_t nf = with_prompts ? nv * per : 0;
	size_t len = 4 + J + 4 * nf;
	unsigned char *body = malloc(len);
	if (body == NULL) {
		free(js);
		return bbt_error(err, errlen, BBT_ENOMEM, "http: out of memory");
	}
	body[0] = (unsigned char)J, body[1] = (unsigned char)(J >> 8);
	body[2] = (unsigned char)(J >> 16), body[3] = (unsigned char)(J >> 24);
	memcpy(body + 4, js, J);
	free(js);
	if (nf > 0)
		bbt_le_put_f32(body + 4 + J, pt->prompts + pt->v0 * per, nf);

	char key[64];
	hc_next_key(pt->c, key, sizeof key);
	struct hc_resp r = { 0 };
	int rc = hc_request(pt->c, "/v1/score", body, len, "application/octet-stream", key, &r, err,
	                    errlen);
	free(body);
	size_t want = nv * b->n_seq * b->n_labels;
	if (rc == BBT_OK && (r.len != 4 * want || r.counts[0] != (long long)nv ||
	                     r.counts[1] != (long long)b->n_seq || r.counts[2] != (long long)b->n_labels))
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "http: %s/v1/score answered %zu bytes for %lld x %lld x %lld logits; "
		               "expected %zu x %zu x %zu", pt->c->url, r.len, r.counts[0], r.counts[1],
		               r.counts[2], nv, b->n_seq, b->n_labels);
	if (rc == BBT_OK)
		bbt_le_get_f32(pt->logits + pt->v0 * b->n_seq * b->n_labels, r.body, want);
	free(r.body);
	return rc;
}

static void *part_thread(void *arg)
{
	struct part *pt = arg;
	pt->rc = score_part(pt);
	return NULL;
}

static int http_score(void *state, const struct bbt_batch *b, const float *prompts,
                      size_t n_variants, float *logits, char *err, size_t errlen)
{
	struct http *h = state;
	if (h == NULL || b == NULL || logits == NULL || n_variants == 0 ||
	    (b->n_seq > 0 && (b->ids == NULL || b->offset == NULL)))
		return bbt_error(err, errlen, BBT_EINVAL, "http: score called with a NULL argument");
	/* k contiguous runs of variants, the j-th to server j: the same split
	 * for the same call, whatever the servers' speeds */
	size_t k = h->n_c < n_variants ? h->n_c : n_variants;
	struct part pts[MAX_SERVERS];
	pthread_t tid[MAX_SERVERS];
	int started[MAX_SERVERS] = { 0 };
	for (size_t j = 0; j < k; j++)
		pts[j] = (struct part){ .h = h, .c = &h->c[j], .b = b, .prompts = prompts,
			                .v0 = j * n_variants / k, .v1 = (j + 1) * n_variants / k,
			                .logits = logits };
	double t0 = now();
	for (size_t j = 1; j < k; j++)   /* the others at once; the first in this thread */
		started[j] = pthread_create(&tid[j], NULL, part_thread, &pts[j]) == 0;
	for (size_t j = 0; j < k; j++)
		if (!started[j])
			part_thread(&pts[j]);
	for (size_t j = 1; j < k; j++)
		if (started[j])
			pthread_join(tid[j], NULL);
	h->seconds += now() - t0;
	for (size_t j = 0; j < k; j++)
		if (pts[j].rc < 0)
			return bbt_error(err, errlen, pts[j].rc, "%s", pts[j].err);
	return BBT_OK;
}

static int http_transport(void *state, struct bbt_backend_transport *t)
{
	const struct http *h = state;
	if (h == NULL || t == NULL)
		return BBT_EINVAL;
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < h->n_c; i++)
		hc_totals(&h->c[i], t);
	t->seconds = h->seconds;
	snprintf(t->server, sizeof t->server, "%s", h->servers);
	snprintf(t->model, sizeof t->model, "%s", h->file);
	snprintf(t->model_sha256, sizeof t->model_sha256, "%s", h->sha);
	return BBT_OK;
}

static const struct bbt_backend_ops ops = {
	.open = http_open,
	.tokenize = http_tokenize,
	.token_text = http_token_text,
	.score = http_score,
	.close = http_close,
	.gradient = NULL,   /* black box: the server gives no gradients */
	.transport = http_transport,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "http",
	.version = "0.1",
	.description = "a model behind `bbtbench serve`, over HTTP (doc/protocol.md), with retries",
	.options = options,
	.backend = &ops,
};
