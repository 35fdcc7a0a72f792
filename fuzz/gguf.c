/*
 * gguf.c - fuzz target: the GGUF reader (src/model/gguf.c) on a buffer, then every
 * getter on every key and every byte range the reader vouches for.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include <bbtbench/model/gguf.h>

/* Read each key through the getter of its type, as the backends do. */
static void read_key(const bbt_gguf_t *g, size_t i)
{
	const char *key = bbt_gguf_kv_key(g, i);
	char err[256], text[256];
	bbt_gguf_kv_format(g, i, text, sizeof text);
	if (bbt_gguf_kv_type(g, i) == BBT_GGUF_ARRAY) {
		const char *const *strs;
		double *f64 = NULL;
		int64_t *i64 = NULL;
		size_t n;
		if (bbt_gguf_kv_arr_type(g, i) == BBT_GGUF_STRING) {
			bbt_gguf_get_arr_str(g, key, &strs, &n, err, sizeof err);
		} else {
			if (bbt_gguf_get_arr_f64(g, key, &f64, &n, err, sizeof err) == 0)
				free(f64);
			if (bbt_gguf_get_arr_i64(g, key, &i64, &n, err, sizeof err) == 0)
				free(i64);
		}
		return;
	}
	const char *s;
	uint32_t u32;
	int64_t i64;
	double f64;
	int b;
	bbt_gguf_get_str(g, key, &s, err, sizeof err);
	bbt_gguf_get_u32(g, key, &u32, err, sizeof err);
	bbt_gguf_get_i64(g, key, &i64, err, sizeof err);
	bbt_gguf_get_f64(g, key, &f64, err, sizeof err);
	bbt_gguf_get_bool(g, key, &b, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	bbt_gguf_t *g;
	if (bbt_gguf_open_buffer(data, size, "fuzz.gguf", &g, err, sizeof err) < 0)
		return 0;
	for (size_t i = 0; i < bbt_gguf_n_kv(g); i++)
		read_key(g, i);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < bbt_gguf_n_tensors(g); i++) {
		const struct bbt_gguf_tensor *t = bbt_gguf_tensor(g, i);
		bbt_gguf_find_tensor(g, t->name);
		if (t->nbytes > 0) { /* the first and last byte lie inside the buffer */
			const uint8_t *bytes = t->data;
			sink ^= bytes[0] ^ bytes[t->nbytes - 1];
		}
	}
	(void)sink;
	bbt_gguf_free(g);
	return 0;
}
