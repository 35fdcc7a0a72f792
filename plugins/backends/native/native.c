/*
 * native.c - the `native` backend: a real masked language model from a
 * GGUF file, on the CPU with OpenBLAS (model.h), with the model's own
 * tokenizer (<bbtbench/model/tokenizer.h>).
 *
 *     bbtbench --backend native --model bert.gguf --task sst2 ...
 *
 * Continuous prompts (-O prompt_mode=cat|add):
 *   cat (default)  the P prompt vectors are the input embeddings of P
 *                  positions inserted after the first special token; the
 *                  position and token-type embeddings are added and the
 *                  embedding LayerNorm applied as for any token. This is HF's
 *                  `inputs_embeds` route, the way the shared BERT model's BBT
 *                  numbers were measured, and it keeps the prompt at the
 *                  scale the projection assumes (the word embeddings' std).
 *   add            BBT's `cat_or_add=add`: the P inserted positions get zero
 *                  word vectors (BBT uses placeholder tokens) and the prompt
 *                  is added to their embedding-layer output, after the
 *                  LayerNorm.
 * Deep prompts (prompt_layers = the model's layers) add prompt j to the
 * prompt positions' hidden states entering layer j >= 1.
 */
#include "config.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include <bbtbench/model/gguf.h>
#include <bbtbench/model/lmfile.h>
#include <bbtbench/model/tokenizer.h>
#include "model.h"
#include "hidden_stats.h"
#include <bbtbench/status.h>

static const struct bbt_option_spec options[] = {
	{ "prompt_mode", BBT_OPT_CHOICE, "cat", "cat|add", 0, 0,
	  "cat: prompt vectors are input embeddings after [CLS]; add: added after the embedding LayerNorm" },
	{ "max_rows", BBT_OPT_INT, "4096", NULL, 1, 1 << 24,
	  "tokens per chunk of sequences in one forward pass (bounds activation memory)" },
	{ "threads", BBT_OPT_INT, "0", NULL, 0, 1024,
	  "threads of the forward pass (OpenMP, and OpenBLAS where blocks are fewer); 0: their defaults" },
	{ 0 },
};

struct native {
	bbt_gguf_t *g;
	struct nat_model m;
	struct bbt_lm_vocab vb;
	struct nat_forward_params fp;
	struct nat_work *work;
	struct nat_tape *tape;     /* the gradient's, allocated on its first call */
	size_t prompt_len;
};

static void native_close(void *state)
{
	struct native *n = state;
	if (n == NULL)
		return;
	nat_work_free(n->work);
	nat_tape_free(n->tape);
	bbt_lm_vocab_release(&n->vb);
	nat_model_release(&n->m);
	bbt_gguf_free(n->g);
	free(n);
}

static int native_open(const bbt_host_t *host, const struct bbt_backend_params *params,
                       void **state, struct bbt_model_info *info, char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "native: open called with a NULL argument");
	if (params->model == NULL || params->model[0] == '\0')
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "native backend needs a model: --model FILE.gguf (bbtbench convert makes one)");
	struct native *n = calloc(1, sizeof *n);
	if (n == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "native: out of memory");
	const char *path = params->model;
	int rc = bbt_gguf_open(path, &n->g, err, errlen);
	if (rc == BBT_OK)
		rc = nat_model_load(&n->m, n->g, path, err, errlen);
	if (rc < 0) {
		native_close(n);
		return rc;
	}
	if ((rc = bbt_lm_vocab_load(&n->vb, n->g, path, &n->m.hp, err, errlen)) < 0 ||
	    (rc = bbt_lm_check_params(&n->m.hp, params, "native", err, errlen)) < 0) {
		native_close(n);
		return rc;
	}
	n->prompt_len = params->prompt_len;
	const char *mode = host->opt_string(host->ctx, "prompt_mode");
	n->fp.mode = mode != NULL && strcmp(mode, "add") == 0 ? NAT_PROMPT_ADD : NAT_PROMPT_CAT;
	long rows = host->opt_int(host->ctx, "max_rows");
	n->fp.max_rows = rows > 0 ? (size_t)rows : 4096;
	long threads = host->opt_int(host->ctx, "threads");
	if (threads > 0) {
		openblas_set_num_threads((int)threads);
#ifdef _OPENMP
		omp_set_num_threads((int)threads);
#endif
	}

	bbt_lm_model_info(info, &n->m.hp, &n->vb, n->m.tok_embd);
	if (host->log != NULL)
		host->log(host->ctx, BBT_LOG_INFO,
		          "%s: %s, %zu layers, hidden %zu, %zu heads, vocab %zu, %zu positions, "
		          "embedding std %.6f, prompt mode %s",
		          path, n->m.hp.arch, n->m.hp.L, n->m.hp.H, n->m.hp.heads, n->m.hp.V, n->m.hp.n_pos,
		          info->embed_std, n->fp.mode == NAT_PROMPT_ADD ? "add" : "cat");
	*state = n;
	return BBT_OK;
}

