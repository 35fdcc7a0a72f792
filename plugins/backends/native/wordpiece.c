/*
 * wordpiece.c - BERT's BasicTokenizer + WordPiece (see tokenizer.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer.h"
#include "core/util.h"

#define MAX_WORD_CHARS 100

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

int32_t nat_tok_find(const struct nat_tok *t, const char *s, size_t len)
{
	size_t i = fnv1a(s, len) & t->mask;
	while (t->slots[i] != 0) {
		const char *w = t->tokens[t->slots[i] - 1];
		if (strncmp(w, s, len) == 0 && w[len] == '\0')
			return (int32_t)(t->slots[i] - 1);
		i = (i + 1) & t->mask;
	}
	return -1;
}

void nat_tok_release(struct nat_tok *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->mslots);
	free(t->scores);
	t->slots = NULL;
	t->mslots = NULL;
	t->scores = NULL;
}

int nat_tok_init_merges(struct nat_tok *t, const char *const *merges, size_t n, char *err,
                        size_t errlen)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	free(t->mslots);
	t->mslots = calloc(size, sizeof *t->mslots);
	if (t->mslots == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for %zu merges", n);
	t->merges = merges;
	t->n_merges = n;
	t->mmask = size - 1;
	for (size_t r = 0; r < n; r++) {
		size_t i = fnv1a(merges[r], strlen(merges[r])) & t->mmask;
		int dup = 0;
		while (t->mslots[i] != 0 && !(dup = strcmp(merges[t->mslots[i] - 1], merges[r]) == 0))
			i = (i + 1) & t->mmask;
		if (!dup)   /* a repeated merge keeps its first (best) rank */
			t->mslots[i] = (uint32_t)(r + 1);
	}
	return BBT_OK;
}

/* Rank of the merge "left right" (key of len bytes), or -1. */
long nat_tok_merge_rank(const struct nat_tok *t, const char *key, size_t len);
long nat_tok_merge_rank(const struct nat_tok *t, const char *key, size_t len)
{
	size_t i = fnv1a(key, len) & t->mmask;
	while (t->mslots[i] != 0) {
		const char *m = t->merges[t->mslots[i] - 1];
		if (strncmp(m, key, len) == 0 && m[len] == '\0')
			return (long)t->mslots[i] - 1;
		i = (i + 1) & t->mmask;
	}
	return -1;
}

int nat_tok_init(struct nat_tok *t, enum nat_tok_kind kind, const char *const *tokens, size_t n,
                 char *err, size_t errlen)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	t->kind = kind;
	t->tokens = tokens;
	t->n = n;
	t->mask = size - 1;
	t->slots = calloc(size, sizeof *t->slots);
	if (t->slots == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for a vocabulary of %zu", n);
	for (size_t id = 0; id < n; id++) {
		size_t len = strlen(tokens[id]);
		/* HF's vocab loader keeps the last id of a duplicate; so do we by
		 * overwriting, which needs the slot of the earlier one. */
		size_t i = fnv1a(tokens[id], len) & t->mask;
		while (t->slots[i] != 0 && strcmp(tokens[t->slots[i] - 1], tokens[id]) != 0)
			i = (i + 1) & t->mask;
		t->slots[i] = (uint32_t)(id + 1);
	}
	t->lower = 1;
	t->strip_accents = 1;
	t->unk_id = -1;
	t->lstrip_id = -1;
	return BBT_OK;
}

/* ------------------------------------------------------------------ */

struct cps {
	int32_t *v;
	size_t n, cap;
};

static int cps_push(struct cps *c, int32_t cp)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		int32_t *v = realloc(c->v, cap * sizeof *v);
		if (v == NULL)
			return BBT_ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = cp;
	return BBT_OK;
}

static int is_control(int32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return 0;
	utf8proc_category_t c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_CN || c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF ||
	       c == UTF8PROC_CATEGORY_CS || c == UTF8PROC_CATEGORY_CO;
}

