/*
 * bench/basemodel.c - the benchmarks' RoBERTa-base-shaped encoder (see
 * basemodel.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basemodel.h"
#include <bbtbench/model/gguf.h>
#include "core/util.h"

static uint64_t rs = 7;
static float rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (float)(((double)(z >> 11) * 0x1.0p-53 - 0.5) * 0.1);
}

float *bench_buf(size_t n, float base)
{
	float *p = malloc(n * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = base + rnd();
	return p;
}

/* Add a tensor as type (a vector: f32), converting data into *conv. */
static void add(bbt_gguf_writer_t *w, const char *name, uint32_t type, const uint64_t *ne,
                const float *data, void **conv)
{
	size_t n = (size_t)(ne[0] * (ne[1] ? ne[1] : 1));
	*conv = NULL;
	if (type == BBT_GGML_F32) {
		bbt_gguf_writer_add_tensor(w, name, type, ne[1] ? 2 : 1, ne, data);
		return;
	}
	*conv = malloc(bbt_ggml_row_size(type, ne[0]) * (ne[1] ? ne[1] : 1));
	bbt_ggml_quantize(type, data, n, *conv);
	bbt_gguf_writer_add_tensor(w, name, type, 2, ne, *conv);
}

const struct bench_shape bench_base_shape = { L, H, HEADS, FF, NPOS, NV };

int bench_write_model(const char *path, uint32_t mtype)
{
	return bench_write_shape(path, mtype, &bench_base_shape);
}

int bench_write_shape(const char *path, uint32_t mtype, const struct bench_shape *sh)
{
	const size_t hid = (size_t)sh->hidden, ffw = (size_t)sh->ffn, nvoc = (size_t)sh->vocab;
	const int nlay = sh->layers;
	bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
	void **keep = malloc(64 * (size_t)(nlay + 1) * sizeof *keep);
	int nk = 0;
	char **toks = malloc(nvoc * sizeof *toks);
	static const char *const sp[5] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
	for (size_t i = 0; i < nvoc; i++)
		toks[i] = i < 5 ? bbt_strdup(sp[i]) : bbt_asprintf("w%zu", i);
	bbt_gguf_writer_set_str(w, "general.architecture", "bert");
	bbt_gguf_writer_set_u32(w, "bert.context_length", (uint32_t)sh->positions);
	bbt_gguf_writer_set_u32(w, "bert.embedding_length", (uint32_t)hid);
	bbt_gguf_writer_set_u32(w, "bert.block_count", (uint32_t)nlay);
	bbt_gguf_writer_set_u32(w, "bert.feed_forward_length", (uint32_t)ffw);
	bbt_gguf_writer_set_u32(w, "bert.attention.head_count", (uint32_t)sh->heads);
	bbt_gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", 1e-5f);
	bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert");
	bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)toks, nvoc);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 1);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 2);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 3);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.mask_token_id", 4);
#define T2(name, in, out, base) do { \
		uint64_t ne[2] = { in, out }; \
		keep[nk] = bench_buf((size_t)(in) * ((out) ? (out) : 1), base); \
		add(w, name, (out) ? mtype : BBT_GGML_F32, ne, keep[nk], &keep[nk + 1]); \
		nk += 2; \
	} while (0)
	T2("token_embd.weight", hid, nvoc, 0);
	T2("position_embd.weight", hid, sh->positions, 0);
	T2("token_types.weight", hid, 1, 0);
	T2("token_embd_norm.weight", hid, 0, 1);
	T2("token_embd_norm.bias", hid, 0, 0);
	for (int l = 0; l < nlay; l++) {
		char n[64];
#define TL(s, in, out, base) do { snprintf(n, sizeof n, "blk.%d." s, l); T2(n, in, out, base); } while (0)
		TL("attn_q.weight", hid, hid, 0); TL("attn_q.bias", hid, 0, 0);
		TL("attn_k.weight", hid, hid, 0); TL("attn_k.bias", hid, 0, 0);
		TL("attn_v.weight", hid, hid, 0); TL("attn_v.bias", hid, 0, 0);
		TL("attn_output.weight", hid, hid, 0); TL("attn_output.bias", hid, 0, 0);
		TL("attn_output_norm.weight", hid, 0, 1); TL("attn_output_norm.bias", hid, 0, 0);
		TL("ffn_up.weight", hid, ffw, 0); TL("ffn_up.bias", ffw, 0, 0);
		TL("ffn_down.weight", ffw, hid, 0); TL("ffn_down.bias", hid, 0, 0);
		TL("layer_output_norm.weight", hid, 0, 1); TL("layer_output_norm.bias", hid, 0, 0);
	}
	T2("mlm.dense.weight", hid, hid, 0);
	T2("mlm.dense.bias", hid, 0, 0);
	T2("mlm.norm.weight", hid, 0, 1);
	T2("mlm.norm.bias", hid, 0, 0);
	T2("mlm.output.bias", nvoc, 0, 0);
	char err[BBT_ERRLEN];
	int rc = bbt_gguf_writer_write(w, path, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", err);
	bbt_gguf_writer_free(w);
	for (int i = 0; i < nk; i++)
		free(keep[i]);
	free(keep);
	for (size_t i = 0; i < nvoc; i++)
		free(toks[i]);
	free(toks);
	return rc;
}

