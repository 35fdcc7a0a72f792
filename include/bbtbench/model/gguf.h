/*
 * bbtbench/model/gguf.h - read and write GGUF, the single-file model format
 * of ggml and llama.cpp (version 3, little-endian; ggml's docs/gguf.md).
 *
 * Part of libbbtmodel (pkg-config bbtmodel), which the host (convert, info)
 * and every model backend link.
 *
 * Ownership: a reader (bbt_gguf_t) owns its mapping; every string, array and
 * tensor pointer it hands out lives until bbt_gguf_free(). A writer keeps
 * the tensor data pointers it is given (not copies) until it writes.
 * Errors: 0 or a negative BBT_E* code with one line in err naming the file
 * and the field. Thread-safety: a reader is read-only after opening, so
 * threads may share one; a writer belongs to one thread at a time.
 *
 * Byte layout (all integers little-endian):
 *
 *     u32 magic "GGUF"   u32 version (3)   u64 n_tensors   u64 n_kv
 *     n_kv      x { string key; u32 type; value }
 *     n_tensors x { string name; u32 n_dims; u64 ne[n_dims]; u32 ggml_type;
 *                   u64 offset (from the data section, a multiple of the
 *                   alignment) }
 *     padding to `general.alignment` (u32, default 32)
 *     data section: the tensors, each at its offset
 *
 *     string = u64 length + bytes (no NUL); array value = u32 element type
 *     + u64 count + elements. ne[0] is the fastest-varying dimension, so a
 *     PyTorch weight [out][in] is stored with ne = { in, out }.
 *
 * Reading maps the file and validates every count, length, offset and size
 * against the file size before it is used: a truncated or malformed file is
 * BBT_EFORMAT with a message naming the file and the field, never a read out
 * of bounds.
 *
 *     bbt_gguf_t *g;
 *     if (bbt_gguf_open("m.gguf", &g, err, sizeof err) < 0) ...
 *     uint32_t n_layer;
 *     bbt_gguf_get_u32(g, "bert.block_count", &n_layer, err, sizeof err);
 *     const struct bbt_gguf_tensor *t = bbt_gguf_find_tensor(g, "token_embd.weight");
 *     bbt_gguf_free(g);
 *
 * Writing collects metadata and tensor pointers, then writes the file in
 * one pass (to PATH.tmp.<pid>, renamed over PATH when complete):
 *
 *     bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
 *     bbt_gguf_writer_set_str(w, "general.architecture", "bert");
 *     bbt_gguf_writer_add_tensor(w, "token_embd.weight", BBT_GGML_F32, 2, ne, data);
 *     bbt_gguf_writer_write(w, "m.gguf", err, sizeof err);
 *     bbt_gguf_writer_free(w);
 */
#ifndef BBTBENCH_MODEL_GGUF_H
#define BBTBENCH_MODEL_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BBT_GGUF_VERSION 3
#define BBT_GGUF_DEFAULT_ALIGNMENT 32
#define BBT_GGUF_MAX_DIMS 4

/* Metadata value types. */
enum bbt_gguf_type {
	BBT_GGUF_UINT8 = 0,
	BBT_GGUF_INT8 = 1,
	BBT_GGUF_UINT16 = 2,
	BBT_GGUF_INT16 = 3,
	BBT_GGUF_UINT32 = 4,
	BBT_GGUF_INT32 = 5,
	BBT_GGUF_FLOAT32 = 6,
	BBT_GGUF_BOOL = 7,
	BBT_GGUF_STRING = 8,
	BBT_GGUF_ARRAY = 9,
	BBT_GGUF_UINT64 = 10,
	BBT_GGUF_INT64 = 11,
	BBT_GGUF_FLOAT64 = 12,
};

/* Tensor element types (ggml's numbering). The reader knows the block
 * sizes of the common quantized types, so it can validate and list files
 * that hold them; the native backend computes with F32, F16 and BF16. */
