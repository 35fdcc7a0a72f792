/*
 * lmfile.c - hyperparameters, tensor lookup and tokenizer of a GGUF
 * language model, shared by the native and ggml backends (see lmfile.h).
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/lmfile.h>

/* ------------------------------------------------------------------ */
/* Hyperparameters */

static int hparam(const bbt_gguf_t *g, const char *arch, const char *suffix, size_t *out,
                  char *err, size_t errlen)
{
	char key[128];
	uint32_t v = 0;
	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	int rc = bbt_gguf_get_u32(g, key, &v, err, errlen);
	if (rc < 0)
		return rc;
	if (v == 0)
		return bbt_error(err, errlen, BBT_EFORMAT, "metadata %s is 0", key);
	*out = v;
	return BBT_OK;
}

/* An optional float key: left at its default when absent. */
static int opt_f32(const bbt_gguf_t *g, const char *arch, const char *suffix, float *out,
                   char *err, size_t errlen)
{
	char key[128];
	double v;
	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	if (bbt_gguf_find_kv(g, key) < 0)
		return BBT_OK;
	int rc = bbt_gguf_get_f64(g, key, &v, err, errlen);
	if (rc == BBT_OK)
		*out = (float)v;
	return rc;
}

/* The norms' epsilon (optional, `fallback` when absent): a NaN, zero or
 * negative one makes every normalised row NaN, and the run would score
 * nothing but NaN. */
static int norm_eps(const bbt_gguf_t *g, const char *arch, const char *suffix, float fallback,
                    float *eps, const char *path, char *err, size_t errlen)
{
	*eps = fallback;
	int rc = opt_f32(g, arch, suffix, eps, err, errlen);
	if (rc == BBT_OK && !(*eps > 0 && isfinite(*eps)))
		rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: metadata %s.%s is %g, not a positive number",
		               path, arch, suffix, (double)*eps);
	return rc;
}

/* GPT-2 and Llama as llama.cpp writes them. */
static int decoder_hparams(struct bbt_lm_hparams *hp, const bbt_gguf_t *g, const char *path,
                           char *err, size_t errlen)
{
	const char *arch = hp->arch;
	int llama = hp->family == BBT_LM_LLAMA, rc;
	char key[128];
	hp->kv_heads = hp->heads;
	snprintf(key, sizeof key, "%s.attention.head_count_kv", arch);
	if (bbt_gguf_find_kv(g, key) >= 0 &&
	    (rc = hparam(g, arch, "attention.head_count_kv", &hp->kv_heads, err, errlen)) < 0)
		return rc;
	if (hp->H % hp->heads != 0 || hp->heads % hp->kv_heads != 0)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: hidden %zu, %zu heads, %zu key/value heads do not divide", path, hp->H,
		                 hp->heads, hp->kv_heads);
	if ((rc = norm_eps(g, arch, llama ? "attention.layer_norm_rms_epsilon"
	                                  : "attention.layer_norm_epsilon", 1e-5f, &hp->eps, path,
	                   err, errlen)) < 0)
		return rc;
	if (llama) {
		size_t dh = hp->H / hp->heads;
		hp->rope_base = 10000;
		if ((rc = opt_f32(g, arch, "rope.freq_base", &hp->rope_base, err, errlen)) < 0)
			return rc;
		hp->rope_dims = dh;
		snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
		if (bbt_gguf_find_kv(g, key) >= 0 &&
		    (rc = hparam(g, arch, "rope.dimension_count", &hp->rope_dims, err, errlen)) < 0)
			return rc;
		if (hp->rope_dims > dh || hp->rope_dims % 2 != 0)
			return bbt_error(err, errlen, BBT_EFORMAT, "%s: rope.dimension_count %zu for head size %zu",
			                 path, hp->rope_dims, dh);
	}
	const struct bbt_gguf_tensor *te = bbt_gguf_find_tensor(g, "token_embd.weight");
	if (te == NULL)
		return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: tensor token_embd.weight is missing", path);
	hp->V = (size_t)te->ne[1];
	return BBT_OK;
}