static int is_whitespace(int32_t cp)
{
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r')
		return 1;
	return cp >= 0x80 && utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

/* Where Python's str.split() splits, among what cleaning leaves. */
static int is_split_space(int32_t cp)
{
	if (cp == ' ')
		return 1;
	if (cp < 0x80)
		return 0;
	utf8proc_category_t c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

static int is_punct(int32_t cp)
{
	if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
	    (cp >= 123 && cp <= 126))
		return 1;
	if (cp < 0x80)
		return 0;
	utf8proc_category_t c = utf8proc_category(cp);
	return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

static int is_cjk(int32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
	       (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

struct out {
	int32_t *ids;
	size_t cap, n;
};

static void emit(struct out *o, int32_t id)
{
	if (o->n < o->cap)
		o->ids[o->n] = id;
	o->n++;
}

/* WordPiece of one word (codepoints w[0..n)). buf has room for "##" and
 * 4 bytes per codepoint. */
static void wordpiece(const struct nat_tok *t, const int32_t *w, size_t n, char *buf,
                      size_t *off, struct out *o)
{
	if (n > MAX_WORD_CHARS) {
		emit(o, t->unk_id);
		return;
	}
	/* UTF-8 of the word after a "##" slot; off[i] = byte offset of char i. */
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		off[i] = len;
		len += (size_t)utf8proc_encode_char(w[i], (utf8proc_uint8_t *)buf + 2 + len);
	}
	off[n] = len;
	size_t first = o->n, start = 0;
	while (start < n) {
		int32_t id = -1;
		size_t end;
		for (end = n; end > start; end--) {
			size_t b = off[start], e = off[end];
			if (start > 0) {
				/* write "##" just before the piece, in the slot that the
				 * previous byte(s) occupy: save and restore them */
				char s0 = buf[2 + b - 2 + 0], s1 = buf[2 + b - 1];
				buf[2 + b - 2] = '#';
				buf[2 + b - 1] = '#';
				id = nat_tok_find(t, buf + b, e - b + 2);
				buf[2 + b - 2] = s0;
				buf[2 + b - 1] = s1;
			} else {
				id = nat_tok_find(t, buf + 2, e);
			}
			if (id >= 0)
				break;
		}
		if (id < 0) {
			o->n = first;
			emit(o, t->unk_id);
			return;
		}
		emit(o, id);
		start = end;
	}
}

/* Lowercase, strip accents and split punctuation of one whitespace word,
 * then WordPiece each part. */
static int do_word(const struct nat_tok *t, const int32_t *w, size_t n, struct cps *tmp,
                   char **buf, size_t **off, size_t *buf_cap, struct out *o)
{
	tmp->n = 0;
	for (size_t i = 0; i < n; i++) {
		int32_t cp = w[i];
		if (t->lower)
			cp = cp < 0x80 ? (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp) : utf8proc_tolower(cp);
		if (t->strip_accents && cp >= 0x80) {
			utf8proc_int32_t d[32];
			int bound = 0;
			utf8proc_ssize_t k = utf8proc_decompose_char(cp, d, 32, UTF8PROC_DECOMPOSE, &bound);
			if (k < 0 || k > 32) {
				d[0] = cp;
				k = 1;
			}
			for (utf8proc_ssize_t j = 0; j < k; j++)
				if (utf8proc_category(d[j]) != UTF8PROC_CATEGORY_MN && cps_push(tmp, d[j]) < 0)
					return BBT_ENOMEM;
		} else if (cps_push(tmp, cp) < 0) {
			return BBT_ENOMEM;
		}
	}
	if (tmp->n + 1 > *buf_cap) {
		size_t cap = tmp->n + 1;
		char *b = realloc(*buf, 4 * cap + 8);
		size_t *f = realloc(*off, (cap + 1) * sizeof *f);
		if (b != NULL)
			*buf = b;
		if (f != NULL)
			*off = f;
		if (b == NULL || f == NULL)
			return BBT_ENOMEM;
		*buf_cap = cap;
	}
	size_t s = 0;
	for (size_t i = 0; i <= tmp->n; i++) {
		if (i == tmp->n || is_punct(tmp->v[i])) {
			if (i > s)
				wordpiece(t, tmp->v + s, i - s, *buf, *off, o);
			if (i < tmp->n)
				wordpiece(t, tmp->v + i, 1, *buf, *off, o);
			s = i + 1;
		}
	}
	return BBT_OK;
}

/* BasicTokenizer + WordPiece of text[0..len) (no special literals in it). */
static int do_segment(const struct nat_tok *t, const char *text, size_t len, struct out *o,
                      char *err, size_t errlen)
{
	struct cps c = { 0 }, tmp = { 0 };
	char *buf = NULL, *nfc_in = NULL;
	utf8proc_uint8_t *nfc = NULL;
	size_t *off = NULL, buf_cap = 0;
	int rc = BBT_OK, ascii = 1;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
	size_t i = 0;
	while (rc == BBT_OK && i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0) {
			/* invalid UTF-8: Python would have failed to decode; drop the byte */
			i++;
			continue;
		}
		i += (size_t)k;
		if (cp == 0 || cp == 0xFFFD || is_control(cp))
			continue;
		if (cp >= 0x80)
			ascii = 0;
		if (is_whitespace(cp)) {
			rc = cps_push(&c, ' ');
		} else if (is_cjk(cp)) {
			if (cps_push(&c, ' ') < 0 || cps_push(&c, cp) < 0 || cps_push(&c, ' ') < 0)
				rc = BBT_ENOMEM;
		} else {
			rc = cps_push(&c, cp);
		}
	}
	if (rc == BBT_OK && !ascii) {
		/* NFC over the cleaned text, as HF does before splitting. */
		nfc_in = malloc(4 * c.n + 1);
		if (nfc_in == NULL) {
			rc = BBT_ENOMEM;
		} else {
			size_t n = 0;
			for (size_t j = 0; j < c.n; j++)
				n += (size_t)utf8proc_encode_char(c.v[j], (utf8proc_uint8_t *)nfc_in + n);
			nfc_in[n] = '\0';
			nfc = utf8proc_NFC((const utf8proc_uint8_t *)nfc_in);
			if (nfc == NULL) {
				rc = BBT_ENOMEM;
			} else {
				c.n = 0;
				size_t nl = strlen((const char *)nfc);
				for (size_t j = 0; rc == BBT_OK && j < nl;) {
					utf8proc_int32_t cp;
					utf8proc_ssize_t k = utf8proc_iterate(nfc + j, (utf8proc_ssize_t)(nl - j), &cp);
					if (k <= 0)
						break;
					j += (size_t)k;
					rc = cps_push(&c, cp);
				}
			}
		}
	}
	size_t s = 0;
	for (size_t j = 0; rc == BBT_OK && j <= c.n; j++) {
		if (j == c.n || is_split_space(c.v[j])) {
			if (j > s)
				rc = do_word(t, c.v + s, j - s, &tmp, &buf, &off, &buf_cap, o);
			s = j + 1;
		}
	}
	free(c.v);
	free(tmp.v);
	free(buf);
	free(off);
	free(nfc_in);
	free(nfc);
	if (rc == BBT_ENOMEM)
		return bbt_error(err, errlen, rc, "out of memory tokenizing");
	return rc;
}

static int segment(const struct nat_tok *t, const char *text, size_t len, struct out *o,
                   char *err, size_t errlen)
{
	if (t->kind == NAT_TOK_WORDPIECE)
		return do_segment(t, text, len, o, err, errlen);
	size_t n = 0, room = o->n < o->cap ? o->cap - o->n : 0;
	int rc = t->kind == NAT_TOK_SPM
	         ? nat_spm_segment(t, text, len, room ? o->ids + o->n : NULL, room, &n, err, errlen)
	         : nat_bpe_segment(t, text, len, room ? o->ids + o->n : NULL, room, &n, err, errlen);
	if (rc == BBT_OK)
		o->n += n;
	return rc;
}

int nat_tok_encode(const struct nat_tok *t, const char *text, int32_t *ids, size_t cap, size_t *n,
                   char *err, size_t errlen)
{
	struct out o = { ids, cap, 0 };
	size_t len = strlen(text), seg = 0, i = 0;
	while (i < len) {
		size_t hit = 0;
		int32_t sid = -1;
		if (text[i] == '[' || text[i] == '<') {
			for (size_t k = 0; k < t->n_special; k++) {
				const char *s = t->tokens[t->special[k]];
				size_t sl = strlen(s);
				if (sl > 0 && strncmp(text + i, s, sl) == 0) {
					hit = sl;
					sid = t->special[k];
					break;
				}
			}
		}
		if (hit == 0) {
			i++;
			continue;
		}
		size_t end = i;
		if (sid == t->lstrip_id)
			while (end > seg && (text[end - 1] == ' ' || text[end - 1] == '\t' ||
			                     text[end - 1] == '\n' || text[end - 1] == '\r'))
				end--;
		int rc = segment(t, text + seg, end - seg, &o, err, errlen);
		if (rc < 0)
			return rc;
		emit(&o, sid);
		i += hit;
		seg = i;
	}
	int rc = segment(t, text + seg, len - seg, &o, err, errlen);
	if (rc < 0)
		return rc;
	*n = o.n;
	return BBT_OK;
}
