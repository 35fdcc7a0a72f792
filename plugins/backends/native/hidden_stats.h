/*
 * hidden_stats.h - the hidden states entering a layer (native's ABI 1.2
 * hidden_states); internal to the native backend.
 */
#ifndef BBT_NATIVE_HIDDEN_STATS_H
#define BBT_NATIVE_HIDDEN_STATS_H

#include <stddef.h>
#include <bbtbench/backend.h>
#include "model.h"

/* The hidden states entering layer `layer` of every position of b (its
 * prompt positions under the all-zero prompt) into out, [seq][pos][H];
 * BBT_EINVAL for a layer past the model's, or the forward pass's error. */
int nat_hidden_states(const struct nat_model *m, const struct nat_forward_params *fp,
                      struct nat_work *w, const struct bbt_batch *b, size_t layer, float *out,
                      char *err, size_t errlen);

#endif /* BBT_NATIVE_HIDDEN_STATS_H */
