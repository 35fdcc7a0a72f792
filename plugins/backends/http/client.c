/*
 * client.c - one server over libcurl, with retries and idempotency keys,
 * for the http and openai backends (client.h).
 */
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

#include "client.h"

#define RESP_MAX ((size_t)1 << 31)

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct hc_resp *r = ud;
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
	struct hc_resp *r = ud;
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

static void resp_reset(struct hc_resp *r)
{
	r->len = 0;
	r->status = 0;
	r->retry_after = -1;
	for (int i = 0; i < 4; i++)
		r->counts[i] = -1;
	if (r->body)
		r->body[0] = '\0';
}

void hc_reason(const struct hc_resp *r, char *out, size_t outlen)
{
	json_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	const char *s = json_is_string(e) ? json_string_value(e)
	                                  : json_string_value(json_object_get(e, "message"));
	if (s != NULL)
		snprintf(out, outlen, "%s", s);
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

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int hc_request(struct hc *h, const char *path, const void *body, size_t len, const char *ctype,
               const char *key, struct hc_resp *r, char *err, size_t errlen)
{
	double t0 = now();
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
	h->calls++;
	for (long attempt = 0;; attempt++) {
		resp_reset(r);
		CURLcode cc = curl_easy_perform(c);
		curl_off_t up = 0, down = 0;
		long reqsize = 0, hdrsize = 0;
		curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
		curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
		curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize);
		curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &hdrsize);
		h->sent += (unsigned long long)up + (unsigned long long)reqsize;
		h->received += (unsigned long long)down + (unsigned long long)hdrsize;
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
			hc_reason(r, reason, sizeof reason);
			snprintf(why, sizeof why, "%ld %s", r->status, reason);
			retry = r->status == 500 || r->status == 502 || r->status == 503 ||
			        r->status == 504;
			/* 429: a spent quota stays spent; retrying cannot help */
			if (r->status == 429)
				snprintf(why, sizeof why, "%ld %s (not retried)", r->status, reason);
			if (!retry)
				rc = r->status == 404 ? BBT_ENOTSUP : r->status == 429 ? BBT_EIO : BBT_EINVAL;
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
	h->seconds += now() - t0;
	if (rc < 0)
		return bbt_error(err, errlen, rc, "%s: %s %s%s: %s", h->who, body ? "POST" : "GET", h->url,
		                 path, why);
	return BBT_OK;
}

void hc_totals(const struct hc *h, struct bbt_backend_transport *t)
{
	t->requests += h->calls;
	t->retries += h->retried;
	t->bytes_sent += h->sent;
	t->bytes_received += h->received;
}

static int read_token(struct hc *h, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return bbt_error(err, errlen, BBT_EIO, "%s: token_file %s: %s", h->who, path,
		                 strerror(errno));
	char line[4096];
	int rc = bbt_error(err, errlen, BBT_EINVAL, "%s: token_file %s holds no token", h->who, path);
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
			rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", h->who);
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

void hc_close(struct hc *h)
{
	if (h->calls > 0 && h->host && h->host->log)
		h->host->log(h->host->ctx, BBT_LOG_INFO,
		             "%s: %llu requests (%llu retried), %.1f kB sent, %.1f kB received, "
		             "%.3f ms per request", h->url, h->calls, h->retried, (double)h->sent / 1e3,
		             (double)h->received / 1e3, 1e3 * h->seconds / (double)h->calls);
	if (h->curl) {
		curl_easy_cleanup(h->curl);
		curl_global_cleanup();
	}
	if (h->auth) {
		memset(h->auth, 0, strlen(h->auth));
		free(h->auth);
	}
	free(h->url);
	memset(h, 0, sizeof *h);
}

int hc_open(struct hc *h, const bbt_host_t *host, const char *who, const char *url, char *err,
            size_t errlen)
{
	memset(h, 0, sizeof *h);
	h->host = host;
	h->who = who;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: url %s: expected http://HOST:PORT", who,
		                 url);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return bbt_error(err, errlen, BBT_EINTERNAL, "%s: libcurl cannot start", who);
	h->retries = host->opt_int(host->ctx, "retries");
	h->backoff = host->opt_double(host->ctx, "backoff");
	int rc = BBT_OK;
	if ((h->curl = curl_easy_init()) == NULL) {
		curl_global_cleanup();
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", who);
	}
	if ((h->url = strdup(url)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", who);
	size_t ul = h->url ? strlen(h->url) : 0;
	while (ul > 0 && h->url[ul - 1] == '/')
		h->url[--ul] = '\0';
	const char *tf = host->opt_string(host->ctx, "token_file");
	if (rc == BBT_OK && tf != NULL && tf[0] != '\0')
		rc = read_token(h, tf, err, errlen);
	if (rc < 0) {
		hc_close(h);
		return rc;
	}
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS,
	                 (long)(1e3 * host->opt_double(host->ctx, "timeout")));
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(1e3 * host->opt_double(host->ctx, "connect_timeout")));
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
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
	return BBT_OK;
}

void hc_next_key(struct hc *h, char *key, size_t n)
{
	snprintf(key, n, "%s-%llu", h->key_prefix, ++h->seq);
}
