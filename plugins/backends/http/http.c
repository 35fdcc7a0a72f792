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
 * sent and received and the mean latency.
 *
 * A plugin sees only the public headers: this file includes nothing of the
 * host's.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

static const struct bbt_option_spec options[] = {
	{ "url", BBT_OPT_STRING, NULL, NULL, 0, 0,
	  "the server (bbtbench serve): http://HOST:PORT" },
	{ "token_file", BBT_OPT_STRING, NULL, NULL, 0, 0,
	  "a file whose first token is sent as Authorization: Bearer" },
	{ "timeout", BBT_OPT_DOUBLE, "600", NULL, 0.1, 86400, "seconds one request may take" },
	{ "connect_timeout", BBT_OPT_DOUBLE, "10", NULL, 0.1, 3600, "seconds to connect" },
	{ "retries", BBT_OPT_INT, "8", NULL, 0, 1000,
	  "times a call is sent again after a 5xx or a transport error" },
	{ "backoff", BBT_OPT_DOUBLE, "0.1", NULL, 0, 60,
	  "seconds before the first retry; doubled each time, at most 10" },
	{ 0 },
};

/* One line into the caller's buffer (plugins do not call the host's). */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

struct http {
	const bbt_host_t *host;
	CURL *curl;
	char *url;                 /* without a trailing '/' */
	char *auth;                /* "Authorization: Bearer ..." or NULL */
	double backoff;
	long retries;
	struct bbt_model_info info;
	char model[512];           /* the server's model: file and sha256, for the log */
	char **tok;                /* token texts, into vocab */
	char *vocab;
	size_t n_tok;
	char key_prefix[40];
	unsigned long long seq;    /* calls made, for the idempotency keys */
	char *last_text;           /* tokenize's last answer (the host asks twice) */
	int32_t *last_ids;
	size_t last_n;
	/* accounting */
	unsigned long long calls, retried, sent, received;
	double seconds;
};

/* ---------------------------------------------------------------- */
/* One request, with retries */

struct resp {
	char *body;
	size_t len, cap;
	long status;
	double retry_after;     /* seconds, -1 if none */
	long long counts[4];    /* X-BBT-Variants, -Sequences, -Labels, -Tokens-Scored */
};

#define RESP_MAX ((size_t)1 << 31)

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t n = size * nmemb;
	if (r->len + n + 1 > RESP_MAX)
		return 0;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *b = realloc(r->body, cap);
		if (b == NULL)
			return 0;
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t n = size * nmemb;
	static const char *const names[4] = { "X-BBT-Variants:", "X-BBT-Sequences:", "X-BBT-Labels:",
		                               "X-BBT-Tokens-Scored:" };
	char line[256];
	snprintf(line, sizeof line, "%.*s", (int)(n < 255 ? n : 255), data);
	if (strncasecmp(line, "Retry-After:", 12) == 0)
		r->retry_after = atof(line + 12);
	for (int i = 0; i < 4; i++)
		if (strncasecmp(line, names[i], strlen(names[i])) == 0)
			r->counts[i] = atoll(line + strlen(names[i]));
	return n;
}

static void resp_reset(struct resp *r)
{
	r->len = 0;
	r->status = 0;
	r->retry_after = -1;
	for (int i = 0; i < 4; i++)
		r->counts[i] = -1;
	if (r->body)
		r->body[0] = '\0';
}

/* The server's one-line reason from an error body {"error": "..."}. */
static void server_reason(const struct resp *r, char *out, size_t outlen)
{
	json_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	const char *e = json_string_value(json_object_get(j, "error"));
	if (e != NULL)
		snprintf(out, outlen, "%s", e);
	else
		snprintf(out, outlen, "%.*s", (int)(r->len < 200 ? r->len : 200),
		         r->body ? r->body : "");
	json_decref(j);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
}