static int native_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                           char *err, size_t errlen)
{
	struct native *s = state;
	if (s == NULL || text == NULL || n == NULL || (cap > 0 && ids == NULL))
		return bbt_error(err, errlen, BBT_EINVAL, "native: tokenize called with a NULL argument");
	return bbt_tok_encode(&s->vb.tok, text, ids, cap, n, err, errlen);
}

static const char *native_token_text(void *state, int32_t id)
{
	const struct native *s = state;
	if (s == NULL || id < 0 || (size_t)id >= s->vb.tok.n)
		return NULL;
	return s->vb.tok.tokens[id];
}

/* What score and gradient both check before the model sees the batch. */
static int check_call(struct native *s, const struct bbt_batch *batch, const float *prompts,
                      const float *logits, const char *what, char *err, size_t errlen)
{
	if (s == NULL || batch == NULL || logits == NULL || (batch->n_labels > 0 && !batch->label_ids))
		return bbt_error(err, errlen, BBT_EINVAL, "native: %s called with a NULL argument", what);
	if (prompts != NULL && batch->prompt_len != 0 && batch->prompt_len != s->prompt_len)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "native: batch prompt_len %zu, but the model was opened for %zu",
		                 batch->prompt_len, s->prompt_len);
	int rc = bbt_lm_check_labels(&s->vb, batch, "native", err, errlen);
	if (rc < 0)
		return rc;
	if (s->work == NULL && (s->work = nat_work_alloc()) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "native: out of memory");
	return BBT_OK;
}

static int native_score(void *state, const struct bbt_batch *batch, const float *prompts,
                        size_t n_variants, float *logits, char *err, size_t errlen)
{
	struct native *s = state;
	int rc = check_call(s, batch, prompts, logits, "score", err, errlen);
	if (rc < 0)
		return rc;
	return nat_model_score(&s->m, &s->fp, s->work, batch, prompts, n_variants, logits, err, errlen);
}

static int native_gradient(void *state, const struct bbt_batch *batch, const float *prompts,
                           size_t n_variants, bbt_logit_grad_fn dloss, void *ctx, float *logits,
                           float *grad, char *err, size_t errlen)
{
	struct native *s = state;
	int rc = check_call(s, batch, prompts, logits, "gradient", err, errlen);
	if (rc < 0)
		return rc;
	if (dloss == NULL || grad == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "native: gradient called with a NULL argument");
	if (s->tape == NULL && (s->tape = nat_tape_alloc()) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "native: out of memory");
	return nat_model_gradient(&s->m, &s->fp, s->work, s->tape, batch, prompts, n_variants, dloss,
	                          ctx, logits, grad, err, errlen);
}

static int native_hidden_states(void *state, const struct bbt_batch *batch, size_t layer,
                                float *out, char *err, size_t errlen)
{
	struct native *s = state;
	float one;
	int rc = check_call(s, batch, &one, out, "hidden_states", err, errlen);
	return rc < 0 ? rc : nat_hidden_states(&s->m, &s->fp, s->work, batch, layer, out, err, errlen);
}

static const struct bbt_backend_ops ops = {
	native_open, native_tokenize, native_token_text, native_score, native_close, native_gradient,
	native_hidden_states, NULL,   /* in-process: no transport */
};

/* A program that links this backend beside another (t/ggml, bench/ggml)
 * renames the descriptor apart. */
#ifndef NATIVE_DESCRIPTOR
#define NATIVE_DESCRIPTOR bbt_plugin
#endif

BBT_PLUGIN_EXPORT const struct bbt_plugin NATIVE_DESCRIPTOR = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "native",
	.version = "0.1",
	.description = "BERT/RoBERTa masked LMs, GPT-2/Llama causal LMs from GGUF on the CPU (OpenBLAS)",
	.options = options,
	.backend = &ops,
};
