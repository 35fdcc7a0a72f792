/*
 * bbtbench/state.h - an optimizer's state as a small self-describing blob
 * (ABI 1.3, bbt_optimizer_ops.save_state / load_state), so that the host
 * can checkpoint a run after each generation and `--resume` it bit for bit.
 *
 * A blob is a sequence of records, all little-endian:
 *
 *     u8  name length (1..255), the name's bytes (no NUL)
 *     u8  type: 'f' IEEE-754 binary64, 'u' uint64, 'b' bytes
 *     u64 count of values (bytes for 'b')
 *     the values: count x 8 bytes ('f', 'u') or count bytes ('b')
 *
 * By convention the first two records are "plugin" (b: the plugin's name)
 * and "format" (u: the plugin's own layout version), written and checked
 * by bbt_state_begin / bbt_state_expect. A reader takes records in the
 * order they were written and checks each one's name, type and count, so
 * a blob of another plugin, layout or dimension is refused with one line
 * naming the field ("cmaes state: field C has 100 values, expected 2500"),
 * and a truncated one with the byte where it ends. Anyone can list a
 * blob's fields without knowing the plugin.
 *
 *     save_state(state, write, ctx, err, errlen):
 *         struct bbt_state_writer w = bbt_state_writer(write, ctx);
 *         bbt_state_begin(&w, "cmaes", 1);
 *         bbt_state_put_f64(&w, "mean", c->m, c->n);
 *         bbt_state_put_u64(&w, "countiter", &iter, 1);
 *         return bbt_state_end(&w, "cmaes", err, errlen);
 *
 *     load_state(state, bytes, len, err, errlen):
 *         struct bbt_state_reader r = bbt_state_reader(bytes, len, "cmaes", err, errlen);
 *         bbt_state_expect(&r, "cmaes", 1);
 *         bbt_state_get_f64(&r, "mean", c->m, c->n);
 *         ...
 *         return bbt_state_done(&r);    0, or the first error (already in err)
 *
 * After the first error every later get is a no-op, so a load reads its
 * fields without testing each one; it must not use what it read unless
 * bbt_state_done returns 0 (read into scratch, or into a state the host
 * frees on error: the host does the latter).
 *
 * Everything here is static inline: a plugin gets it without linking.
 */
#ifndef BBTBENCH_STATE_H
#define BBTBENCH_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <bbtbench/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a blob goes: append len bytes; 0, or a negative status. */
typedef int (*bbt_state_write_fn)(void *ctx, const void *bytes, size_t len);

struct bbt_state_writer {
	bbt_state_write_fn write;
	void *ctx;
	int rc;          /* the first failure of write, or 0 */
};

struct bbt_state_reader {
	const unsigned char *p;
	size_t len, pos;
	const char *who;   /* "cmaes state", for messages */
	char *err;
	size_t errlen;
	int rc;            /* the first error, or 0 */
};

static inline struct bbt_state_writer bbt_state_writer(bbt_state_write_fn write, void *ctx)
{
	struct bbt_state_writer w = { write, ctx, 0 };
	return w;
}

static inline void bbt_state_emit(struct bbt_state_writer *w, const void *bytes, size_t len)
{
	if (w->rc == 0 && len > 0)
		w->rc = w->write(w->ctx, bytes, len);
}

