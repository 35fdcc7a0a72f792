/*
 * t/native_tiny.h - tiny random models of every family the native backend
 * runs (BERT, RoBERTa, GPT-2, Llama), written with the project's GGUF
 * writer, a fake host to open them with, and a batch of three sequences of
 * different lengths. Header-only; used by t/native.c (forward pass,
 * tokenizers) and t/native_grad.c (gradients), which compile the backend's
 * sources in and drive it through its descriptor.
 */
#ifndef BBT_T_NATIVE_TINY_H
#define BBT_T_NATIVE_TINY_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "gguf.h"

extern const struct bbt_plugin bbt_plugin;

/* ------------------------------------------------------------------ */
/* Fake host: the plugin's defaults plus key=value overrides. */

#define MAX_OPTS 8
struct fake_host {
	const char *key[MAX_OPTS];
	char val[MAX_OPTS][64];
	size_t n;
};

static const char *fake_value(void *ctx, const char *key)
{
	struct fake_host *f = ctx;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->key[i], key) == 0)
			return f->val[i];
	return NULL;
}

static void fake_log(void *ctx, enum bbt_log_level level, const char *fmt, ...)
{
	(void)ctx;
	(void)level;
	(void)fmt;
}

static double fake_uniform(void *ctx) { (void)ctx; return 0.5; }
static double fake_normal(void *ctx) { (void)ctx; return 0.0; }
static uint64_t fake_uint(void *ctx, uint64_t n) { (void)ctx; (void)n; return 0; }
static long fake_int(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? strtol(v, NULL, 10) : 0;
}
static double fake_double(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? strtod(v, NULL) : 0;
}
static int fake_bool(void *ctx, const char *key) { return fake_int(ctx, key) != 0; }
static const char *fake_string(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? v : "";
}

static void fake_init(struct fake_host *f, bbt_host_t *h, const char *over)
{
	memset(f, 0, sizeof *f);
	for (const struct bbt_option_spec *o = bbt_plugin.options; o->name; o++) {
		f->key[f->n] = o->name;
		snprintf(f->val[f->n], sizeof f->val[0], "%s", o->def ? o->def : "");
		f->n++;
	}
	if (over != NULL) {
		const char *eq = strchr(over, '=');
		for (size_t i = 0; i < f->n; i++)
			if (strncmp(f->key[i], over, (size_t)(eq - over)) == 0 && f->key[i][eq - over] == '\0')
				snprintf(f->val[i], sizeof f->val[0], "%s", eq + 1);
	}
	h->ctx = f;
	h->log = fake_log;
	h->rng_uniform = fake_uniform;
	h->rng_normal = fake_normal;
	h->rng_uint = fake_uint;
	h->opt_int = fake_int;
	h->opt_double = fake_double;
	h->opt_bool = fake_bool;
	h->opt_string = fake_string;
}

/* ------------------------------------------------------------------ */
/* A tiny random BERT. */

static const char *const vocab[] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "un",
	"##aff", "##able", "great", "bad", "it", "was", ".", "cafe", "##s", "\xe5\xa5\xbd",
	"the", "movie", "a", "naive", "w24", "w25", "w26", "w27", "w28", "w29",
	"w30", "w31", "w32", "w33", "w34", "w35", "w36", "w37", "w38", "w39",
};
#define NV 40
/* A byte-level BPE vocabulary (GPT-2's byte stand-ins: "\xc4\xa0" = G-dot =
 * space, "\xc4\x8a" = newline, "\xc3\x83\xc2\xa9" = the bytes of e-acute) and its
 * merges, in rank order. */
