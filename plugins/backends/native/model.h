/*
 * model.h - the native backend's transformer: weights from GGUF, and the
 * batched forward pass that scores label words.
 *
 * Encoder (BERT / RoBERTa, post-LayerNorm):
 *   x = LN(word + pos[offset + t] + type[0])          embedding layer
 *   per layer: x = LN(x + Wo·attn(Wq x, Wk x, Wv x)); x = LN(x + W2·gelu(W1 x))
 *   head at the prediction position: h = LN(gelu(Wd x)); logit_w = E[w]·h + b[w]
 * with exact erf GELU, attention scaled by 1/sqrt(head dim), and only the
 * label words' rows of the (tied) decoder computed.
 *
 * All V·B sequences of a call are packed back to back with no padding
 * rows: the linear layers are GEMMs over the packed rows (cblas_sgemm) and
 * attention runs per sequence over its own rows only, which is what an
 * attention mask over a padded batch computes, without the pad rows.
 * Chunks of whole sequences of at most max_rows rows bound the memory.
 */
#ifndef BBT_NATIVE_MODEL_H
#define BBT_NATIVE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>

#include "gguf.h"

struct nat_layer {
	const float *wqkv, *bqkv;      /* [3H][H], [3H]: q, k, v stacked */
	const float *wo, *bo;          /* [H][H], [H] */
	const float *ln1_g, *ln1_b;
	const float *w1, *b1;          /* [F][H], [F] */
	const float *w2, *b2;          /* [H][F], [H] */
	const float *ln2_g, *ln2_b;
};

struct nat_model {
	char arch[32];
	size_t H, L, F, V, heads, n_pos, pos_offset, n_types;
	float eps;
	const float *tok_embd, *pos_embd, *type_embd, *emb_ln_g, *emb_ln_b;
	struct nat_layer *layers;
	const float *mlm_w, *mlm_b, *mlm_ln_g, *mlm_ln_b, *out_w, *out_b;
	void **owned;                  /* converted/copied weights */
	size_t n_owned;
};

enum nat_prompt_mode {
	NAT_PROMPT_CAT = 0,  /* prompt vectors are the input embeddings of P positions */
	NAT_PROMPT_ADD = 1,  /* added to the embedding-layer output of P zero-input positions */
};

struct nat_forward_params {
	enum nat_prompt_mode mode;
	size_t max_rows;     /* rows (tokens) per chunk of sequences */
};

/* Load an encoder from g (whose mapping must outlive the model). */
int nat_model_load(struct nat_model *m, const bbt_gguf_t *g, const char *path, char *err,
                   size_t errlen);
void nat_model_release(struct nat_model *m);

/* Activation buffers, kept between calls (one per model user). NULL on
 * out of memory; free(NULL) is a no-op. */
struct nat_work;
struct nat_work *nat_work_alloc(void);
void nat_work_free(struct nat_work *w);

/* Label-word logits [V][n_seq][n_labels] of the batch under n_variants
 * prompts (see bbtbench/backend.h for the layouts). */
int nat_model_score(const struct nat_model *m, const struct nat_forward_params *fp,
                    struct nat_work *w, const struct bbt_batch *b, const float *prompts,
                    size_t n_variants, float *logits, char *err, size_t errlen);

#endif /* BBT_NATIVE_MODEL_H */
