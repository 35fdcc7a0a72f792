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

int bench_write_model(const char *path, uint32_t mtype)
{
	bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
	void *keep[64 * L];
	int nk = 0;
	char **toks = malloc(NV * sizeof *toks);
	static const char *const sp[5] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
	for (int i = 0; i < NV; i++)
		toks[i] = i < 5 ? bbt_strdup(sp[i]) : bbt_asprintf("w%d", i);
	bbt_gguf_writer_set_str(w, "general.architecture", "bert");
	bbt_gguf_writer_set_u32(w, "bert.context_length", NPOS);
	bbt_gguf_writer_set_u32(w, "bert.embedding_length", H);
	bbt_gguf_writer_set_u32(w, "bert.block_count", L);
	bbt_gguf_writer_set_u32(w, "bert.feed_forward_length", FF);
	bbt_gguf_writer_set_u32(w, "bert.attention.head_count", HEADS);
	bbt_gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", 1e-5f);
	bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert");
	bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)toks, NV);
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
	T2("token_embd.weight", H, NV, 0);
	T2("position_embd.weight", H, NPOS, 0);
	T2("token_types.weight", H, 1, 0);
	T2("token_embd_norm.weight", H, 0, 1);
	T2("token_embd_norm.bias", H, 0, 0);
	for (int l = 0; l < L; l++) {
		char n[64];
#define TL(s, in, out, base) do { snprintf(n, sizeof n, "blk.%d." s, l); T2(n, in, out, base); } while (0)
		TL("attn_q.weight", H, H, 0); TL("attn_q.bias", H, 0, 0);
		TL("attn_k.weight", H, H, 0); TL("attn_k.bias", H, 0, 0);
		TL("attn_v.weight", H, H, 0); TL("attn_v.bias", H, 0, 0);
		TL("attn_output.weight", H, H, 0); TL("attn_output.bias", H, 0, 0);
		TL("attn_output_norm.weight", H, 0, 1); TL("attn_output_norm.bias", H, 0, 0);
		TL("ffn_up.weight", H, FF, 0); TL("ffn_up.bias", FF, 0, 0);
		TL("ffn_down.weight", FF, H, 0); TL("ffn_down.bias", H, 0, 0);
		TL("layer_output_norm.weight", H, 0, 1); TL("layer_output_norm.bias", H, 0, 0);
	}
	T2("mlm.dense.weight", H, H, 0);
	T2("mlm.dense.bias", H, 0, 0);
	T2("mlm.norm.weight", H, 0, 1);
	T2("mlm.norm.bias", H, 0, 0);
	T2("mlm.output.bias", NV, 0, 0);
	char err[BBT_ERRLEN];
	int rc = bbt_gguf_writer_write(w, path, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", err);
	bbt_gguf_writer_free(w);
	for (int i = 0; i < nk; i++)
		free(keep[i]);
	for (int i = 0; i < NV; i++)
		free(toks[i]);
	free(toks);
	return rc;
}