static inline void bbt_state_le64(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t bbt_state_rd64(const unsigned char *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* A record's head: name, type, count. */
static inline void bbt_state_head(struct bbt_state_writer *w, const char *name, char type,
                                  uint64_t count)
{
	size_t nl = strlen(name);
	unsigned char h[1 + 255 + 1 + 8];
	if (nl == 0 || nl > 255) {
		if (w->rc == 0)
			w->rc = BBT_EINTERNAL;
		return;
	}
	h[0] = (unsigned char)nl;
	memcpy(h + 1, name, nl);
	h[1 + nl] = (unsigned char)type;
	bbt_state_le64(h + 2 + nl, count);
	bbt_state_emit(w, h, nl + 10);
}

static inline int bbt_state_host_le(void)
{
	const uint16_t one = 1;
	unsigned char first;
	memcpy(&first, &one, 1);
	return first == 1;
}

/* n 64-bit words: as they are on a little-endian host (doubles are
 * IEEE-754 wherever bbtbench runs), else byte-swapped in chunks, so that a
 * large matrix makes few writes either way. */
static inline void bbt_state_words(struct bbt_state_writer *w, const void *v, int is_f64,
                                   size_t n)
{
	if (bbt_state_host_le()) {
		bbt_state_emit(w, v, 8 * n);
		return;
	}
	unsigned char buf[8 * 512];
	for (size_t i = 0; i < n;) {
		size_t k = n - i < 512 ? n - i : 512;
		for (size_t j = 0; j < k; j++) {
			uint64_t u;
			if (is_f64)
				memcpy(&u, (const double *)v + i + j, 8);
			else
				u = ((const uint64_t *)v)[i + j];
			bbt_state_le64(buf + 8 * j, u);
		}
		bbt_state_emit(w, buf, 8 * k);
		i += k;
	}
}

static inline void bbt_state_put_f64(struct bbt_state_writer *w, const char *name,
                                     const double *v, size_t n)
{
	bbt_state_head(w, name, 'f', n);
	bbt_state_words(w, v, 1, n);
}

static inline void bbt_state_put_u64(struct bbt_state_writer *w, const char *name,
                                     const uint64_t *v, size_t n)
{
	bbt_state_head(w, name, 'u', n);
	bbt_state_words(w, v, 0, n);
}

static inline void bbt_state_put_bytes(struct bbt_state_writer *w, const char *name,
                                       const void *bytes, size_t n)
{
	bbt_state_head(w, name, 'b', n);
	bbt_state_emit(w, bytes, n);
}

static inline void bbt_state_begin(struct bbt_state_writer *w, const char *plugin,
                                   uint64_t format)
{
	bbt_state_put_bytes(w, "plugin", plugin, strlen(plugin));
	bbt_state_put_u64(w, "format", &format, 1);
}

/* 0, or the first failure (with a message naming `who`). */
static inline int bbt_state_end(struct bbt_state_writer *w, const char *who, char *err,
                                size_t errlen)
{
	if (w->rc == BBT_EINTERNAL)
		return bbt_error(err, errlen, BBT_EINTERNAL, "%s state: a field name of 0 or over "
		                 "255 bytes", who);
	if (w->rc < 0)
		return bbt_error(err, errlen, w->rc, "%s state: cannot be written (%s)", who,
		                 bbt_status_str(w->rc));
	return BBT_OK;
}

static inline struct bbt_state_reader bbt_state_reader(const void *bytes, size_t len,
                                                       const char *who, char *err,
                                                       size_t errlen)
{
	struct bbt_state_reader r = { (const unsigned char *)bytes, len, 0, who, err, errlen, 0 };
	return r;
}

/* The next record's head, which must be `name` of `type`; its count in
 * *count, the reader at its values, which must all be there. */
static inline int bbt_state_next(struct bbt_state_reader *r, const char *name, char type,
                                 uint64_t *count)
{
	*count = 0;
	if (r->rc < 0)
		return r->rc;
	size_t at = r->pos, nl = strlen(name);
	if (at >= r->len)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: ends at byte %zu, before field %s", r->who, at, name);
	size_t fl = r->p[at];
	if (at + 1 + fl + 9 > r->len)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: truncated at byte %zu (field %s)", r->who, r->len, name);
	if (fl != nl || memcmp(r->p + at + 1, name, nl) != 0)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: field %.*s at byte %zu, expected %s", r->who, (int)fl,
		                         (const char *)r->p + at + 1, at, name);
	char t = (char)r->p[at + 1 + fl];
	uint64_t n = bbt_state_rd64(r->p + at + 2 + fl);
	if (t != type)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: field %s has type '%c', expected '%c'", r->who, name, t,
		                         type);
	size_t body = at + 10 + fl, width = type == 'b' ? 1 : 8;
	if (n > (r->len - body) / width)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: truncated at byte %zu (field %s holds %llu values)",
		                         r->who, r->len, name, (unsigned long long)n);
	r->pos = body;
	*count = n;
	return BBT_OK;
}

