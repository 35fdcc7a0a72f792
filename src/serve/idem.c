/*
 * idem.c - the idempotency cache: a FIFO of entries under one mutex; the
 * cache is small (--idem-cache entries), so lookups are a linear scan.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "serve/idem.h"

struct entry {
	struct entry *next;        /* newer */
	size_t client;
	char *key;
	uint64_t hash;
	int pending;               /* begun, not done yet */
	struct bbt_idem_resp resp;
};

struct bbt_idem {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t max_entries, max_bytes, n, bytes;
	struct entry *oldest, *newest;
	unsigned long long replays;
};

bbt_idem_t *bbt_idem_alloc(size_t max_entries, size_t max_bytes)
{
	bbt_idem_t *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	return c;
}

void bbt_idem_resp_release(struct bbt_idem_resp *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static void entry_free(struct entry *e)
{
	bbt_idem_resp_release(&e->resp);
	free(e->key);
	free(e);
}

void bbt_idem_free(bbt_idem_t *c)
{
	if (c == NULL)
		return;
	for (struct entry *e = c->oldest, *next; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct entry *find(bbt_idem_t *c, size_t client, const char *key, struct entry **prev)
{
	struct entry *p = NULL;
	for (struct entry *e = c->oldest; e != NULL; p = e, e = e->next)
		if (e->client == client && strcmp(e->key, key) == 0) {
			if (prev)
				*prev = p;
			return e;
		}
	return NULL;
}

static void unlink_entry(bbt_idem_t *c, struct entry *e, struct entry *prev)
{
	if (prev)
		prev->next = e->next;
	else
		c->oldest = e->next;
	if (c->newest == e)
		c->newest = prev;
	c->n--;
	c->bytes -= e->resp.len;
}

/* Drop the oldest finished entries while over a bound. */
static void evict(bbt_idem_t *c)
{
	struct entry *prev = NULL;
	for (struct entry *e = c->oldest, *next; e != NULL && (c->n > c->max_entries ||
	                                                        c->bytes > c->max_bytes);
	     e = next) {
		next = e->next;
		if (e->pending) {
			prev = e;
			continue;
		}
		unlink_entry(c, e, prev);
		entry_free(e);
	}
}

static int copy_resp(struct bbt_idem_resp *dst, const struct bbt_idem_resp *src)
{
	memset(dst, 0, sizeof *dst);
	dst->status = src->status;
	dst->content_type = src->content_type;
	dst->len = src->len;
	if (src->headers && (dst->headers = bbt_strdup(src->headers)) == NULL)
		return -1;
	if (src->len > 0) {
		if ((dst->body = malloc(src->len)) == NULL) {
			bbt_idem_resp_release(dst);
			return -1;
		}
		memcpy(dst->body, src->body, src->len);
	}
	return 0;
}

int bbt_idem_begin(bbt_idem_t *c, size_t client, const char *key, uint64_t hash,
                   struct bbt_idem_resp *out)
{
	memset(out, 0, sizeof *out);
	if (c == NULL || c->max_entries == 0 || key == NULL)
		return BBT_IDEM_NEW;
	pthread_mutex_lock(&c->mu);
	int rc;
	for (;;) {
		struct entry *e = find(c, client, key, NULL);
		if (e != NULL && e->hash != hash) {
			rc = BBT_IDEM_CONFLICT;
			break;
		}
		if (e != NULL && e->pending) {
			pthread_cond_wait(&c->cv, &c->mu);
			continue;
		}
		if (e != NULL) {
			rc = copy_resp(out, &e->resp) == 0 ? BBT_IDEM_REPLAY : BBT_IDEM_NEW;
			if (rc == BBT_IDEM_REPLAY)
				c->replays++;
			break;
		}
		rc = BBT_IDEM_NEW;
		e = calloc(1, sizeof *e);
		if (e == NULL || (e->key = bbt_strdup(key)) == NULL) {
			free(e);
			break;   /* not remembered: the work is done, just not cached */
		}
		e->client = client;
		e->hash = hash;
		e->pending = 1;
		if (c->newest)
			c->newest->next = e;
		else
			c->oldest = e;
		c->newest = e;
		c->n++;
		evict(c);
		break;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void bbt_idem_done(bbt_idem_t *c, size_t client, const char *key, const struct bbt_idem_resp *resp)
{
	if (c == NULL || c->max_entries == 0 || key == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	struct entry *prev = NULL, *e = find(c, client, key, &prev);
	if (e != NULL && e->pending) {
		if (copy_resp(&e->resp, resp) == 0) {
			e->pending = 0;
			c->bytes += e->resp.len;
			evict(c);
		} else {
			unlink_entry(c, e, prev);
			entry_free(e);
		}
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void bbt_idem_abandon(bbt_idem_t *c, size_t client, const char *key)
{
	if (c == NULL || c->max_entries == 0 || key == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	struct entry *prev = NULL, *e = find(c, client, key, &prev);
	if (e != NULL && e->pending) {
		unlink_entry(c, e, prev);
		entry_free(e);
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

unsigned long long bbt_idem_replays(bbt_idem_t *c)
{
	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->mu);
	unsigned long long n = c->replays;
	pthread_mutex_unlock(&c->mu);
	return n;
}