/* BERT and RoBERTa as bbtbench convert writes them. */
static int encoder_hparams(struct bbt_lm_hparams *hp, const bbt_gguf_t *g, const char *path,
                           char *err, size_t errlen)
{
	const char *arch = hp->arch;
	char key[128];
	int rc;
	uint32_t off = strcmp(arch, "roberta") == 0 ? 2 : 0;
	snprintf(key, sizeof key, "%s.position_offset", arch);
	if (bbt_gguf_find_kv(g, key) >= 0 && (rc = bbt_gguf_get_u32(g, key, &off, err, errlen)) < 0)
		return rc;
	hp->pos_offset = off;
	if ((rc = norm_eps(g, arch, "attention.layer_norm_epsilon", 1e-12f, &hp->eps, path, err,
	                   errlen)) < 0)
		return rc;
	if (hp->H % hp->heads != 0)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: hidden size %zu is not a multiple of %zu heads",
		                 path, hp->H, hp->heads);
	hp->kv_heads = hp->heads;
	const struct bbt_gguf_tensor *te = bbt_gguf_find_tensor(g, "token_embd.weight");
	const struct bbt_gguf_tensor *tp = bbt_gguf_find_tensor(g, "position_embd.weight");
	const struct bbt_gguf_tensor *tt = bbt_gguf_find_tensor(g, "token_types.weight");
	if (te == NULL || tp == NULL || tt == NULL)
		return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: tensor %s is missing", path,
		                 te == NULL ? "token_embd.weight" : tp == NULL ? "position_embd.weight"
		                                                  : "token_types.weight");
	hp->V = (size_t)te->ne[1];
	hp->pos_rows = (size_t)tp->ne[1];
	hp->n_types = (size_t)tt->ne[1];
	if (hp->pos_offset + hp->n_pos > hp->pos_rows)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: context_length %zu + position offset %zu exceeds the %zu position rows",
		                 path, hp->n_pos, hp->pos_offset, hp->pos_rows);
	return BBT_OK;
}

int bbt_lm_hparams_load(struct bbt_lm_hparams *hp, const bbt_gguf_t *g, const char *path, char *err,
                     size_t errlen)
{
	memset(hp, 0, sizeof *hp);
	const char *arch = NULL;
	int rc = bbt_gguf_get_str(g, "general.architecture", &arch, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(arch, "bert") == 0 || strcmp(arch, "roberta") == 0)
		hp->family = BBT_LM_BERT;
	else if (strcmp(arch, "gpt2") == 0)
		hp->family = BBT_LM_GPT2;
	else if (strcmp(arch, "llama") == 0)
		hp->family = BBT_LM_LLAMA;
	else
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s: architecture \"%s\" is not supported (bert, roberta, gpt2, "
		                 "llama)", path, arch);
	snprintf(hp->arch, sizeof hp->arch, "%s", arch);
	hp->causal = hp->family != BBT_LM_BERT;
	if ((rc = hparam(g, arch, "embedding_length", &hp->H, err, errlen)) < 0 ||
	    (rc = hparam(g, arch, "block_count", &hp->L, err, errlen)) < 0 ||
	    (rc = hparam(g, arch, "feed_forward_length", &hp->F, err, errlen)) < 0 ||
	    (rc = hparam(g, arch, "attention.head_count", &hp->heads, err, errlen)) < 0 ||
	    (rc = hparam(g, arch, "context_length", &hp->n_pos, err, errlen)) < 0)
		return rc;
	return hp->causal ? decoder_hparams(hp, g, path, err, errlen)
	                  : encoder_hparams(hp, g, path, err, errlen);
}

int bbt_lm_tensor_find(const bbt_gguf_t *g, const char *path, const char *name, uint64_t ne0,
                    uint64_t ne1, const struct bbt_gguf_tensor **out, char *err, size_t errlen)
{
	const struct bbt_gguf_tensor *t = bbt_gguf_find_tensor(g, name);
	if (t == NULL)
		return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: tensor %s is missing", path, name);
	uint32_t nd = ne1 > 0 ? 2 : 1;
	if (t->n_dims != nd || t->ne[0] != ne0 || (nd == 2 && t->ne[1] != ne1)) {
		char want[64];
		if (nd == 2)
			snprintf(want, sizeof want, "%" PRIu64 " x %" PRIu64, ne0, ne1);
		else
			snprintf(want, sizeof want, "%" PRIu64, ne0);
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: tensor %s has shape %" PRIu64 " x %" PRIu64 " (%u dims), the "
		                 "model's metadata implies %s", path, name, t->ne[0], t->ne[1],
		                 t->n_dims, want);
	}
	*out = t;
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* Tokenizer */

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

void bbt_lm_vocab_release(struct bbt_lm_vocab *v)
{
	if (v != NULL)
		bbt_tok_release(&v->tok);
}