static const char *const bpe_vocab[] = {
	"<s>", "<pad>", "</s>", "<unk>", "<mask>", "h", "e", "l", "o", "\xc4\xa0",
	"w", "r", "d", "g", "a", "t", "c", "f", "\xc3\x83", "\xc2\xa9",
	"!", "he", "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor", "\xc4\xa0worl", "\xc4\xa0world",
	"\xc4\xa0g", "\xc4\xa0gr", "ea", "\xc4\xa0grea", "\xc4\xa0great", "ca", "caf", "caf\xc3\x83\xc2\xa9", "\xc4\x8a", "\xc4\xa0\xc4\xa0",
};
static const char *const bpe_merges[] = {
	"h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or", "\xc4\xa0wor l", "\xc4\xa0worl d",
	"\xc4\xa0 g", "\xc4\xa0g r", "e a", "\xc4\xa0gr ea", "\xc4\xa0grea t", "\xc3\x83 \xc2\xa9", "c a", "ca f",
	"caf \xc3\x83\xc2\xa9", "\xc4\xa0 \xc4\xa0",
};
#define NMERGES (sizeof bpe_merges / sizeof bpe_merges[0])
#define POS_OFF 2   /* RoBERTa: positions start at padding_idx + 1 */
enum { H = 32, HEADS = 4, FF = 64, NL = 2, NPOS = 64, NTYPES = 2 };