static void pause_for(double seconds)
{
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* GET (body NULL) or POST path; 200 fills r, anything else is an error
 * after the retries (BBT_EIO: unreachable or 5xx; BBT_EINVAL: 4xx). */
static int request(struct http *h, const char *path, const void *body, size_t len,
                   const char *ctype, const char *key, struct resp *r, char *err, size_t errlen)
{
	char url[1024], hdr[256];
	snprintf(url, sizeof url, "%s%s", h->url, path);
	struct curl_slist *hl = NULL, *t;
	if (h->auth && (t = curl_slist_append(hl, h->auth)) != NULL)
		hl = t;
	if ((t = curl_slist_append(hl, "Expect:")) != NULL)   /* no 100-continue round trip */
		hl = t;
	if (ctype) {
		snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
		if ((t = curl_slist_append(hl, hdr)) != NULL)
			hl = t;
	}
	if (key) {
		snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
		if ((t = curl_slist_append(hl, hdr)) != NULL)
			hl = t;
	}
	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);

	int rc = BBT_EIO;
	char why[512] = "";
	for (long attempt = 0;; attempt++) {
		resp_reset(r);
		CURLcode cc = curl_easy_perform(c);
		curl_off_t up = 0, down = 0, us = 0;
		long reqsize = 0, hdrsize = 0;
		curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
		curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
		curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize);
		curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &hdrsize);
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us);
		h->sent += (unsigned long long)up + (unsigned long long)reqsize;
		h->received += (unsigned long long)down + (unsigned long long)hdrsize;
		h->seconds += (double)us / 1e6;
		int retry;
		if (cc != CURLE_OK) {
			snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
			retry = cc != CURLE_WRITE_ERROR && cc != CURLE_OUT_OF_MEMORY &&
			        cc != CURLE_URL_MALFORMAT && cc != CURLE_UNSUPPORTED_PROTOCOL;
		} else {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
			if (r->status == 200) {
				rc = BBT_OK;
				break;
			}
			char reason[300];
			server_reason(r, reason, sizeof reason);
			snprintf(why, sizeof why, "%ld %s", r->status, reason);
			retry = r->status == 500 || r->status == 502 || r->status == 503 ||
			        r->status == 504;
			if (!retry) {
				rc = r->status == 401 || r->status == 403 ? BBT_EINVAL
				     : r->status == 404                   ? BBT_ENOTSUP
				                                          : BBT_EINVAL;
			}
		}
		if (!retry || attempt >= h->retries)
			break;
		double wait = h->backoff * (double)(1L << (attempt < 20 ? attempt : 20));
		if (wait > 10)
			wait = 10;
		if (r->retry_after >= 0 && r->retry_after <= 60 && r->retry_after > wait)
			wait = r->retry_after;
		h->retried++;
		if (h->host && h->host->log)
			h->host->log(h->host->ctx, BBT_LOG_WARNING, "%s %s: %s; retry %ld of %ld in %.2g s",
			             body ? "POST" : "GET", path, why, attempt + 1, h->retries, wait);
		pause_for(wait);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	if (rc < 0)
		return fail(err, errlen, rc, "http: %s %s%s: %s", body ? "POST" : "GET", h->url, path,
		            why);
	return BBT_OK;
}

/* ---------------------------------------------------------------- */
/* open / close */

static void http_close(void *state)
{
	struct http *h = state;
	if (h == NULL)
		return;
	if (h->calls > 0 && h->host && h->host->log)
		h->host->log(h->host->ctx, BBT_LOG_INFO,
		             "%s: %llu requests (%llu retried), %.1f kB sent, %.1f kB received, "
		             "%.3f ms per request", h->url, h->calls, h->retried, (double)h->sent / 1e3,
		             (double)h->received / 1e3, 1e3 * h->seconds / (double)h->calls);
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->auth) {
		memset(h->auth, 0, strlen(h->auth));
		free(h->auth);
	}
	free(h->url);
	free(h->tok);
	free(h->vocab);
	free(h->last_text);
	free(h->last_ids);
	free(h);
	curl_global_cleanup();
}

static int read_token(struct http *h, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return fail(err, errlen, BBT_EIO, "http: token_file %s: %s", path, strerror(errno));
	char line[4096];
	int rc = fail(err, errlen, BBT_EINVAL, "http: token_file %s holds no token", path);
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t\r\n");
		if (n == 0 || *p == '#')
			continue;
		p[n] = '\0';
		size_t len = strlen("Authorization: Bearer ") + n + 1;
		if ((h->auth = malloc(len)) == NULL) {
			rc = fail(err, errlen, BBT_ENOMEM, "http: out of memory");
			break;
		}
		snprintf(h->auth, len, "Authorization: Bearer %s", p);
		rc = BBT_OK;
		break;
	}
	memset(line, 0, sizeof line);
	fclose(f);
	return rc;
}

