/*
 * tokenizer.c - bbt_tok_encode(): split a text at the special-token
 * literals ("[MASK]", "<mask>" ...), which stay whole, and hand each
 * segment in between to the vocabulary's tokenizer (wordpiece.c, bpe.c or
 * spm.c). The top of the tokenizer modules: nothing below calls back up.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/tokenizer.h>
#include "tokenizers.h"

static int segment(const struct bbt_tok *t, const char *text, size_t len, struct mdl_out *o,
                   char *err, size_t errlen)
{
	size_t n = 0, room = o->n < o->cap ? o->cap - o->n : 0;
	int32_t *at = room ? o->ids + o->n : NULL;
	int rc = t->kind == BBT_TOK_WORDPIECE ? mdl_wordpiece_segment(t, text, len, at, room, &n, err, errlen)
	         : t->kind == BBT_TOK_SPM     ? mdl_spm_segment(t, text, len, at, room, &n, err, errlen)
	                                      : mdl_bpe_segment(t, text, len, at, room, &n, err, errlen);
	if (rc == BBT_OK)
		o->n += n;
	return rc;
}

int bbt_tok_encode(const struct bbt_tok *t, const char *text, int32_t *ids, size_t cap, size_t *n,
                   char *err, size_t errlen)
{
	struct mdl_out o = { ids, cap, 0 };
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
		mdl_emit(&o, sid);
		i += hit;
		seg = i;
	}
	int rc = segment(t, text + seg, len - seg, &o, err, errlen);
	if (rc < 0)
		return rc;
	*n = o.n;
	return BBT_OK;
}