enum bbt_ggml_type {
	BBT_GGML_F32 = 0,
	BBT_GGML_F16 = 1,
	BBT_GGML_Q4_0 = 2,
	BBT_GGML_Q4_1 = 3,
	BBT_GGML_Q5_0 = 6,
	BBT_GGML_Q5_1 = 7,
	BBT_GGML_Q8_0 = 8,
	BBT_GGML_Q8_1 = 9,
	BBT_GGML_Q2_K = 10,
	BBT_GGML_Q3_K = 11,
	BBT_GGML_Q4_K = 12,
	BBT_GGML_Q5_K = 13,
	BBT_GGML_Q6_K = 14,
	BBT_GGML_Q8_K = 15,
	BBT_GGML_I8 = 24,
	BBT_GGML_I16 = 25,
	BBT_GGML_I32 = 26,
	BBT_GGML_I64 = 27,
	BBT_GGML_F64 = 28,
	BBT_GGML_BF16 = 30,
};

/* Name of a tensor type ("f32", "q8_0"), or NULL if unknown. */
const char *bbt_ggml_type_name(uint32_t type);
/* Name of a metadata type ("u32", "string", "array"), or "?". */
const char *bbt_gguf_type_name(uint32_t type);

/* Half-precision conversions (IEEE binary16 and bfloat16); to-half rounds
 * to nearest even. */
float bbt_fp16_to_fp32(uint16_t h);
uint16_t bbt_fp32_to_fp16(float f);
float bbt_bf16_to_fp32(uint16_t h);

/* Bytes of n values of a tensor type; 0 for an unknown type or n not a
 * multiple of its block. */
size_t bbt_ggml_row_size(uint32_t type, uint64_t n);
/* Quantize n values (a multiple of 32) into out (bbt_ggml_row_size(type, n)
 * bytes) as BBT_GGML_Q8_0 or BBT_GGML_Q4_0, ggml's blocks of 32 with one
 * f16 scale d each:
 *     Q8_0  34 bytes: d (f16), 32 x int8 q;          x = d * q
 *     Q4_0  18 bytes: d (f16), 16 bytes of nibbles;  x = d * (q - 8), byte j
 *           holding value j (low nibble) and value j + 16 (high nibble)
 * BBT_ENOTSUP for other types, BBT_EINVAL when n is not a multiple of 32. */
int bbt_ggml_quantize(uint32_t type, const float *x, uint64_t n, void *out);

/* ------------------------------------------------------------------ */
/* Reader */

typedef struct bbt_gguf bbt_gguf_t;

struct bbt_gguf_tensor {
	const char *name;          /* NUL-terminated copy */
	uint32_t type;             /* enum bbt_ggml_type */
	uint32_t n_dims;           /* 1..BBT_GGUF_MAX_DIMS */
	uint64_t ne[BBT_GGUF_MAX_DIMS]; /* dims, ne[0] fastest; unused ones are 1 */
	uint64_t n_elements;
	uint64_t offset;           /* within the data section */
	size_t nbytes;
	const void *data;          /* into the mapping; aligned to the file's alignment */
};

/* Map and validate path. *out is NULL on failure. */
int bbt_gguf_open(const char *path, bbt_gguf_t **out, char *err, size_t errlen);
/* Parse a buffer the caller keeps alive (and unchanged) until the free;
 * `name` is used in messages. */
int bbt_gguf_open_buffer(const void *data, size_t size, const char *name, bbt_gguf_t **out,
                         char *err, size_t errlen);
/* Unmap and release; NULL is a no-op. */
void bbt_gguf_free(bbt_gguf_t *g);

uint32_t bbt_gguf_version(const bbt_gguf_t *g);
uint32_t bbt_gguf_alignment(const bbt_gguf_t *g);
size_t bbt_gguf_data_offset(const bbt_gguf_t *g);  /* file offset of the data section */

/* Metadata, in file order. */
size_t bbt_gguf_n_kv(const bbt_gguf_t *g);
const char *bbt_gguf_kv_key(const bbt_gguf_t *g, size_t i);
uint32_t bbt_gguf_kv_type(const bbt_gguf_t *g, size_t i);
/* ARRAY only: element type and count. */
uint32_t bbt_gguf_kv_arr_type(const bbt_gguf_t *g, size_t i);
uint64_t bbt_gguf_kv_arr_n(const bbt_gguf_t *g, size_t i);
/* Index of key, or -1. */
long bbt_gguf_find_kv(const bbt_gguf_t *g, const char *key);

