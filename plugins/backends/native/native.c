/*
 * native.c - the `native` backend: a real masked language model from a
 * GGUF file, on the CPU with OpenBLAS (model.h), with the model's own
 * tokenizer (tokenizer.h).
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "gguf.h"
#include "model.h"
#include "tokenizer.h"
#include "util.h"

static const struct bbt_option_spec options[] = {
	{ "prompt_mode", BBT_OPT_CHOICE, "cat", "cat|add", 0, 0,
	  "cat: prompt vectors are input embeddings after [CLS]; add: added after the embedding LayerNorm" },
	{ "max_rows", BBT_OPT_INT, "4096", NULL, 1, 1 << 24,
	  "tokens per chunk of sequences in one forward pass (bounds activation memory)" },
	{ "threads", BBT_OPT_INT, "0", NULL, 0, 1024, "OpenBLAS threads; 0 leaves OpenBLAS's default" },
	{ 0 },
};

struct native {
	bbt_gguf_t *g;
	struct nat_model m;
	struct nat_tok tok;
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
	nat_tok_release(&n->tok);
	nat_model_release(&n->m);
	bbt_gguf_free(n->g);
	free(n);
}

static int special_id(const bbt_gguf_t *g, const char *key, int32_t *out, size_t V)
{
	uint32_t v;
	if (bbt_gguf_find_kv(g, key) < 0 || bbt_gguf_get_u32(g, key, &v, NULL, 0) < 0 || v >= V) {
		*out = -1;
		return 0;
	}
	*out = (int32_t)v;
	return 1;
}

/* Mean and (unbiased, as torch's std()) standard deviation, in double. */
static void stats(const float *x, size_t n, double *mean, double *std)
{
	double mu = 0, m2 = 0;
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - mu;
		mu += d / (double)(i + 1);
		m2 += d * (x[i] - mu);
	}
	*mean = mu;
	*std = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
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
	const char *tm = NULL;
	const char *const *toks = NULL;
	size_t nt = 0;
	if ((rc = bbt_gguf_get_str(n->g, "tokenizer.ggml.model", &tm, err, errlen)) < 0 ||
	    (rc = bbt_gguf_get_arr_str(n->g, "tokenizer.ggml.tokens", &toks, &nt, err, errlen)) < 0) {
		native_close(n);
		return rc;
	}
	enum nat_tok_kind kind;
	if (strcmp(tm, "bert") == 0) {
		kind = NAT_TOK_WORDPIECE;
	} else if (strcmp(tm, "gpt2") == 0) {
		kind = NAT_TOK_BPE;
		/* Only GPT-2's own pre-tokenizer pattern is implemented; Llama 3
		 * and others store a different one in tokenizer.ggml.pre. */
		const char *pre = NULL;
		if (bbt_gguf_get_str(n->g, "tokenizer.ggml.pre", &pre, NULL, 0) == BBT_OK &&
		    strcmp(pre, "default") != 0 && strcmp(pre, "gpt-2") != 0 && strcmp(pre, "gpt2") != 0) {
			rc = bbt_error(err, errlen, BBT_ENOTSUP,
			               "%s: BPE pre-tokenizer \"%s\" is not supported (GPT-2's only)", path, pre);
			native_close(n);
			return rc;
		}
	} else if (strcmp(tm, "llama") == 0) {
		kind = NAT_TOK_SPM;
	} else {
		rc = bbt_error(err, errlen, BBT_ENOTSUP,
		               "%s: tokenizer \"%s\" is not supported (bert WordPiece, gpt2 byte-level BPE, llama SentencePiece)",
		               path, tm);
		native_close(n);
		return rc;
	}
	if (nt != n->m.V) {
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: %zu tokens in the vocabulary but %zu rows in token_embd", path, nt,
		                 n->m.V);
		native_close(n);
		return rc;
	}
	if ((rc = nat_tok_init(&n->tok, kind, toks, nt, err, errlen)) < 0) {
		native_close(n);
		return rc;
	}
	if (kind == NAT_TOK_SPM) {
		double *sc = NULL;
		size_t ns = 0;
		if ((rc = bbt_gguf_get_arr_f64(n->g, "tokenizer.ggml.scores", &sc, &ns, err, errlen)) < 0 ||
		    ns != nt) {
			if (rc == BBT_OK)
				rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: %zu token scores for %zu tokens", path,
				               ns, nt);
			free(sc);
			native_close(n);
			return rc;
		}
		float *f = malloc(nt * sizeof *f);
		if (f == NULL) {
			free(sc);
			native_close(n);
			return bbt_error(err, errlen, BBT_ENOMEM, "native: out of memory");
		}
		for (size_t i = 0; i < nt; i++)
			f[i] = (float)sc[i];
		free(sc);
		nat_tok_init_spm(&n->tok, f);
		int pfx;
		if (bbt_gguf_get_bool(n->g, "tokenizer.ggml.add_space_prefix", &pfx, NULL, 0) == BBT_OK)
			n->tok.add_space_prefix = pfx;
	}
	if (kind == NAT_TOK_BPE) {
		const char *const *merges = NULL;
		size_t nm = 0;
		if ((rc = bbt_gguf_get_arr_str(n->g, "tokenizer.ggml.merges", &merges, &nm, err, errlen)) < 0 ||
		    (rc = nat_tok_init_merges(&n->tok, merges, nm, err, errlen)) < 0) {
			native_close(n);
			return rc;
		}
	}
	int flag;
	if (bbt_gguf_get_bool(n->g, "bbt.tokenizer.do_lower_case", &flag, NULL, 0) == BBT_OK)
		n->tok.lower = flag;
	n->tok.strip_accents = n->tok.lower;
	if (bbt_gguf_get_bool(n->g, "bbt.tokenizer.strip_accents", &flag, NULL, 0) == BBT_OK)
		n->tok.strip_accents = flag;
	int32_t bos, eos, mask, pad, unk;
	special_id(n->g, "tokenizer.ggml.bos_token_id", &bos, nt);
	special_id(n->g, "tokenizer.ggml.eos_token_id", &eos, nt);
	special_id(n->g, "tokenizer.ggml.mask_token_id", &mask, nt);
	special_id(n->g, "tokenizer.ggml.padding_token_id", &pad, nt);
	special_id(n->g, "tokenizer.ggml.unknown_token_id", &unk, nt);
	if (!n->m.causal && (mask < 0 || (unk < 0 && kind == NAT_TOK_WORDPIECE))) {
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: a masked LM needs tokenizer.ggml.mask_token_id and unknown_token_id",
		                 path);
		native_close(n);
		return rc;
	}
	n->tok.unk_id = unk;
	if (kind == NAT_TOK_BPE && !n->m.causal)
		n->tok.lstrip_id = mask;   /* RoBERTa's <mask> swallows the spaces before it */
	int32_t sp[5] = { bos, eos, mask, pad, unk };
	for (int i = 0; i < 5; i++)
		if (sp[i] >= 0)
			n->tok.special[n->tok.n_special++] = sp[i];

	if (params->prompt_len > 0) {
		if (params->prompt_layers != 1 && params->prompt_layers != n->m.L) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "native: prompt_layers is %zu; it must be 1 (embedding prompt) or the "
			               "model's %zu layers (deep prompt)", params->prompt_layers, n->m.L);
			native_close(n);
			return rc;
		}
		if (params->prompt_len >= n->m.n_pos) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			                 "native: prompt_len %zu leaves no room for text in %zu positions",
			                 params->prompt_len, n->m.n_pos);
			native_close(n);
			return rc;
		}
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

	memset(info, 0, sizeof *info);
	snprintf(info->arch, sizeof info->arch, "%s", n->m.arch);
	info->hidden = n->m.H;
	info->layers = n->m.L;
	info->vocab_size = n->m.V;
	info->max_len = n->m.n_pos;
	info->causal = n->m.causal;
	if (n->m.causal) {
		/* a decoder gets its BOS token in front only when the file asks
		 * (llama.cpp: tokenizer.ggml.add_bos_token; GPT-2 does not) */
		int add_bos = kind == NAT_TOK_SPM;   /* llama.cpp's defaults */
		if (bbt_gguf_get_bool(n->g, "tokenizer.ggml.add_bos_token", &add_bos, NULL, 0) < 0)
			add_bos = kind == NAT_TOK_SPM;
		if (!add_bos)
			bos = -1;
		mask = -1;
	}
	info->bos_id = bos;
	info->eos_id = eos;
	info->mask_id = mask;
	info->pad_id = pad;
	stats(n->m.tok_embd, n->m.V * n->m.H, &info->embed_mean, &info->embed_std);
	if (host->log != NULL)
		host->log(host->ctx, BBT_LOG_INFO,
		          "%s: %s, %zu layers, hidden %zu, %zu heads, vocab %zu, %zu positions, "
		          "embedding std %.6f, prompt mode %s",
		          path, n->m.arch, n->m.L, n->m.H, n->m.heads, n->m.V, n->m.n_pos,
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
	return nat_tok_encode(&s->tok, text, ids, cap, n, err, errlen);
}

static const char *native_token_text(void *state, int32_t id)
{
	const struct native *s = state;
	if (s == NULL || id < 0 || (size_t)id >= s->tok.n)
		return NULL;
	return s->tok.tokens[id];
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
	for (size_t c = 0; c < batch->n_labels; c++)
		if (batch->label_ids[c] == s->tok.unk_id)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "native: label %zu is [UNK]: that label word is not in this vocabulary",
			                 c);
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

static const struct bbt_backend_ops ops = {
	native_open, native_tokenize, native_token_text, native_score, native_close, native_gradient,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "native",
	.version = "0.1",
	.description = "BERT/RoBERTa masked LMs, GPT-2/Llama causal LMs from GGUF on the CPU (OpenBLAS)",
	.options = options,
	.backend = &ops,
};
