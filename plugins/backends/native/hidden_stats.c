/*
 * hidden_stats.c - the hidden states entering one layer (ABI 1.2's
 * hidden_states), for BBTv2's per-layer projection scale.
 *
 * No forward pass of its own: the model is run with its first `layer`
 * layers only (a shallow copy of the model whose layer count is cut), and
 * the activations the forward pass leaves in the work buffers are the
 * hidden states entering layer `layer`; the head reads them without
 * changing them. Under the all-zero prompt (a deep prompt's start), added
 * or concatenated alike.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <bbtbench/status.h>

#include "forward.h"
#include "hidden_stats.h"

int nat_hidden_states(const struct nat_model *m, const struct nat_forward_params *fp,
                      struct nat_work *w, const struct bbt_batch *b, size_t layer, float *out,
                      char *err, size_t errlen)
{
	if (layer >= m->hp.L)
		return bbt_error(err, errlen, BBT_EINVAL, "native: layer %zu of a %zu-layer model",
		                 layer, m->hp.L);
	size_t H = m->hp.H, P = b->prompt_len, longest, max_rows;
	struct nat_model cut = *m;
	cut.hp.L = layer;
	int rc = nat_batch_prepare(&cut, fp, w, b, P, 1, 1, &longest, &max_rows, err, errlen);
	if (rc < 0)
		return rc;
	float *zero = calloc(P > 0 ? P * H : 1, sizeof *zero);
	float *logits = calloc(b->n_seq * b->n_labels + 1, sizeof *logits);
	if (zero == NULL || logits == NULL) {
		free(zero);
		free(logits);
		return bbt_error(err, errlen, BBT_ENOMEM, "native: out of memory");
	}
	size_t at = 0;
	for (size_t s0 = 0, s1; s0 < b->n_seq; s0 = s1) {
		s1 = nat_chunk_end(b, P, b->n_seq, s0, max_rows);
		nat_forward_chunk(&cut, fp, b, P > 0 ? zero : NULL, P, 1, s0, s1, w, longest, logits,
		                  NULL);
		size_t rows = w->row0[s1 - s0 - 1] + w->len[s1 - s0 - 1];
		memcpy(out + at, w->x, rows * H * sizeof *out);
		at += rows * H;
	}
	free(zero);
	free(logits);
	return BBT_OK;
}
