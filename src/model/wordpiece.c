/*
 * wordpiece.c - BERT's BasicTokenizer + WordPiece of one segment without
 * special literals (see <bbtbench/model/tokenizer.h>); tokenizer.c splits
 * off the literals and calls it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include <bbtbench/model/tokenizer.h>
#include "tokenizers.h"

#define MAX_WORD_CHARS 100

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

/* WordPiece of one word (codepoints w[0..n)). buf has room for "##" and
 * 4 bytes per codepoint. */
static void wordpiece(const struct bbt_tok *t, const int32_t *w, size_t n, char *buf,
                      size_t *off, struct mdl_out *o)
{
	if (n > MAX_WORD_CHARS) {
		mdl_emit(o, t->unk_id);
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
				id = bbt_tok_find(t, buf + b, e - b + 2);
				buf[2 + b - 2] = s0;
				buf[2 + b - 1] = s1;
			} else {
				id = bbt_tok_find(t, buf + 2, e);
			}
			if (id >= 0)
				break;
		}
		if (id < 0) {
			o->n = first;
			mdl_emit(o, t->unk_id);
			return;
		}
		mdl_emit(o, id);
		start = end;
	}
}

/* Lowercase, strip accents and split punctuation of one whitespace word,
 * then WordPiece each part. */
static int do_word(const struct bbt_tok *t, const int32_t *w, size_t n, struct cps *tmp,
                   char **buf, size_t **off, size_t *buf_cap, struct mdl_out *o)
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
static int do_segment(const struct bbt_tok *t, const char *text, size_t len, struct mdl_out *o,
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

int mdl_wordpiece_segment(const struct bbt_tok *t, const char *text, size_t len, int32_t *ids,
                          size_t cap, size_t *n, char *err, size_t errlen)
{
	struct mdl_out o = { ids, cap, 0 };
	int rc = do_segment(t, text, len, &o, err, errlen);
	*n = o.n;
	return rc;
}