/* Typed getters: BBT_ENOTFOUND when the key is absent, BBT_EFORMAT when
 * its type does not fit (integers convert between types when the value is
 * in range; floats accept F32 and F64). Messages name the file and key. */
int bbt_gguf_get_u32(const bbt_gguf_t *g, const char *key, uint32_t *out, char *err, size_t errlen);
int bbt_gguf_get_i64(const bbt_gguf_t *g, const char *key, int64_t *out, char *err, size_t errlen);
int bbt_gguf_get_f64(const bbt_gguf_t *g, const char *key, double *out, char *err, size_t errlen);
int bbt_gguf_get_bool(const bbt_gguf_t *g, const char *key, int *out, char *err, size_t errlen);
/* The string (NUL-terminated, owned by g). */
int bbt_gguf_get_str(const bbt_gguf_t *g, const char *key, const char **out, char *err,
                     size_t errlen);
/* A string array: *n entries, strs[i] NUL-terminated, owned by g. */
int bbt_gguf_get_arr_str(const bbt_gguf_t *g, const char *key, const char *const **strs,
                         size_t *n, char *err, size_t errlen);
/* A numeric array as double / int64 values into a malloc'ed array the
 * caller frees. */
int bbt_gguf_get_arr_f64(const bbt_gguf_t *g, const char *key, double **vals, size_t *n,
                         char *err, size_t errlen);
int bbt_gguf_get_arr_i64(const bbt_gguf_t *g, const char *key, int64_t **vals, size_t *n,
                         char *err, size_t errlen);
/* A scalar value as text (for `info`); arrays as "[type x n]". */
void bbt_gguf_kv_format(const bbt_gguf_t *g, size_t i, char *buf, size_t len);

size_t bbt_gguf_n_tensors(const bbt_gguf_t *g);
const struct bbt_gguf_tensor *bbt_gguf_tensor(const bbt_gguf_t *g, size_t i);
/* By name, or NULL. */
const struct bbt_gguf_tensor *bbt_gguf_find_tensor(const bbt_gguf_t *g, const char *name);

/* ------------------------------------------------------------------ */
/* Writer */

typedef struct bbt_gguf_writer bbt_gguf_writer_t;

/* NULL on out of memory. */
bbt_gguf_writer_t *bbt_gguf_writer_alloc(void);
/* NULL is a no-op. */
void bbt_gguf_writer_free(bbt_gguf_writer_t *w);

/* Metadata setters copy their arguments. A key set twice keeps the last
 * value. They fail only on out of memory (BBT_ENOMEM), which the writer
 * remembers and reports again at write time, so callers may check once. */
int bbt_gguf_writer_set_u32(bbt_gguf_writer_t *w, const char *key, uint32_t v);
int bbt_gguf_writer_set_i32(bbt_gguf_writer_t *w, const char *key, int32_t v);
int bbt_gguf_writer_set_u64(bbt_gguf_writer_t *w, const char *key, uint64_t v);
int bbt_gguf_writer_set_f32(bbt_gguf_writer_t *w, const char *key, float v);
int bbt_gguf_writer_set_bool(bbt_gguf_writer_t *w, const char *key, int v);
int bbt_gguf_writer_set_str(bbt_gguf_writer_t *w, const char *key, const char *v);
int bbt_gguf_writer_set_arr_str(bbt_gguf_writer_t *w, const char *key, const char *const *v,
                                size_t n);
int bbt_gguf_writer_set_arr_i32(bbt_gguf_writer_t *w, const char *key, const int32_t *v,
                                size_t n);
int bbt_gguf_writer_set_arr_f32(bbt_gguf_writer_t *w, const char *key, const float *v,
                                size_t n);

/* Add a tensor; `data` (n_elements of `type`) is NOT copied and must stay
 * valid until bbt_gguf_writer_write returns. BBT_EINVAL for a duplicate
 * name, bad dims or an unknown type. */
int bbt_gguf_writer_add_tensor(bbt_gguf_writer_t *w, const char *name, uint32_t type,
                               uint32_t n_dims, const uint64_t *ne, const void *data);

/* Write the file atomically. */
int bbt_gguf_writer_write(bbt_gguf_writer_t *w, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_MODEL_GGUF_H */