static uint64_t rs = 99;
static double rnd_normal(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	uint64_t y = (rs += 0x9e3779b97f4a7c15ull);
	y = (y ^ (y >> 30)) * 0xbf58476d1ce4e5b9ull;
	y = (y ^ (y >> 27)) * 0x94d049bb133111ebull;
	y ^= y >> 31;
	double u1 = ((z >> 11) + 1) * 0x1.0p-53, u2 = (y >> 11) * 0x1.0p-53;
	return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

struct tiny {
	float *tok, *pos, *type, *eg, *eb;
	float *wq[NL], *bq[NL], *wk[NL], *bk[NL], *wv[NL], *bv[NL], *wo[NL], *bo[NL];
	float *g1[NL], *b1n[NL], *w1[NL], *b1[NL], *w2[NL], *b2[NL], *g2[NL], *b2n[NL];
	float *mw, *mb, *mg, *mbn, *ob;
	float *all[64];
	int n_all;
};

static float *rnd(struct tiny *t, size_t n, double mean, double sd)
{
	float *p = malloc(n * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(mean + sd * rnd_normal());
	t->all[t->n_all++] = p;
	return p;
}

static void tiny_init(struct tiny *t)
{
	memset(t, 0, sizeof *t);
	t->tok = rnd(t, NV * H, 0, 0.5);
	t->pos = rnd(t, (NPOS + POS_OFF) * H, 0, 0.2);
	t->type = rnd(t, NTYPES * H, 0, 0.2);
	t->eg = rnd(t, H, 1, 0.1);
	t->eb = rnd(t, H, 0, 0.1);
	double sh = 1 / sqrt((double)H), sf = 1 / sqrt((double)FF);
	for (int l = 0; l < NL; l++) {
		t->wq[l] = rnd(t, H * H, 0, sh); t->bq[l] = rnd(t, H, 0, 0.1);
		t->wk[l] = rnd(t, H * H, 0, sh); t->bk[l] = rnd(t, H, 0, 0.1);
		t->wv[l] = rnd(t, H * H, 0, sh); t->bv[l] = rnd(t, H, 0, 0.1);
		t->wo[l] = rnd(t, H * H, 0, sh); t->bo[l] = rnd(t, H, 0, 0.1);
		t->g1[l] = rnd(t, H, 1, 0.1); t->b1n[l] = rnd(t, H, 0, 0.1);
		t->w1[l] = rnd(t, FF * H, 0, sh); t->b1[l] = rnd(t, FF, 0, 0.1);
		t->w2[l] = rnd(t, H * FF, 0, sf); t->b2[l] = rnd(t, H, 0, 0.1);
		t->g2[l] = rnd(t, H, 1, 0.1); t->b2n[l] = rnd(t, H, 0, 0.1);
	}
	t->mw = rnd(t, H * H, 0, sh);
	t->mb = rnd(t, H, 0, 0.1);
	t->mg = rnd(t, H, 1, 0.1);
	t->mbn = rnd(t, H, 0, 0.1);
	t->ob = rnd(t, NV, 0, 0.5);
}

static void tiny_free(struct tiny *t)
{
	for (int i = 0; i < t->n_all; i++)
		free(t->all[i]);
}

/* Which tensor to leave out or misshape, for the bad-model tests. */
struct damage {
	const char *drop;      /* tensor name not written */
	const char *reshape;   /* tensor written with ne[0] = H + 1 */
	const char *arch;      /* architecture name */
	int f16;               /* matrices as f16 */
	int roberta;           /* RoBERTa: BPE vocabulary, positions offset by 2 */
};

static int add_t(bbt_gguf_writer_t *w, const struct damage *d, const char *name, const float *data,
                 uint64_t in, uint64_t out, uint16_t **keep, int *nk)
{
	if (d->drop && strcmp(d->drop, name) == 0)
		return 0;
	uint64_t ne[2] = { in, out };
	uint32_t nd = out ? 2 : 1;
	if (d->reshape && strcmp(d->reshape, name) == 0) {
		/* the same bytes read as a different shape */
		ne[0] = out ? out : in;
		ne[1] = out ? in : 1;
		if (!out || in == out) {
			ne[0] = in / 2;
			ne[1] = 2;
			nd = 2;
		}
	}
	if (d->f16 && nd == 2 && !(d->reshape && strcmp(d->reshape, name) == 0)) {
		size_t n = (size_t)(in * out);
		uint16_t *h = malloc(n * sizeof *h);
		for (size_t i = 0; i < n; i++)
			h[i] = bbt_fp32_to_fp16(data[i]);
		keep[(*nk)++] = h;
		return bbt_gguf_writer_add_tensor(w, name, BBT_GGML_F16, nd, ne, h);
	}
	return bbt_gguf_writer_add_tensor(w, name, BBT_GGML_F32, nd, ne, data);
}

static int tiny_write(const struct tiny *t, const char *path, const struct damage *d)
{
	bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
	const char *arch = d->arch ? d->arch : d->roberta ? "roberta" : "bert";
	char key[96];
	bbt_gguf_writer_set_str(w, "general.architecture", arch);
#define U32(s, v) (snprintf(key, sizeof key, "%s." s, arch), bbt_gguf_writer_set_u32(w, key, v))
	U32("context_length", NPOS);
	U32("embedding_length", H);
	U32("block_count", NL);
	U32("feed_forward_length", FF);
	U32("attention.head_count", HEADS);
#undef U32
	snprintf(key, sizeof key, "%s.attention.layer_norm_epsilon", arch);
	bbt_gguf_writer_set_f32(w, key, 1e-12f);
	if (d->roberta) {
		snprintf(key, sizeof key, "%s.position_offset", arch);
		bbt_gguf_writer_set_u32(w, key, POS_OFF);
		bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
		bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", bpe_vocab, NV);
		bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", bpe_merges, NMERGES);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 0);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 1);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 3);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.mask_token_id", 4);
	} else {
		bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert");
		bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", vocab, NV);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 0);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 1);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 2);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 3);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.mask_token_id", 4);
		bbt_gguf_writer_set_bool(w, "bbt.tokenizer.do_lower_case", 1);
	}
	uint16_t *keep[64];
	int nk = 0, rc = 0;
	rc |= add_t(w, d, "token_embd.weight", t->tok, H, NV, keep, &nk);
	rc |= add_t(w, d, "position_embd.weight", d->roberta ? t->pos : t->pos + POS_OFF * H, H,
	            NPOS + (d->roberta ? POS_OFF : 0), keep, &nk);
	rc |= add_t(w, d, "token_types.weight", t->type, H, NTYPES, keep, &nk);
	rc |= add_t(w, d, "token_embd_norm.weight", t->eg, H, 0, keep, &nk);
	rc |= add_t(w, d, "token_embd_norm.bias", t->eb, H, 0, keep, &nk);
	for (int l = 0; l < NL; l++) {
		char n[64];
#define L2(s, p, in, out) (snprintf(n, sizeof n, "blk.%d." s, l), add_t(w, d, n, p, in, out, keep, &nk))
		rc |= L2("attn_q.weight", t->wq[l], H, H);
		rc |= L2("attn_q.bias", t->bq[l], H, 0);
		rc |= L2("attn_k.weight", t->wk[l], H, H);
		rc |= L2("attn_k.bias", t->bk[l], H, 0);
		rc |= L2("attn_v.weight", t->wv[l], H, H);
		rc |= L2("attn_v.bias", t->bv[l], H, 0);
		rc |= L2("attn_output.weight", t->wo[l], H, H);
		rc |= L2("attn_output.bias", t->bo[l], H, 0);
		rc |= L2("attn_output_norm.weight", t->g1[l], H, 0);
		rc |= L2("attn_output_norm.bias", t->b1n[l], H, 0);
		rc |= L2("ffn_up.weight", t->w1[l], H, FF);
		rc |= L2("ffn_up.bias", t->b1[l], FF, 0);
		rc |= L2("ffn_down.weight", t->w2[l], FF, H);
		rc |= L2("ffn_down.bias", t->b2[l], H, 0);
		rc |= L2("layer_output_norm.weight", t->g2[l], H, 0);
		rc |= L2("layer_output_norm.bias", t->b2n[l], H, 0);
#undef L2
	}
	rc |= add_t(w, d, "mlm.dense.weight", t->mw, H, H, keep, &nk);
	rc |= add_t(w, d, "mlm.dense.bias", t->mb, H, 0, keep, &nk);
	rc |= add_t(w, d, "mlm.norm.weight", t->mg, H, 0, keep, &nk);
	rc |= add_t(w, d, "mlm.norm.bias", t->mbn, H, 0, keep, &nk);
	rc |= add_t(w, d, "mlm.output.bias", t->ob, NV, 0, keep, &nk);
	char err[BBT_ERRLEN];
	if (rc == 0)
		rc = bbt_gguf_writer_write(w, path, err, sizeof err);
	bbt_gguf_writer_free(w);
	for (int i = 0; i < nk; i++)
		free(keep[i]);
	return rc;
}