static long long jint(json_t *j, const char *key, long long def)
{
	json_t *v = json_object_get(j, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

static int read_info(struct http *h, const struct bbt_backend_params *params, char *err,
                     size_t errlen)
{
	struct resp r = { 0 };
	int rc = request(h, "/v1/info", NULL, 0, NULL, NULL, &r, err, errlen);
	json_error_t jerr;
	json_t *j = rc == BBT_OK ? json_loadb(r.body ? r.body : "", r.len, 0, &jerr) : NULL;
	free(r.body);
	if (rc < 0)
		return rc;
	if (j == NULL)
		return fail(err, errlen, BBT_EFORMAT, "http: %s/v1/info: %s", h->url, jerr.text);
	struct bbt_model_info *in = &h->info;
	long long proto = jint(j, "protocol", -1);
	json_t *mean = json_object_get(j, "embed_mean"), *sd = json_object_get(j, "embed_std");
	const char *arch = json_string_value(json_object_get(j, "arch"));
	if (proto != 1)
		rc = fail(err, errlen, BBT_EABI,
		          "http: %s speaks protocol %lld; this backend speaks 1", h->url, proto);
	else if (arch == NULL || jint(j, "hidden", 0) <= 0 || jint(j, "max_len", 0) <= 0 ||
	         !json_is_number(mean) || !json_is_number(sd))
		rc = fail(err, errlen, BBT_EFORMAT, "http: %s/v1/info lacks the model's facts", h->url);
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
		snprintf(h->model, sizeof h->model, "%s%s%.16s%s", file ? file : "(no model file)",
		         sha ? " (sha256 " : "", sha ? sha : "", sha ? "...)" : "");
		long long maxp = jint(json_object_get(j, "limits"), "max_prompt_len", -1);
		if (maxp >= 0 && params->prompt_len > (size_t)maxp)
			rc = fail(err, errlen, BBT_EINVAL,
			          "http: --prompt-len %zu; %s takes at most %lld", params->prompt_len,
			          h->url, maxp);
		if (h->host && h->host->log)
			h->host->log(h->host->ctx, BBT_LOG_INFO, "%s: backend %s, %s: %s, hidden %zu, "
			             "vocabulary %zu", h->url,
			             backend ? backend : "?", h->model,
			             in->arch, in->hidden, in->vocab_size);
	}
	json_decref(j);
	return rc;
}

static int read_vocab(struct http *h, char *err, size_t errlen)
{
	struct resp r = { 0 };
	int rc = request(h, "/v1/vocab", NULL, 0, NULL, NULL, &r, err, errlen);
	if (rc < 0) {
		free(r.body);
		return rc;
	}
	h->vocab = r.body;
	size_t n = 0;
	for (size_t i = 0; i < r.len; i++)
		n += r.body[i] == '\0';
	if (n != h->info.vocab_size || (r.len > 0 && r.body[r.len - 1] != '\0'))
		return fail(err, errlen, BBT_EFORMAT,
		            "http: %s/v1/vocab holds %zu token texts; the model has %zu", h->url, n,
		            h->info.vocab_size);
	if ((h->tok = malloc((n ? n : 1) * sizeof *h->tok)) == NULL)
		return fail(err, errlen, BBT_ENOMEM, "http: out of memory");
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
		return fail(err, errlen, BBT_EINVAL, "http: open called with a NULL argument");
	const char *url = host->opt_string(host->ctx, "url");
	if (url == NULL || url[0] == '\0')
		return fail(err, errlen, BBT_EINVAL,
		            "http backend needs its server: -O url=http://HOST:PORT (bbtbench serve)");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return fail(err, errlen, BBT_EINVAL, "http: url %s: expected http://HOST:PORT", url);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return fail(err, errlen, BBT_EINTERNAL, "http: libcurl cannot start");
	struct http *h = calloc(1, sizeof *h);
	if (h == NULL) {
		curl_global_cleanup();
		return fail(err, errlen, BBT_ENOMEM, "http: out of memory");
	}
	h->host = host;
	h->retries = host->opt_int(host->ctx, "retries");
	h->backoff = host->opt_double(host->ctx, "backoff");
	int rc = BBT_OK;
	if ((h->url = strdup(url)) == NULL || (h->curl = curl_easy_init()) == NULL)
		rc = fail(err, errlen, BBT_ENOMEM, "http: out of memory");
	size_t ul = h->url ? strlen(h->url) : 0;
	while (ul > 0 && h->url[ul - 1] == '/')
		h->url[--ul] = '\0';
	const char *tf = host->opt_string(host->ctx, "token_file");
	if (rc == BBT_OK && tf != NULL && tf[0] != '\0')
		rc = read_token(h, tf, err, errlen);
	if (rc == BBT_OK) {
		curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS,
		                 (long)(1e3 * host->opt_double(host->ctx, "timeout")));
		curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
		                 (long)(1e3 * host->opt_double(host->ctx, "connect_timeout")));
		curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
		rc = read_info(h, params, err, errlen);
	}
	if (rc == BBT_OK)
		rc = read_vocab(h, err, errlen);
	if (rc < 0) {
		http_close(h);
		return rc;
	}
	/* the idempotency keys: a random prefix per process, then a counter */
	unsigned char rnd[12] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
		unsigned long long x = (unsigned long long)getpid() ^ (unsigned long long)time(NULL) << 20 ^
		                       (unsigned long long)(size_t)h;
		memcpy(rnd, &x, sizeof x);
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(h->key_prefix + 2 * i, 3, "%02x", rnd[i]);
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
		return fail(err, errlen, BBT_EINVAL, "http: tokenize called with a NULL argument");
	if (h->last_text == NULL || strcmp(h->last_text, text) != 0) {
		json_t *req = json_pack("{s:s}", "text", text);
		char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
		json_decref(req);
		if (body == NULL)
			return fail(err, errlen, BBT_EINVAL, "http: tokenize: the text is not UTF-8");
		struct resp r = { 0 };
		h->calls++;
		int rc = request(h, "/v1/tokenize", body, strlen(body), "application/json", NULL, &r,
		                 err, errlen);
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
			return v && t ? fail(err, errlen, BBT_EFORMAT, "http: tokenize: no \"ids\" array")
			              : fail(err, errlen, BBT_ENOMEM, "http: out of memory");
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

static void put_le_f32(unsigned char *d, const float *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &src[i], 4);
		d[4 * i] = (unsigned char)u;
		d[4 * i + 1] = (unsigned char)(u >> 8);
		d[4 * i + 2] = (unsigned char)(u >> 16);
		d[4 * i + 3] = (unsigned char)(u >> 24);
	}
}