static int tokenizer_kind(const bbt_gguf_t *g, const char *path, enum bbt_tok_kind *kind,
                          char *err, size_t errlen)
{
	const char *tm = NULL;
	int rc = bbt_gguf_get_str(g, "tokenizer.ggml.model", &tm, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(tm, "bert") == 0) {
		*kind = BBT_TOK_WORDPIECE;
	} else if (strcmp(tm, "gpt2") == 0) {
		*kind = BBT_TOK_BPE;
		/* Only GPT-2's own pre-tokenizer pattern is implemented; Llama 3
		 * and others store a different one in tokenizer.ggml.pre. */
		const char *pre = NULL;
		if (bbt_gguf_get_str(g, "tokenizer.ggml.pre", &pre, NULL, 0) == BBT_OK &&
		    strcmp(pre, "default") != 0 && strcmp(pre, "gpt-2") != 0 && strcmp(pre, "gpt2") != 0)
			return bbt_error(err, errlen, BBT_ENOTSUP,
			                 "%s: BPE pre-tokenizer \"%s\" is not supported (GPT-2's only)", path, pre);
	} else if (strcmp(tm, "llama") == 0) {
		*kind = BBT_TOK_SPM;
	} else {
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s: tokenizer \"%s\" is not supported (bert WordPiece, gpt2 byte-level BPE, llama SentencePiece)",
		                 path, tm);
	}
	return BBT_OK;
}

static int spm_scores(struct bbt_tok *t, const bbt_gguf_t *g, const char *path, size_t nt,
                      char *err, size_t errlen)
{
	double *sc = NULL;
	size_t ns = 0;
	int rc = bbt_gguf_get_arr_f64(g, "tokenizer.ggml.scores", &sc, &ns, err, errlen);
	if (rc == BBT_OK && ns != nt)
		rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: %zu token scores for %zu tokens", path, ns, nt);
	float *f = rc == BBT_OK ? malloc(nt * sizeof *f) : NULL;
	if (rc == BBT_OK && f == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory for token scores");
	if (rc < 0) {
		free(sc);
		return rc;
	}
	for (size_t i = 0; i < nt; i++)
		f[i] = (float)sc[i];
	free(sc);
	bbt_tok_init_spm(t, f);
	int pfx;
	if (bbt_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &pfx, NULL, 0) == BBT_OK)
		t->add_space_prefix = pfx;
	return BBT_OK;
}

int bbt_lm_vocab_load(struct bbt_lm_vocab *v, const bbt_gguf_t *g, const char *path,
                   const struct bbt_lm_hparams *hp, char *err, size_t errlen)
{
	memset(v, 0, sizeof *v);
	const char *const *toks = NULL;
	size_t nt = 0;
	enum bbt_tok_kind kind;
	int rc;
	if ((rc = tokenizer_kind(g, path, &kind, err, errlen)) < 0 ||
	    (rc = bbt_gguf_get_arr_str(g, "tokenizer.ggml.tokens", &toks, &nt, err, errlen)) < 0)
		return rc;
	if (nt != hp->V)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: %zu tokens in the vocabulary but %zu rows in token_embd", path, nt,
		                 hp->V);
	struct bbt_tok *t = &v->tok;
	if ((rc = bbt_tok_init(t, kind, toks, nt, err, errlen)) < 0)
		return rc;
	if (kind == BBT_TOK_SPM && (rc = spm_scores(t, g, path, nt, err, errlen)) < 0)
		goto fail;
	if (kind == BBT_TOK_BPE) {
		const char *const *merges = NULL;
		size_t nm = 0;
		if ((rc = bbt_gguf_get_arr_str(g, "tokenizer.ggml.merges", &merges, &nm, err, errlen)) < 0 ||
		    (rc = bbt_tok_init_merges(t, merges, nm, err, errlen)) < 0)
			goto fail;
	}
	int flag;
	if (bbt_gguf_get_bool(g, "bbt.tokenizer.do_lower_case", &flag, NULL, 0) == BBT_OK)
		t->lower = flag;
	t->strip_accents = t->lower;
	if (bbt_gguf_get_bool(g, "bbt.tokenizer.strip_accents", &flag, NULL, 0) == BBT_OK)
		t->strip_accents = flag;
	int32_t unk;
	special_id(g, "tokenizer.ggml.bos_token_id", &v->bos, nt);
	special_id(g, "tokenizer.ggml.eos_token_id", &v->eos, nt);
	special_id(g, "tokenizer.ggml.mask_token_id", &v->mask, nt);
	special_id(g, "tokenizer.ggml.padding_token_id", &v->pad, nt);
	special_id(g, "tokenizer.ggml.unknown_token_id", &unk, nt);
	if (!hp->causal && (v->mask < 0 || (unk < 0 && kind == BBT_TOK_WORDPIECE))) {
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s: a masked LM needs tokenizer.ggml.mask_token_id and unknown_token_id",
		               path);
		goto fail;
	}
	t->unk_id = unk;
	if (kind == BBT_TOK_BPE && !hp->causal)
		t->lstrip_id = v->mask;   /* RoBERTa's <mask> swallows the spaces before it */
	int32_t sp[5] = { v->bos, v->eos, v->mask, v->pad, unk };
	for (int i = 0; i < 5; i++)
		if (sp[i] >= 0)
			t->special[t->n_special++] = sp[i];
	if (hp->causal) {
		/* a decoder gets its BOS token in front only when the file asks
		 * (llama.cpp: tokenizer.ggml.add_bos_token; GPT-2 does not) */
		int add_bos = kind == BBT_TOK_SPM;   /* llama.cpp's defaults */
		if (bbt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos, NULL, 0) < 0)
			add_bos = kind == BBT_TOK_SPM;
		if (!add_bos)
			v->bos = -1;
		v->mask = -1;
	}
	return BBT_OK;