/* ------------------------------------------------------------------ */

struct be {
	struct fake_host fh;
	bbt_host_t host;
	void *st;
	struct bbt_model_info info;
};

static int be_open(struct be *b, const char *path, const char *over, size_t P, size_t Lp,
                   char *err)
{
	struct bbt_backend_params p = { path, P, Lp, 1 };
	fake_init(&b->fh, &b->host, over);
	b->st = NULL;
	return bbt_plugin.backend->open(&b->host, &p, &b->st, &b->info, err, BBT_ERRLEN);
}

/* Three sequences of different lengths: [CLS] ... [MASK] ... [SEP]. */
static const int32_t seq_ids[] = {
	2, 5, 7, 4, 16, 3,                /* 6 tokens, mask at 3 */
	2, 20, 21, 15, 4, 3,              /* 6 tokens */
	2, 14, 15, 22, 12, 21, 16, 4, 3,  /* 9 tokens, mask at 7 */
};
static const size_t seq_off[] = { 0, 6, 12, 21 };
static const size_t seq_pred[] = { 3, 4, 7 };
static const size_t seq_pp[] = { 1, 1, 1 };
static const int32_t labels[] = { 12, 13, 5 };
#define NSEQ 3
#define NLAB 3

static void batch_of(struct bbt_batch *b, size_t P, size_t Lp)
{
	memset(b, 0, sizeof *b);
	b->n_seq = NSEQ;
	b->ids = seq_ids;
	b->offset = seq_off;
	b->predict_pos = seq_pred;
	b->prompt_pos = seq_pp;
	b->n_labels = NLAB;
	b->label_ids = labels;
	b->prompt_len = P;
	b->prompt_layers = Lp;
}


