/*
 * bbtbench/model/lmfile.h - what a GGUF language-model file says, read
 * once for every backend that runs it (native on OpenBLAS, ggml through
 * libggml; part of libbbtmodel): the hyperparameters, the tensors by name
 * with their shapes checked, the tokenizer with its special tokens, and
 * the checks and model info that a backend's open makes from them.
 *
 *     struct bbt_lm_hparams hp;
 *     struct bbt_lm_vocab vb;
 *     bbt_lm_hparams_load(&hp, g, path, err, errlen);      shape, family
 *     bbt_lm_tensor_find(g, path, "blk.0.attn_q.weight", hp.H, hp.H, &t, ...);
 *     bbt_lm_vocab_load(&vb, g, path, &hp, err, errlen);   tokenizer, specials
 *     bbt_lm_check_params(&hp, params, "native", err, errlen);
 *     bbt_lm_model_info(info, &hp, &vb, tok_embd_f32);
 *     bbt_lm_vocab_release(&vb);
 *
 * Tensor names and metadata keys are llama.cpp's (bbtbench convert writes
 * the encoders, adding the masked-LM head mlm.*).
 *
 * Ownership: the structs are the caller's; what they point into (token
 * strings, tensors) belongs to the bbt_gguf_t, which must outlive them;
 * bbt_lm_vocab_release() frees what bbt_lm_vocab_load() allocated.
 * Errors: 0 or a negative BBT_E* code with one line in err naming the
 * file (path) and the key or tensor. Thread-safety: no global state; a
 * loaded vocabulary may be read (encoded with) from many threads.
 */
#ifndef BBTBENCH_MODEL_LMFILE_H
#define BBTBENCH_MODEL_LMFILE_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>
#include <bbtbench/model/gguf.h>
#include <bbtbench/model/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bbt_lm_family {
	BBT_LM_BERT = 1,    /* post-LN encoder + MLM head (bert, roberta) */
	BBT_LM_GPT2 = 2,    /* pre-LN decoder, learned positions, tanh GELU */
	BBT_LM_LLAMA = 3,   /* pre-RMSNorm decoder, RoPE, SwiGLU, grouped-query attention */
};

struct bbt_lm_hparams {
	char arch[32];           /* general.architecture */
	enum bbt_lm_family family;
	int causal;              /* decoders */
	size_t H, L, F, V;       /* hidden, layers, FFN width, vocabulary rows */
	size_t heads, kv_heads;  /* query heads, key/value heads (GQA) */
	size_t n_pos;            /* usable positions (context_length) */
	size_t pos_offset;       /* encoders: first position row used (RoBERTa: 2) */
	size_t pos_rows;         /* encoders: rows of position_embd */
	size_t n_types;          /* encoders: rows of token_types */
	float eps;               /* LayerNorm / RMSNorm epsilon */
	float rope_base;         /* llama */
	size_t rope_dims;        /* llama: rotated dimensions per head */
};

/* The architecture's hyperparameters; BBT_ENOTSUP for an architecture
 * other than bert, roberta, gpt2 and llama, BBT_EFORMAT for inconsistent
 * ones. */
int bbt_lm_hparams_load(struct bbt_lm_hparams *hp, const bbt_gguf_t *g, const char *path, char *err,
                     size_t errlen);

/* Tensor `name` of shape ne0 (x ne1 when ne1 > 0), any element type:
 * BBT_ENOTFOUND when absent, BBT_EFORMAT (naming both shapes) when
 * misshapen. */
int bbt_lm_tensor_find(const bbt_gguf_t *g, const char *path, const char *name, uint64_t ne0,
                    uint64_t ne1, const struct bbt_gguf_tensor **out, char *err, size_t errlen);

/* The tokenizer and the special tokens the host renders with (-1 when
 * absent; a decoder's bos only when the file asks for it, no mask). */
struct bbt_lm_vocab {
	struct bbt_tok tok;
	int32_t bos, eos, mask, pad;
};

/* Build the tokenizer the file names (bert WordPiece, gpt2 byte-level BPE,
 * llama SentencePiece) over its vocabulary of hp->V tokens. */
int bbt_lm_vocab_load(struct bbt_lm_vocab *v, const bbt_gguf_t *g, const char *path,
                   const struct bbt_lm_hparams *hp, char *err, size_t errlen);
/* NULL-safe; the struct may be loaded again. */
void bbt_lm_vocab_release(struct bbt_lm_vocab *v);

/* prompt_len and prompt_layers against the model; who names the backend
 * in the message. */
int bbt_lm_check_params(const struct bbt_lm_hparams *hp, const struct bbt_backend_params *p,
                     const char *who, char *err, size_t errlen);
/* A batch's label words against the vocabulary (a label that is the
 * unknown token is not in it). */
/* A batch against the model's shape, before anything is computed: the
 * prompt's layers (1 or every layer), label and token ids inside the
 * vocabulary, positions inside each sequence, and no sequence plus its P
 * prompt vectors over the model's positions. Sets *longest to the longest
 * sequence with its prompt. BBT_EINVAL with a message naming what is wrong. */
int bbt_lm_check_batch(const struct bbt_lm_hparams *hp, const struct bbt_batch *b, size_t P,
                    size_t Lp, size_t *longest, char *err, size_t errlen);

int bbt_lm_check_labels(const struct bbt_lm_vocab *v, const struct bbt_batch *b, const char *who,
                     char *err, size_t errlen);

/* Fill info from the model; tok_embd is the word-embedding matrix as f32
 * [V][H], for the embedding statistics. */
void bbt_lm_model_info(struct bbt_model_info *info, const struct bbt_lm_hparams *hp,
                    const struct bbt_lm_vocab *v, const float *tok_embd);

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_MODEL_LMFILE_H */
