/*
 * spm.c - SentencePiece BPE as llama.cpp runs it on a GGUF vocabulary with
 * scores (see <bbtbench/model/tokenizer.h>).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/tokenizer.h>
#include "tokenizers.h"

struct sym {
	size_t start, len;
};

/* Byte length of the UTF-8 character that starts with c (1 for a stray
 * continuation byte, so that every byte is covered). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

int mdl_spm_segment(const struct bbt_tok *t, const char *text, size_t len, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (len == 0)
		return BBT_OK;
	/* spaces -> U+2581 (3 bytes), and the dummy prefix */
	size_t spaces = (t->add_space_prefix && text[0] != ' ') ? 1 : 0;
	for (size_t i = 0; i < len; i++)
		spaces += text[i] == ' ';
	char *w = malloc(len + 2 * spaces + 4);
	struct sym *s = malloc((len + spaces + 1) * sizeof *s);
	if (w == NULL || s == NULL) {
		free(w);
		free(s);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory tokenizing");
	}
	size_t wl = 0;
	if (t->add_space_prefix && text[0] != ' ') {
		memcpy(w, "\xe2\x96\x81", 3);
		wl = 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(w + wl, "\xe2\x96\x81", 3);
			wl += 3;
		} else {
			w[wl++] = text[i];
		}
	}
	size_t ns = 0;
	for (size_t i = 0; i < wl;) {
		size_t k = utf8_len((unsigned char)w[i]);
		if (i + k > wl)
			k = wl - i;
		s[ns].start = i;
		s[ns].len = k;
		ns++;
		i += k;
	}
	/* merge the best-scoring adjacent pair that is a token, leftmost first */
	while (ns > 1) {
		float best = 0;
		long at = -1;
		for (size_t i = 0; i + 1 < ns; i++) {
			int32_t id = bbt_tok_find(t, w + s[i].start, s[i].len + s[i + 1].len);
			if (id >= 0 && (at < 0 || t->scores[id] > best)) {
				best = t->scores[id];
				at = (long)i;
			}
		}
		if (at < 0)
			break;
		s[at].len += s[at + 1].len;
		memmove(s + at + 1, s + at + 2, (ns - (size_t)at - 2) * sizeof *s);
		ns--;
	}
	int rc = BBT_OK;
	for (size_t i = 0; i < ns && rc == BBT_OK; i++) {
		int32_t id = bbt_tok_find(t, w + s[i].start, s[i].len);
		if (id >= 0) {
			if (*n < cap)
				ids[*n] = id;
			(*n)++;
			continue;
		}
		for (size_t b = 0; b < s[i].len; b++) {
			id = t->byte_id[(unsigned char)w[s[i].start + b]];
			if (id < 0)
				id = t->unk_id;
			if (id < 0) {
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "SentencePiece piece \"%.*s\" has no token, no byte token and no "
				               "unknown token", (int)s[i].len, w + s[i].start);
				break;
			}
			if (*n < cap)
				ids[*n] = id;
			(*n)++;
		}
	}
	free(w);
	free(s);
	return rc;
}
