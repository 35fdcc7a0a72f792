/*
 * tinymodel.c - the tiny random models of t/ (see tinymodel.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/gguf.h>
#include "tinymodel.h"
#include "core/util.h"

/* ------------------------------------------------------------------ */
/* A tiny random BERT. */

static const char *const vocab[] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "un",
	"##aff", "##able", "great", "bad", "it", "was", ".", "cafe", "##s", "\xe5\xa5\xbd",
	"the", "movie", "a", "naive", "w24", "w25", "w26", "w27", "w28", "w29",
	"w30", "w31", "w32", "w33", "w34", "w35", "w36", "w37", "w38", "w39",
};
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

static uint64_t rs = 99;
double rnd_normal(void)
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

static float *rnd(struct tiny *t, size_t n, double mean, double sd)
{
	float *p = malloc(n * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (float)(mean + sd * rnd_normal());
	t->all[t->n_all++] = p;
	return p;
}

void tiny_init(struct tiny *t)
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

void tiny_free(struct tiny *t)
{
	for (int i = 0; i < t->n_all; i++)
		free(t->all[i]);
}

/* The values of n f16 / Q8_0 / Q4_0 elements, by the block layouts in
 * gguf.h. */
static void dequantize(uint32_t type, const void *src, size_t n, float *out)
{
	const unsigned char *p = src;
	for (size_t i = 0; i < n; i++) {
		if (type == BBT_GGML_F16) {
			out[i] = bbt_fp16_to_fp32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
			continue;
		}
		size_t blk = i / 32, j = i % 32;
		const unsigned char *b = p + blk * (type == BBT_GGML_Q8_0 ? 34 : 18);
		float d = bbt_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
		if (type == BBT_GGML_Q8_0)
			out[i] = d * (float)(int8_t)b[2 + j];
		else
			out[i] = d * (float)((j < 16 ? b[2 + j] & 15 : b[2 + j - 16] >> 4) - 8);
	}
}

/* Add one tensor (in x out; out 0 for a vector), misshapen or dropped as
 * d says, its matrices converted to d->mtype into a buffer kept in keep. */
static int add_t(bbt_gguf_writer_t *w, const struct damage *d, const char *name, const float *data,
                 uint64_t in, uint64_t out, void **keep, int *nk)
{
	if (d->drop && strcmp(d->drop, name) == 0)
		return 0;
	if (d->nan_in && strcmp(d->nan_in, name) == 0) {
		size_t n = (size_t)(in * (out ? out : 1));
		float *nan = malloc(n * sizeof *nan);
		if (nan == NULL)
			return BBT_ENOMEM;
		keep[(*nk)++] = nan;
		for (size_t i = 0; i < n; i++)
			nan[i] = NAN;
		data = nan;
	}
	uint64_t ne[2] = { in, out };
	uint32_t nd = out ? 2 : 1;
	int reshaped = d->reshape && strcmp(d->reshape, name) == 0;
	if (reshaped) {
		/* the same bytes read as a different shape */
		ne[0] = out ? out : in;
		ne[1] = out ? in : 1;
		if (!out || in == out) {
			ne[0] = in / 2;
			ne[1] = 2;
			nd = 2;
		}
	}
	uint32_t type = nd == 2 && !reshaped ? d->mtype : BBT_GGML_F32;
	if ((type == BBT_GGML_Q8_0 || type == BBT_GGML_Q4_0) && in % 32 != 0)
		type = BBT_GGML_F16;
	if (type == BBT_GGML_F32)
		return bbt_gguf_writer_add_tensor(w, name, BBT_GGML_F32, nd, ne, data);
	size_t n = (size_t)(in * out);
	void *buf = malloc(bbt_ggml_row_size(type, in) * out);
	if (buf == NULL)
		return BBT_ENOMEM;
	keep[(*nk)++] = buf;
	if (type == BBT_GGML_F16)
		for (size_t i = 0; i < n; i++)
			((uint16_t *)buf)[i] = bbt_fp32_to_fp16(data[i]);
	else
		bbt_ggml_quantize(type, data, n, buf);
	if (!d->roundtrip)
		return bbt_gguf_writer_add_tensor(w, name, type, nd, ne, buf);
	float *f = malloc(n * sizeof *f);
	if (f == NULL)
		return BBT_ENOMEM;
	keep[(*nk)++] = f;
	dequantize(type, buf, n, f);
	return bbt_gguf_writer_add_tensor(w, name, BBT_GGML_F32, nd, ne, f);
}

int tiny_write(const struct tiny *t, const char *path, const struct damage *d)
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
	bbt_gguf_writer_set_f32(w, key, d->eps != 0 ? (float)d->eps : 1e-12f);
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
	void *keep[64];
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
/* Tiny decoders: GPT-2 (pre-LN, fused qkv with bias, tanh GELU, learned
 * positions) and Llama (RMSNorm, RoPE on adjacent pairs, SwiGLU, 2 key/value
 * heads for 4 query heads). */

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

void tdec_init(struct tdec *d, int llama)
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

int tdec_write(struct tdec *d, const char *path, uint32_t mtype, int roundtrip)
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
	struct damage as = { .mtype = mtype, .roundtrip = roundtrip };
	void *keep[64];
	int nk = 0, rc = 0;
	size_t kv = d->llama ? (size_t)(H / HEADS * KVH) : H;
	rc |= add_t(w, &as, "token_embd.weight", d->tok, H, NV, keep, &nk);
	rc |= add_t(w, &as, "output_norm.weight", d->onorm_g, H, 0, keep, &nk);
	rc |= add_t(w, &as, "output.weight", d->out, H, NV, keep, &nk);
	if (!d->llama) {
		rc |= add_t(w, &as, "position_embd.weight", d->pos, H, NPOS, keep, &nk);
		rc |= add_t(w, &as, "output_norm.bias", d->onorm_b, H, 0, keep, &nk);
	}
	for (int l = 0; l < NL; l++) {
		fused[l] = NULL;
#define A(sfx, p, in, out) (snprintf(n, sizeof n, "blk.%d." sfx, l), add_t(w, &as, n, p, in, out, keep, &nk))
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
	for (int i = 0; i < nk; i++)
		free(keep[i]);
	return rc;
}


static const int32_t seq_ids[] = {
	2, 5, 7, 4, 16, 3,
	2, 20, 21, 15, 4, 3, 9, 11, 12, 13, 14,
	2, 14, 15, 4, 3,
};
static const size_t seq_off[] = { 0, 6, 17, 22 };
static const size_t enc_pred[] = { 3, 4, 3 }, enc_pp[] = { 1, 1, 1 };
static const size_t dec_pred[] = { 5, 10, 4 }, dec_pp[] = { 0, 0, 0 };
static const int32_t labels[NLAB] = { 12, 13, 5, 30 };

void tiny_batch(struct bbt_batch *b, int causal, size_t P, size_t Lp)
{
	memset(b, 0, sizeof *b);
	b->n_seq = NSEQ;
	b->ids = seq_ids;
	b->offset = seq_off;
	b->predict_pos = causal ? dec_pred : enc_pred;
	b->prompt_pos = causal ? dec_pp : enc_pp;
	b->n_labels = NLAB;
	b->label_ids = labels;
	b->prompt_len = P;
	b->prompt_layers = Lp;
}