/* ------------------------------------------------------------------ */
/* Tiny decoders: GPT-2 (pre-LN, fused qkv with bias, tanh GELU, learned
 * positions) and Llama (RMSNorm, RoPE on adjacent pairs, SwiGLU, 2 key/value
 * heads for 4 query heads). */

enum { KVH = 2 };

/* A SentencePiece vocabulary ("\xe2\x96\x81" = U+2581, the space) with
 * scores that build the words left to right, and byte tokens for e-acute. */
#define SP "\xe2\x96\x81"
static const char *const spm_vocab[NV] = {
	"<unk>", "<s>", "</s>", SP, "h", "e", "l", "o", "w", "r",
	"d", "g", "a", "t", SP "h", SP "he", "ll", SP "hell", SP "hello", SP "w",
	"or", SP "wor", SP "worl", SP "world", SP "g", SP "gr", SP "gre", SP "grea", SP "great", "<0xC3>",
	"<0xA9>", "x31", "x32", "x33", "x34", "x35", "x36", "x37", "x38", "x39",
};
static const float spm_scores[NV] = {
	0, 0, 0, -20, -20, -20, -20, -20, -20, -20,
	-20, -20, -20, -20, -1, -2, -3, -4, -5, -6,
	-7, -8, -9, -10, -11, -12, -13, -14, -15, 0,
	0, -30, -30, -30, -30, -30, -30, -30, -30, -30,
};

struct tdec {
	int llama, spm;
	float *tok, *pos, *onorm_g, *onorm_b, *out;
	float *n1g[NL], *n1b[NL], *wq[NL], *wk[NL], *wv[NL], *bqkv[NL], *wo[NL], *bo[NL];
	float *n2g[NL], *n2b[NL], *w1[NL], *b1[NL], *wg[NL], *w2[NL], *b2[NL];
	struct tiny mem;   /* owns the arrays */
};

static void tdec_init(struct tdec *d, int llama)
{
	memset(d, 0, sizeof *d);
	d->llama = llama;
	struct tiny *m = &d->mem;
	size_t kv = llama ? (size_t)(H / HEADS * KVH) : H;
	double sh = 1 / sqrt((double)H), sf = 1 / sqrt((double)FF);
	d->tok = rnd(m, NV * H, 0, 0.5);
	d->pos = rnd(m, NPOS * H, 0, 0.2);
	d->onorm_g = rnd(m, H, 1, 0.1);
	d->onorm_b = rnd(m, H, 0, 0.1);
	d->out = rnd(m, NV * H, 0, 0.5);
	for (int l = 0; l < NL; l++) {
		d->n1g[l] = rnd(m, H, 1, 0.1); d->n1b[l] = rnd(m, H, 0, 0.1);
		d->wq[l] = rnd(m, H * H, 0, sh);
		d->wk[l] = rnd(m, kv * H, 0, sh);
		d->wv[l] = rnd(m, kv * H, 0, sh);
		d->bqkv[l] = rnd(m, 3 * H, 0, 0.1);
		d->wo[l] = rnd(m, H * H, 0, sh); d->bo[l] = rnd(m, H, 0, 0.1);
		d->n2g[l] = rnd(m, H, 1, 0.1); d->n2b[l] = rnd(m, H, 0, 0.1);
		d->w1[l] = rnd(m, FF * H, 0, sh); d->b1[l] = rnd(m, FF, 0, 0.1);
		d->wg[l] = rnd(m, FF * H, 0, sh);
		d->w2[l] = rnd(m, H * FF, 0, sf); d->b2[l] = rnd(m, H, 0, 0.1);
	}
}

