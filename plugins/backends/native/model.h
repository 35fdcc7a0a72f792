/*
 * model.h - the native backend's transformer: weights from GGUF, and the
 * batched forward pass that scores label words.
 *
 * Decoders (GPT-2, Llama as llama.cpp writes them) are pre-norm, causal,
 * and read the label words' logits at each sequence's last position from
 * the output matrix (output.weight, or token_embd when tied).
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
 * Chunks of whole sequences of at most max_rows rows bound the memory;
 * forward.c runs each chunk in cache-sized blocks of sequences, one per
 * thread, and the last layer past its keys and values at the prediction
 * rows only.
 */
#ifndef BBT_NATIVE_MODEL_H
#define BBT_NATIVE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>

#include <bbtbench/model/gguf.h>
#include <bbtbench/model/lmfile.h>

struct nat_layer {
	const float *wqkv, *bqkv;      /* [H + 2 Hkv][H], [H + 2 Hkv]: q, k, v stacked */
	const float *wo, *bo;          /* [H][H], [H] (bo may be zeros) */
	const float *ln1_g, *ln1_b;    /* encoder: after attention; decoder: before (attn_norm) */
	const float *w1, *b1;          /* [F][H], [F]: ffn_up */
	const float *wg;               /* [F][H]: llama's ffn_gate, else NULL */
	const float *w2, *b2;          /* [H][F], [H]: ffn_down */
	const float *ln2_g, *ln2_b;    /* encoder: after the FFN; decoder: before (ffn_norm) */
};

struct nat_model {
	struct bbt_lm_hparams hp;
	const float *tok_embd, *pos_embd, *type_embd, *emb_ln_g, *emb_ln_b;
	struct nat_layer *layers;
	const float *mlm_w, *mlm_b, *mlm_ln_g, *mlm_ln_b;   /* encoders */
	const float *out_norm_g, *out_norm_b;               /* decoders (b NULL for RMSNorm) */
	const float *out_w, *out_b;    /* [V][H] output rows (tied: tok_embd); bias or NULL */
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

/* Load a model from g (whose mapping must outlive the model). */
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

/* Backward pass (grad.c): the activations one chunk's backward pass reads
 * (forward.h), kept between calls like nat_work. NULL on out of memory. */
struct nat_tape;
struct nat_tape *nat_tape_alloc(void);
void nat_tape_free(struct nat_tape *tp);
/* Bytes the tape holds now: its peak so far, since it only grows. */
size_t nat_tape_bytes(const struct nat_tape *tp);

/* Like nat_model_score, and the gradient of the host's loss with respect
 * to every prompt value, grad [V][prompt_layers][P][H] (backend.h): the
 * forward pass keeps a tape, dloss turns the logits of all variants into
 * dL/dlogits, and the backward pass carries those to the prompt
 * positions. A batch of one chunk (max_rows) runs the forward pass once;
 * more chunks run it again per chunk, so the tape never holds more than
 * max_rows rows. Needs prompts with b->prompt_len > 0. */
int nat_model_gradient(const struct nat_model *m, const struct nat_forward_params *fp,
                       struct nat_work *w, struct nat_tape *tp, const struct bbt_batch *b,
                       const float *prompts, size_t n_variants, bbt_logit_grad_fn dloss,
                       void *ctx, float *logits, float *grad, char *err, size_t errlen);

#endif /* BBT_NATIVE_MODEL_H */
