/*
 * tokenizers.h - inside the model library: what the tokenizer modules
 * share, in one direction only.
 *
 *     tokenizer.c   bbt_tok_encode: special literals, then one of
 *        |
 *     wordpiece.c  bpe.c  spm.c    one segment each
 *        |
 *     tokvocab.c    the vocabulary: id lookup, merge ranks, SPM scores
 *
 * Not installed; the mdl_ names are outside the library's exported
 * bbt_ prefixes, so no plugin or host code can come to depend on them.
 */
#ifndef BBT_MODEL_TOKENIZERS_H
#define BBT_MODEL_TOKENIZERS_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/model/tokenizer.h>

/* Ids written while they fit: n counts them all, so that a caller learns
 * the size a second call needs. */
struct mdl_out {
	int32_t *ids;
	size_t cap, n;
};

static inline void mdl_emit(struct mdl_out *o, int32_t id)
{
	if (o->n < o->cap)
		o->ids[o->n] = id;
	o->n++;
}

/* tokvocab.c: rank of the BPE merge "left right" (key of len bytes), or -1. */
long mdl_merge_rank(const struct bbt_tok *t, const char *key, size_t len);

/* One segment without special literals: at most cap ids into ids (ids may
 * be NULL when cap is 0), the full count in *n. 0, or BBT_ENOMEM with a
 * message in err. */
int mdl_wordpiece_segment(const struct bbt_tok *t, const char *text, size_t len, int32_t *ids,
                          size_t cap, size_t *n, char *err, size_t errlen);
int mdl_bpe_segment(const struct bbt_tok *t, const char *text, size_t len, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen);
int mdl_spm_segment(const struct bbt_tok *t, const char *text, size_t len, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen);

#endif /* BBT_MODEL_TOKENIZERS_H */
