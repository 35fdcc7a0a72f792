/*
 * bpe.c - GPT-2 / RoBERTa byte-level BPE (see <bbtbench/model/tokenizer.h>).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include <bbtbench/model/tokenizer.h>
#include "tokenizers.h"

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves,
 * the other 68 bytes for U+0100 upward, in byte order. */
static int32_t byte_char(unsigned char b)
{
	if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))
		return b;
	int n = 0;
	for (int c = 0; c < b; c++)
		if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE)))
			n++;
	return 256 + n;
}

static int is_letter(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
	utf8proc_category_t c = utf8proc_category(cp);
	return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

static int is_number(int32_t cp)
{
	if (cp < 0x80)
		return cp >= '0' && cp <= '9';
	utf8proc_category_t c = utf8proc_category(cp);
	return c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO;
}

/* \s of the `regex` module GPT-2 uses. */
static int is_space(int32_t cp)
{
	if (cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85)
		return 1;
	if (cp < 0x80)
		return 0;
	utf8proc_category_t c = utf8proc_category(cp);
	return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

struct sym {
	size_t start, len;   /* bytes of the mapped word */
};

/* BPE of one pre-token's bytes; emits ids. */
static int bpe_word(const struct bbt_tok *t, const unsigned char *bytes, size_t nb, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen)
{
	/* the word in mapped characters, UTF-8 */
	char *w = malloc(2 * nb + 1), *key = malloc(4 * nb + 2);
	struct sym *s = malloc((nb ? nb : 1) * sizeof *s);
	if (w == NULL || key == NULL || s == NULL) {
		free(w);
		free(key);
		free(s);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory tokenizing");
	}
	size_t len = 0, ns = 0;
	for (size_t i = 0; i < nb; i++) {
		s[ns].start = len;
		len += (size_t)utf8proc_encode_char(byte_char(bytes[i]), (utf8proc_uint8_t *)w + len);
		s[ns].len = len - s[ns].start;
		ns++;
	}
	/* Merge the best-ranked adjacent pair until none is in the table. */
	while (ns > 1) {
		long best = -1;
		size_t at = 0;
		for (size_t i = 0; i + 1 < ns; i++) {
			size_t kl = s[i].len + 1 + s[i + 1].len;
			memcpy(key, w + s[i].start, s[i].len);
			key[s[i].len] = ' ';
			memcpy(key + s[i].len + 1, w + s[i + 1].start, s[i + 1].len);
			long r = mdl_merge_rank(t, key, kl);
			if (r >= 0 && (best < 0 || r < best)) {
				best = r;
				at = i;
			}
		}
		if (best < 0)
			break;
		/* symbols are contiguous in w: merging is extending the left one */
		s[at].len += s[at + 1].len;
		memmove(s + at + 1, s + at + 2, (ns - at - 2) * sizeof *s);
		ns--;
	}
	int rc = BBT_OK;
	for (size_t i = 0; i < ns; i++) {
		int32_t id = bbt_tok_find(t, w + s[i].start, s[i].len);
		if (id < 0)
			id = t->unk_id;
		if (id < 0) {
			rc = bbt_error(err, errlen, BBT_EFORMAT,
			               "BPE piece \"%.*s\" is not in the vocabulary, which has no unknown token",
			               (int)s[i].len, w + s[i].start);
			break;
		}
		if (*n < cap)
			ids[*n] = id;
		(*n)++;
	}
	free(w);
	free(key);
	free(s);
	return rc;
}

static const char *const contractions[] = { "'s", "'t", "'re", "'ve", "'m", "'ll", "'d" };

int mdl_bpe_segment(const struct bbt_tok *t, const char *text, size_t len, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen)
{
	/* decode once: cp[k] starts at byte off[k] */
	int32_t *cp = malloc((len + 1) * sizeof *cp);
	size_t *off = malloc((len + 1) * sizeof *off), nc = 0;
	if (cp == NULL || off == NULL) {
		free(cp);
		free(off);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory tokenizing");
	}
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
		if (k <= 0) {
			c = 0xFFFD;   /* an invalid byte: one "other" character, its byte kept */
			k = 1;
		}
		off[nc] = i;
		cp[nc++] = c;
		i += (size_t)k;
	}
	off[nc] = len;
	*n = 0;
	int rc = BBT_OK;
	size_t i = 0;
	while (rc == BBT_OK && i < nc) {
		size_t j = i;
		/* 's 't 're 've 'm 'll 'd */
		if (cp[i] == '\'') {
			for (size_t c = 0; c < sizeof contractions / sizeof contractions[0]; c++) {
				size_t cl = strlen(contractions[c]);
				if (off[i] + cl <= len && strncmp(text + off[i], contractions[c], cl) == 0) {
					j = i + cl;   /* all ASCII: one codepoint per byte */
					break;
				}
			}
		}
		if (j == i) {
			size_t k = i + (cp[i] == ' ' && i + 1 < nc && !is_space(cp[i + 1]) ? 1 : 0);
			if (is_letter(cp[k])) {
				for (j = k; j < nc && is_letter(cp[j]); j++)
					;
			} else if (is_number(cp[k])) {
				for (j = k; j < nc && is_number(cp[j]); j++)
					;
			} else if (!is_space(cp[k])) {
				for (j = k; j < nc && !is_space(cp[j]) && !is_letter(cp[j]) && !is_number(cp[j]); j++)
					;
			} else {
				/* whitespace run: \s+(?!\S) leaves the last space to the
				 * next word when one follows; else \s+ takes the one */
				for (j = i; j < nc && is_space(cp[j]); j++)
					;
				if (j < nc && j - i > 1)
					j--;
			}
		}
		rc = bpe_word(t, (const unsigned char *)text + off[i], off[j] - off[i], ids, cap, n, err,
		              errlen);
		i = j;
	}
	free(cp);
	free(off);
	return rc;
}