static int http_score(void *state, const struct bbt_batch *b, const float *prompts,
                      size_t n_variants, float *logits, char *err, size_t errlen)
{
	struct http *h = state;
	if (h == NULL || b == NULL || logits == NULL || n_variants == 0 ||
	    (b->n_seq > 0 && (b->ids == NULL || b->offset == NULL)))
		return fail(err, errlen, BBT_EINVAL, "http: score called with a NULL argument");
	int with_prompts = prompts != NULL && b->prompt_len > 0;
	/* the batch's offsets index b->ids and need not start at 0; the
	 * protocol's do: send ids[offset[0] .. offset[n_seq]) */
	size_t first = b->offset[0], n_ids = b->offset[b->n_seq] - first;
	json_t *meta = json_pack("{s:I, s:I, s:I, s:b, s:I, s:o, s:o, s:o, s:o, s:o}",
	                         "n_variants", (json_int_t)n_variants,
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
		return fail(err, errlen, BBT_ENOMEM, "http: out of memory");
	size_t J = strlen(js);
	size_t nf = with_prompts ? n_variants * b->prompt_layers * b->prompt_len * h->info.hidden : 0;
	size_t len = 4 + J + 4 * nf;
	unsigned char *body = malloc(len);
	if (body == NULL) {
		free(js);
		return fail(err, errlen, BBT_ENOMEM, "http: out of memory");
	}
	body[0] = (unsigned char)J, body[1] = (unsigned char)(J >> 8);
	body[2] = (unsigned char)(J >> 16), body[3] = (unsigned char)(J >> 24);
	memcpy(body + 4, js, J);
	free(js);
	if (nf > 0)
		put_le_f32(body + 4 + J, prompts, nf);

	char key[64];
	snprintf(key, sizeof key, "%s-%llu", h->key_prefix, ++h->seq);
	struct resp r = { 0 };
	h->calls++;
	int rc = request(h, "/v1/score", body, len, "application/octet-stream", key, &r, err,
	                 errlen);
	free(body);
	size_t want = n_variants * b->n_seq * b->n_labels;
	if (rc == BBT_OK && (r.len != 4 * want || r.counts[0] != (long long)n_variants ||
	                     r.counts[1] != (long long)b->n_seq || r.counts[2] != (long long)b->n_labels))
		rc = fail(err, errlen, BBT_EFORMAT,
		          "http: %s/v1/score answered %zu bytes for %lld x %lld x %lld logits; "
		          "expected %zu x %zu x %zu", h->url, r.len, r.counts[0], r.counts[1],
		          r.counts[2], n_variants, b->n_seq, b->n_labels);
	if (rc == BBT_OK) {
		const unsigned char *s = (const unsigned char *)r.body;
		for (size_t i = 0; i < want; i++) {
			uint32_t u = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 |
			             (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24;
			memcpy(&logits[i], &u, 4);
		}
	}
	free(r.body);
	return rc;
}

static const struct bbt_backend_ops ops = {
	.open = http_open,
	.tokenize = http_tokenize,
	.token_text = http_token_text,
	.score = http_score,
	.close = http_close,
	.gradient = NULL,   /* black box: the server gives no gradients */
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
