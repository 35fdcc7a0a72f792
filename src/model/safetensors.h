/*
 * safetensors.h - read a Hugging Face .safetensors file in place, and
 * write one (safetensors_write.c: a saved prompt).
 *
 * Byte layout: a little-endian u64 N, then N bytes of a JSON object (one
 * key per tensor: {"dtype": "F64"|"F32"|"F16"|"BF16", "shape": [...],
 * "data_offsets": [begin, end]}, plus an optional "__metadata__"), then the
 * tensors' raw data, offsets counted from its start.
 *
 *     struct bbt_safetensors st;
 *     if (bbt_safetensors_open("model.safetensors", &st, err, sizeof err) < 0)
 *         ... (close st all the same)
 *     struct bbt_safetensors_tensor *t = bbt_safetensors_find(&st, "bert.pooler.dense.bias");
 *     float x = t ? bbt_safetensors_get(t, 0) : 0;
 *     bbt_safetensors_close(&st);
 */
#ifndef BBT_SAFETENSORS_H
#define BBT_SAFETENSORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bbt_safetensors_tensor {
	const char *name;      /* the header's key (owned by the JSON) */
	int dtype;             /* BBT_GGML_F64, _F32, _F16 or _BF16 */
	int n_dims;
	uint64_t shape[4];
	uint64_t n_elements;
	const uint8_t *data;   /* inside the mapping, little-endian */
	int used;              /* set by the reader's user: hf_convert marks what it wrote */
};

/* An open file: the mapping, its parsed header and its tensors. */
struct bbt_safetensors {
	char *path;
	void *map;
	size_t size;
	json_t *header;
	struct bbt_safetensors_tensor *t;
	size_t n;
};

/* Map path and check its header: every tensor's dtype, shape and offsets
 * inside the file. st is always left closable, also on failure. */
int bbt_safetensors_open(const char *path, struct bbt_safetensors *st, char *err, size_t errlen);
/* The tensor of that name, or NULL. */
struct bbt_safetensors_tensor *bbt_safetensors_find(struct bbt_safetensors *st, const char *name);
/* Element i of t as a float, whatever its dtype. */
float bbt_safetensors_get(const struct bbt_safetensors_tensor *t, uint64_t i);
/* The same as a double: exact for F64. */
double bbt_safetensors_get_f64(const struct bbt_safetensors_tensor *t, uint64_t i);
/* Unmap and free; st is zeroed, so closing twice is harmless. */
void bbt_safetensors_close(struct bbt_safetensors *st);

/* One tensor to write: F64 from f64, or F32 from f32 (the other NULL). */
struct bbt_safetensors_out {
	const char *name;
	const double *f64;
	const float *f32;
	int n_dims;
	uint64_t shape[4];
};

/* Write n tensors and a "__metadata__" map (string values; NULL: none)
 * to path atomically (a temporary name, then rename): the header padded
 * with spaces to a multiple of 8 bytes, the data little-endian in the
 * order given. BBT_EIO naming the file, or BBT_EINVAL for a metadata
 * value that is not a string. */
int bbt_safetensors_write(const char *path, const struct bbt_safetensors_out *t, size_t n,
                          const json_t *metadata, char *err, size_t errlen);

#endif /* BBT_SAFETENSORS_H */
