/*
 * gmodel.h - the ggml backend's transformer: the native backend's models
 * (<bbtbench/model/lmfile.h>: BERT/RoBERTa with the MLM head, GPT-2,
 * Llama) as ggml compute graphs, with the weights in a ggml backend
 * buffer in their file types (f32, f16, bf16, and the quantized ones: ggml
 * does the matrix products on Q8_0, Q4_0 ... blocks).
 *
 * A call's V x n_seq sequences are scored in chunks of whole sequences,
 * each chunk one graph over a padded batch [H][T][S] (T the chunk's
 * longest sequence, prompt included): the linear layers are matrix
 * products over all T·S rows, attention runs per sequence and head with a
 * mask that hides the padding keys (and, for decoders, the later ones).
 * Row t of sequence s is its position t, so padding goes at the end and
 * positions, RoPE and the prediction row are the unpadded ones.
 *
 * Input embeddings: every row gets tok_embd[id] · is_token plus a row of
 * the prompt table (the chunk's prompts and one zero row, which rows that
 * are not prompt rows index). In cat mode (and for decoders) the prompt is
 * the input embedding; in add mode an encoder adds it after the embedding
 * LayerNorm; deep prompts add layer l's rows entering layer l. The output
 * is gathered at the prediction rows only (ggml_get_rows), and only the
 * label words' rows of the output matrix are multiplied.
 */
#ifndef BBT_GGML_GMODEL_H
#define BBT_GGML_GMODEL_H

#include <stddef.h>
#include <bbtbench/backend.h>
#include <ggml.h>
#include <ggml-backend.h>

#include <bbtbench/model/gguf.h>
#include <bbtbench/model/lmfile.h>

struct gml_layer {
	struct ggml_tensor *wq, *wk, *wv, *bq, *bk, *bv;  /* separate q, k, v (NULL in GPT-2) */
	struct ggml_tensor *wqkv, *bqkv;                  /* GPT-2: fused [3H][H], [3H] */
	struct ggml_tensor *wo, *bo;
	struct ggml_tensor *ln1_g, *ln1_b;   /* encoder: after attention; decoder: before */
	struct ggml_tensor *w1, *b1, *wg;    /* ffn_up (+ bias), llama's ffn_gate */
	struct ggml_tensor *w2, *b2;         /* ffn_down */
	struct ggml_tensor *ln2_g, *ln2_b;   /* encoder: after the FFN; decoder: before */
};

struct gml_model {
	struct bbt_lm_hparams hp;
	struct ggml_context *wctx;           /* the weights' tensor headers */
	ggml_backend_buffer_t wbuf;          /* their data, on the compute device */
	struct ggml_tensor *tok_embd, *pos_embd, *type_embd, *emb_ln_g, *emb_ln_b;
	struct gml_layer *layers;
	struct ggml_tensor *mlm_w, *mlm_b, *mlm_ln_g, *mlm_ln_b;   /* encoders */
	struct ggml_tensor *out_norm_g, *out_norm_b;               /* decoders */
	struct ggml_tensor *out_w, *out_b;   /* output rows (tied: tok_embd); bias or NULL */
};

enum gml_prompt_mode {
	GML_PROMPT_CAT = 0,  /* prompt vectors are the input embeddings of P positions */
	GML_PROMPT_ADD = 1,  /* added to the embedding-layer output of P zero-input positions */
};

struct gml_forward_params {
	enum gml_prompt_mode mode;
	size_t max_rows;     /* padded rows (T x sequences) per chunk */
};

/* Load the weights of g (hyperparameters already in hp) into a buffer of
 * backend; the model keeps no pointer into g. 0 or a negative status
 * naming the tensor; on failure nothing is left to release. */
int gml_model_load(struct gml_model *m, const struct bbt_lm_hparams *hp, const bbt_gguf_t *g,
                   const char *path, ggml_backend_t backend, char *err, size_t errlen);
/* NULL-safe; the struct may be loaded again. */
void gml_model_release(struct gml_model *m);

/* Label-word logits [V][n_seq][n_labels] of the batch under n_variants
 * prompts (layouts in bbtbench/backend.h), computed by sched. */
int gml_model_score(const struct gml_model *m, const struct gml_forward_params *fp,
                    ggml_backend_sched_t sched, const struct bbt_batch *b, const float *prompts,
                    size_t n_variants, float *logits, char *err, size_t errlen);

#endif /* BBT_GGML_GMODEL_H */