static int tdec_write(struct tdec *d, const char *path)
{
	bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
	const char *arch = d->llama ? "llama" : "gpt2";
	char key[96], n[64];
	float *fused[NL];
	bbt_gguf_writer_set_str(w, "general.architecture", arch);
#define U32(k, v) (snprintf(key, sizeof key, "%s." k, arch), bbt_gguf_writer_set_u32(w, key, v))
	U32("context_length", NPOS);
	U32("embedding_length", H);
	U32("block_count", NL);
	U32("feed_forward_length", FF);
	U32("attention.head_count", HEADS);
	if (d->llama) {
		U32("attention.head_count_kv", KVH);
		U32("rope.dimension_count", H / HEADS);
		bbt_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f);
		bbt_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
	} else {
		bbt_gguf_writer_set_f32(w, "gpt2.attention.layer_norm_epsilon", 1e-5f);
	}
#undef U32
	if (d->spm) {
		bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
		bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", spm_vocab, NV);
		bbt_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", spm_scores, NV);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
	} else {
		bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2");
		bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", bpe_vocab, NV);
		bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", bpe_merges, NMERGES);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 0);
		bbt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
		bbt_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", d->llama);
	}
	struct damage none = { 0 };
	uint16_t *keep[4];
	int nk = 0, rc = 0;
	size_t kv = d->llama ? (size_t)(H / HEADS * KVH) : H;
	rc |= add_t(w, &none, "token_embd.weight", d->tok, H, NV, keep, &nk);
	rc |= add_t(w, &none, "output_norm.weight", d->onorm_g, H, 0, keep, &nk);
	rc |= add_t(w, &none, "output.weight", d->out, H, NV, keep, &nk);
	if (!d->llama) {
		rc |= add_t(w, &none, "position_embd.weight", d->pos, H, NPOS, keep, &nk);
		rc |= add_t(w, &none, "output_norm.bias", d->onorm_b, H, 0, keep, &nk);
	}
	for (int l = 0; l < NL; l++) {
		fused[l] = NULL;
#define A(sfx, p, in, out) (snprintf(n, sizeof n, "blk.%d." sfx, l), add_t(w, &none, n, p, in, out, keep, &nk))
		rc |= A("attn_norm.weight", d->n1g[l], H, 0);
		rc |= A("attn_output.weight", d->wo[l], H, H);
		rc |= A("ffn_norm.weight", d->n2g[l], H, 0);
		rc |= A("ffn_up.weight", d->w1[l], H, FF);
		rc |= A("ffn_down.weight", d->w2[l], FF, H);
		if (d->llama) {
			rc |= A("attn_q.weight", d->wq[l], H, H);
			rc |= A("attn_k.weight", d->wk[l], H, kv);
			rc |= A("attn_v.weight", d->wv[l], H, kv);
			rc |= A("ffn_gate.weight", d->wg[l], H, FF);
		} else {
			fused[l] = malloc(3 * H * H * sizeof(float));
			memcpy(fused[l], d->wq[l], H * H * sizeof(float));
			memcpy(fused[l] + H * H, d->wk[l], H * H * sizeof(float));
			memcpy(fused[l] + 2 * H * H, d->wv[l], H * H * sizeof(float));
			rc |= A("attn_qkv.weight", fused[l], H, 3 * H);
			rc |= A("attn_qkv.bias", d->bqkv[l], 3 * H, 0);
			rc |= A("attn_norm.bias", d->n1b[l], H, 0);
			rc |= A("attn_output.bias", d->bo[l], H, 0);
			rc |= A("ffn_norm.bias", d->n2b[l], H, 0);
			rc |= A("ffn_up.bias", d->b1[l], FF, 0);
			rc |= A("ffn_down.bias", d->b2[l], H, 0);
		}
#undef A
	}
	char err[BBT_ERRLEN];
	if (rc == 0)
		rc = bbt_gguf_writer_write(w, path, err, sizeof err);
	bbt_gguf_writer_free(w);
	for (int l = 0; l < NL; l++)
		free(fused[l]);
	return rc;
}
#endif /* BBT_T_NATIVE_TINY_H */