static inline int bbt_state_count_is(struct bbt_state_reader *r, const char *name, uint64_t n,
                                     size_t want)
{
	if (r->rc == 0 && n != want)
		r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                  "%s: field %s has %llu values, expected %zu", r->who, name,
		                  (unsigned long long)n, want);
	return r->rc;
}

/* The count of the next record `name` of `type`, without taking it: for
 * fields whose length the state does not fix (a history). */
static inline size_t bbt_state_peek(struct bbt_state_reader *r, const char *name, char type)
{
	size_t pos = r->pos;
	uint64_t n;
	if (bbt_state_next(r, name, type, &n) < 0)
		return 0;
	r->pos = pos;
	return (size_t)n;
}

static inline int bbt_state_get_words(struct bbt_state_reader *r, const char *name,
                                      void *v, int is_f64, size_t want)
{
	uint64_t n;
	if (bbt_state_next(r, name, is_f64 ? 'f' : 'u', &n) < 0 ||
	    bbt_state_count_is(r, name, n, want) < 0)
		return r->rc;
	if (bbt_state_host_le() && want > 0) {
		memcpy(v, r->p + r->pos, 8 * want);
		r->pos += 8 * want;
		return BBT_OK;
	}
	for (size_t i = 0; i < want; i++) {
		uint64_t u = bbt_state_rd64(r->p + r->pos + 8 * i);
		if (is_f64)
			memcpy((double *)v + i, &u, 8);
		else
			((uint64_t *)v)[i] = u;
	}
	r->pos += 8 * want;
	return BBT_OK;
}

static inline int bbt_state_get_f64(struct bbt_state_reader *r, const char *name, double *v,
                                    size_t n)
{
	return bbt_state_get_words(r, name, v, 1, n);
}

static inline int bbt_state_get_u64(struct bbt_state_reader *r, const char *name, uint64_t *v,
                                    size_t n)
{
	return bbt_state_get_words(r, name, v, 0, n);
}

/* A bytes field: *bytes points into the blob, *n its length. */
static inline int bbt_state_get_bytes(struct bbt_state_reader *r, const char *name,
                                      const void **bytes, size_t *n)
{
	uint64_t c;
	*bytes = NULL;
	*n = 0;
	if (bbt_state_next(r, name, 'b', &c) < 0)
		return r->rc;
	*bytes = r->p + r->pos;
	*n = (size_t)c;
	r->pos += (size_t)c;
	return BBT_OK;
}

/* The blob's "plugin" and "format" records must be these. */
static inline int bbt_state_expect(struct bbt_state_reader *r, const char *plugin,
                                   uint64_t format)
{
	const void *name;
	size_t nl;
	uint64_t f = 0;
	if (bbt_state_get_bytes(r, "plugin", &name, &nl) < 0)
		return r->rc;
	if (nl != strlen(plugin) || memcmp(name, plugin, nl) != 0)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: the state of optimizer %.*s, not %s", r->who, (int)nl,
		                         (const char *)name, plugin);
	if (bbt_state_get_u64(r, "format", &f, 1) < 0)
		return r->rc;
	if (f != format)
		return r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                         "%s: layout version %llu, this build reads %llu", r->who,
		                         (unsigned long long)f, (unsigned long long)format);
	return BBT_OK;
}

/* 0 when every record was read and nothing follows; else the first error. */
static inline int bbt_state_done(struct bbt_state_reader *r)
{
	if (r->rc == 0 && r->pos != r->len)
		r->rc = bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                  "%s: %zu bytes after the last field", r->who, r->len - r->pos);
	return r->rc;
}

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_STATE_H */