fail:
	bbt_lm_vocab_release(v);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checks and model info */

int bbt_lm_check_params(const struct bbt_lm_hparams *hp, const struct bbt_backend_params *p,
                     const char *who, char *err, size_t errlen)
{
	if (p->prompt_len == 0)
		return BBT_OK;
	if (p->prompt_layers != 1 && p->prompt_layers != hp->L)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: prompt_layers is %zu; it must be 1 (embedding prompt) or the "
		                 "model's %zu layers (deep prompt)", who, p->prompt_layers, hp->L);
	if (p->prompt_len >= hp->n_pos)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: prompt_len %zu leaves no room for text in %zu positions", who,
		                 p->prompt_len, hp->n_pos);
	return BBT_OK;
}

int bbt_lm_check_labels(const struct bbt_lm_vocab *v, const struct bbt_batch *b, const char *who,
                     char *err, size_t errlen)
{
	for (size_t c = 0; c < b->n_labels; c++)
		if (b->label_ids[c] == v->tok.unk_id)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: label %zu is [UNK]: that label word is not in this vocabulary",
			                 who, c);
	return BBT_OK;
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

void bbt_lm_model_info(struct bbt_model_info *info, const struct bbt_lm_hparams *hp,
                    const struct bbt_lm_vocab *v, const float *tok_embd)
{
	memset(info, 0, sizeof *info);
	snprintf(info->arch, sizeof info->arch, "%s", hp->arch);
	info->hidden = hp->H;
	info->layers = hp->L;
	info->vocab_size = hp->V;
	info->max_len = hp->n_pos;
	info->causal = hp->causal;
	info->bos_id = v->bos;
	info->eos_id = v->eos;
	info->mask_id = v->mask;
	info->pad_id = v->pad;
	stats(tok_embd, hp->V * hp->H, &info->embed_mean, &info->embed_std);
}

int bbt_lm_check_batch(const struct bbt_lm_hparams *hp, const struct bbt_batch *b, size_t P,
                    size_t Lp, size_t *longest, char *err, size_t errlen)
{
	*longest = 0;
	if (P > 0 && Lp != 1 && Lp != hp->L)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "prompt_layers is %zu: it must be 1 or the model's %zu layers", Lp, hp->L);
	for (size_t c = 0; c < b->n_labels; c++)
		if (b->label_ids[c] < 0 || (size_t)b->label_ids[c] >= hp->V)
			return bbt_error(err, errlen, BBT_EINVAL, "label id %d is outside the vocabulary of %zu",
			                 (int)b->label_ids[c], hp->V);
	for (size_t i = 0; i < b->n_seq; i++) {
		size_t n = b->offset[i + 1] - b->offset[i];
		if (n == 0 || b->predict_pos[i] >= n || b->prompt_pos[i] > n)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "sequence %zu: %zu tokens, prediction position %zu, prompt position %zu",
			                 i, n, b->predict_pos[i], b->prompt_pos[i]);
		if (n + P > hp->n_pos)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "sequence %zu has %zu tokens + %zu prompt vectors, over the model's "
			                 "%zu positions", i, n, P, hp->n_pos);
		const int32_t *ids = b->ids + b->offset[i];
		for (size_t t = 0; t < n; t++)
			if (ids[t] < 0 || (size_t)ids[t] >= hp->V)
				return bbt_error(err, errlen, BBT_EINVAL,
				                 "sequence %zu: token id %d is outside the vocabulary of %zu", i,
				                 (int)ids[t], hp->V);
		if (n + P > *longest)
			*longest = n + P;
	}
	return BBT_OK;
}
