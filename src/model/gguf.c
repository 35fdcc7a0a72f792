/*
 * gguf.c - GGUF reader (memory-mapped, every field bounds-checked) and
 * writer. See gguf.h for the byte layout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bbtbench/model/gguf.h>

/* ------------------------------------------------------------------ */
/* Types */

struct type_traits {
	const char *name;
	uint32_t block;   /* elements per block */
	uint32_t bytes;   /* bytes per block */
};

static const struct type_traits *ggml_traits(uint32_t type)
{
	static const struct type_traits t[] = {
		[BBT_GGML_F32] = { "f32", 1, 4 },
		[BBT_GGML_F16] = { "f16", 1, 2 },
		[BBT_GGML_Q4_0] = { "q4_0", 32, 18 },
		[BBT_GGML_Q4_1] = { "q4_1", 32, 20 },
		[BBT_GGML_Q5_0] = { "q5_0", 32, 22 },
		[BBT_GGML_Q5_1] = { "q5_1", 32, 24 },
		[BBT_GGML_Q8_0] = { "q8_0", 32, 34 },
		[BBT_GGML_Q8_1] = { "q8_1", 32, 36 },
		[BBT_GGML_Q2_K] = { "q2_K", 256, 84 },
		[BBT_GGML_Q3_K] = { "q3_K", 256, 110 },
		[BBT_GGML_Q4_K] = { "q4_K", 256, 144 },
		[BBT_GGML_Q5_K] = { "q5_K", 256, 176 },
		[BBT_GGML_Q6_K] = { "q6_K", 256, 210 },
		[BBT_GGML_Q8_K] = { "q8_K", 256, 292 },
		[BBT_GGML_I8] = { "i8", 1, 1 },
		[BBT_GGML_I16] = { "i16", 1, 2 },
		[BBT_GGML_I32] = { "i32", 1, 4 },
		[BBT_GGML_I64] = { "i64", 1, 8 },
		[BBT_GGML_F64] = { "f64", 1, 8 },
		[BBT_GGML_BF16] = { "bf16", 1, 2 },
	};
	if (type >= sizeof t / sizeof t[0] || t[type].name == NULL)
		return NULL;
	return &t[type];
}

const char *bbt_ggml_type_name(uint32_t type)
{
	const struct type_traits *tt = ggml_traits(type);
	return tt ? tt->name : NULL;
}

const char *bbt_gguf_type_name(uint32_t type)
{
	static const char *const names[] = { "u8", "i8", "u16", "i16", "u32", "i32", "f32",
	                                     "bool", "string", "array", "u64", "i64", "f64" };
	return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* Size of one scalar of a metadata type; 0 for string, array and unknown. */
static size_t scalar_size(uint32_t type)
{
	switch (type) {
	case BBT_GGUF_UINT8: case BBT_GGUF_INT8: case BBT_GGUF_BOOL: return 1;
	case BBT_GGUF_UINT16: case BBT_GGUF_INT16: return 2;
	case BBT_GGUF_UINT32: case BBT_GGUF_INT32: case BBT_GGUF_FLOAT32: return 4;
	case BBT_GGUF_UINT64: case BBT_GGUF_INT64: case BBT_GGUF_FLOAT64: return 8;
	default: return 0;
	}
}

float bbt_fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
	if (exp == 0) {
		if (mant == 0) {
			bits = sign;
		} else {
			/* subnormal: value = mant * 2^-24, exact in float */
			float f = (float)mant * 0x1p-24f;
			return sign ? -f : f;
		}
	} else if (exp == 31) {
		bits = sign | 0x7f800000u | (mant << 13);
	} else {
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	}
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

uint16_t bbt_fp32_to_fp16(float f)
{
	uint32_t x;
	memcpy(&x, &f, sizeof x);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t ax = x & 0x7fffffffu;
	if (ax >= 0x7f800000u)  /* inf or nan (keep nan quiet) */
		return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
	if (ax >= 0x477ff000u)  /* rounds to >= 65520: overflow to inf */
		return (uint16_t)(sign | 0x7c00);
	if (ax < 0x38800000u) {
		/* subnormal half (or zero): round |f| / 2^-24 to nearest even */
		float af;
		memcpy(&af, &ax, sizeof af);
		float q = af * 0x1p24f;
		float r = nearbyintf(q);  /* default rounding mode: to nearest even */
		return (uint16_t)(sign | (uint16_t)r);
	}
	uint32_t exp = (ax >> 23) - 112, mant = ax & 0x7fffff;
	uint32_t h = (exp << 10) | (mant >> 13);
	uint32_t rest = mant & 0x1fff;
	if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
		h++;  /* may carry into the exponent, which is right */
	return (uint16_t)(sign | h);
}

/* ------------------------------------------------------------------ */
/* Quantization (ggml's Q8_0 and Q4_0 block layouts, from the format's
 * description: blocks of 32 values sharing one f16 scale d) */

size_t bbt_ggml_row_size(uint32_t type, uint64_t n)
{
	const struct type_traits *tt = ggml_traits(type);
	if (tt == NULL || n % tt->block != 0)
		return 0;
	return (size_t)(n / tt->block * tt->bytes);
}

/* Q8_0: d = max|x| / 127, q = round(x / d) as int8. */
static void q8_0_block(const float *x, unsigned char *out)
{
	float amax = 0;
	for (int j = 0; j < 32; j++)
		amax = fmaxf(amax, fabsf(x[j]));
	float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
	uint16_t h = bbt_fp32_to_fp16(d);
	out[0] = (unsigned char)(h & 0xff);
	out[1] = (unsigned char)(h >> 8);
	for (int j = 0; j < 32; j++)
		out[2 + j] = (unsigned char)(int8_t)lroundf(x[j] * id);
}

/* Q4_0: d = m / -8 with m the value of largest magnitude (so that it maps
 * to -8 exactly), q = x / d + 8 in 0..15; byte j holds q[j] in its low
 * nibble and q[j + 16] in its high one. */
static void q4_0_block(const float *x, unsigned char *out)
{
	float amax = 0, m = 0;
	for (int j = 0; j < 32; j++)
		if (fabsf(x[j]) > amax) {
			amax = fabsf(x[j]);
			m = x[j];
		}
	float d = m / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
	uint16_t h = bbt_fp32_to_fp16(d);
	out[0] = (unsigned char)(h & 0xff);
	out[1] = (unsigned char)(h >> 8);
	for (int j = 0; j < 16; j++) {
		int lo = (int)(x[j] * id + 8.5f), hi = (int)(x[j + 16] * id + 8.5f);
		lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
		hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
		out[2 + j] = (unsigned char)(lo | hi << 4);
	}
}

int bbt_ggml_quantize(uint32_t type, const float *x, uint64_t n, void *out)
{
	unsigned char *o = out;
	if (n % 32 != 0)
		return BBT_EINVAL;
	if (type == BBT_GGML_Q8_0) {
		for (uint64_t b = 0; b < n / 32; b++)
			q8_0_block(x + 32 * b, o + 34 * b);
	} else if (type == BBT_GGML_Q4_0) {
		for (uint64_t b = 0; b < n / 32; b++)
			q4_0_block(x + 32 * b, o + 18 * b);
	} else {
		return BBT_ENOTSUP;
	}
	return BBT_OK;
}

float bbt_bf16_to_fp32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* ------------------------------------------------------------------ */
/* Reader */

struct kv {
	char *key;
	uint32_t type;
	uint32_t arr_type;      /* ARRAY */
	uint64_t arr_n;         /* ARRAY */
	union {
		uint64_t u;
		int64_t i;
		double f;
	} v;                    /* scalars, widened */
	char *str;              /* STRING */
	char **strs;            /* ARRAY of STRING: arr_n pointers into one block */
	const uint8_t *raw;     /* ARRAY of numbers: into the mapping (maybe unaligned) */
};

struct bbt_gguf {
	char *name;
	void *map;              /* mmap'ed region, or NULL for a caller's buffer */
	size_t map_size;
	const uint8_t *data;
	size_t size;
	uint32_t version, alignment;
	size_t data_offset;
	size_t n_kv;
	struct kv *kv;
	size_t n_tensors;
	struct bbt_gguf_tensor *tensors;
};

struct cursor {
	const uint8_t *p;
	size_t size, pos;
	const char *name;
	char *err;
	size_t errlen;
};

static int need(struct cursor *c, size_t n, const char *what)
{
	if (n > c->size - c->pos)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: truncated at byte %zu: %s needs %zu bytes, %zu left", c->name,
		                 c->pos, what, n, c->size - c->pos);
	return BBT_OK;
}

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int rd(struct cursor *c, size_t n, uint64_t *v, const char *what)
{
	int rc = need(c, n, what);
	if (rc < 0)
		return rc;
	*v = le(c->p + c->pos, n);
	c->pos += n;
	return BBT_OK;
}

/* A GGUF string, checked against the bytes left and copied NUL-terminated
 * into a malloc'ed *out; with out NULL it is only validated and skipped. */
static int rd_str(struct cursor *c, char **out, const char *what)
{
	uint64_t len;
	int rc = rd(c, 8, &len, what);
	if (rc < 0)
		return rc;
	if (len > c->size - c->pos)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: %s at byte %zu has length %" PRIu64 ", only %zu bytes left",
		                 c->name, what, c->pos - 8, len, c->size - c->pos);
	if (memchr(c->p + c->pos, '\0', (size_t)len) != NULL)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s: %s at byte %zu contains a NUL byte",
		                 c->name, what, c->pos - 8);
	if (out != NULL) {
		*out = strndup((const char *)c->p + c->pos, (size_t)len);
		if (*out == NULL)
			return bbt_error(c->err, c->errlen, BBT_ENOMEM, "%s: out of memory", c->name);
	}
	c->pos += (size_t)len;
	return BBT_OK;
}

static void kv_clear(struct kv *kv)
{
	free(kv->key);
	free(kv->str);
	free(kv->strs);
}

void bbt_gguf_free(bbt_gguf_t *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n_kv; i++)
		kv_clear(&g->kv[i]);
	free(g->kv);
	for (size_t i = 0; i < g->n_tensors; i++)
		free((char *)g->tensors[i].name);
	free(g->tensors);
	if (g->map != NULL)
		munmap(g->map, g->map_size);
	free(g->name);
	free(g);
}

static int read_scalar(struct cursor *c, uint32_t type, struct kv *kv)
{
	uint64_t v;
	size_t n = scalar_size(type);
	int rc = rd(c, n, &v, "metadata value");
	if (rc < 0)
		return rc;
	switch (type) {
	case BBT_GGUF_INT8: kv->v.i = (int8_t)v; break;
	case BBT_GGUF_INT16: kv->v.i = (int16_t)v; break;
	case BBT_GGUF_INT32: kv->v.i = (int32_t)v; break;
	case BBT_GGUF_INT64: kv->v.i = (int64_t)v; break;
	case BBT_GGUF_FLOAT32: {
		uint32_t b = (uint32_t)v;
		float f;
		memcpy(&f, &b, sizeof f);
		kv->v.f = f;
		break;
	}
	case BBT_GGUF_FLOAT64: memcpy(&kv->v.f, &v, sizeof v); break;
	case BBT_GGUF_BOOL:
		if (v > 1)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s: metadata \"%s\": bool value %" PRIu64 " is not 0 or 1",
			                 c->name, kv->key, v);
		kv->v.u = v;
		break;
	default: kv->v.u = v; break;
	}
	return BBT_OK;
}

static int read_kv(struct cursor *c, struct kv *kv)
{
	uint64_t type = 0;
	int rc = rd_str(c, &kv->key, "metadata key");
	if (rc == BBT_OK)
		rc = rd(c, 4, &type, "metadata type");
	if (rc < 0)
		return rc;
	kv->type = (uint32_t)type;
	if (scalar_size(kv->type) > 0)
		return read_scalar(c, kv->type, kv);
	if (kv->type == BBT_GGUF_STRING)
		return rd_str(c, &kv->str, "string value");
	if (kv->type != BBT_GGUF_ARRAY)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: metadata \"%s\" has unknown type %" PRIu64, c->name, kv->key, type);

	uint64_t at, n;
	if ((rc = rd(c, 4, &at, "array type")) < 0 || (rc = rd(c, 8, &n, "array length")) < 0)
		return rc;
	kv->arr_type = (uint32_t)at;
	kv->arr_n = n;
	size_t es = scalar_size(kv->arr_type);
	if (es > 0) {
		if (n > (c->size - c->pos) / es)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s: metadata \"%s\": array of %" PRIu64 " %s runs past the end "
			                 "of the file", c->name, kv->key, n, bbt_gguf_type_name(kv->arr_type));
		kv->raw = c->p + c->pos;
		if (kv->arr_type == BBT_GGUF_BOOL)
			for (uint64_t i = 0; i < n; i++)
				if (kv->raw[i] > 1)
					return bbt_error(c->err, c->errlen, BBT_EFORMAT,
					                 "%s: metadata \"%s\": bool element %" PRIu64
					                 " is not 0 or 1", c->name, kv->key, i);
		c->pos += (size_t)n * es;
		return BBT_OK;
	}
	if (kv->arr_type != BBT_GGUF_STRING)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: metadata \"%s\": arrays of %s are not supported", c->name, kv->key,
		                 bbt_gguf_type_name(kv->arr_type));
	/* Strings: a first pass validates and sizes, a second copies into one
	 * block of n pointers followed by the NUL-terminated texts. Each string
	 * takes at least its 8-byte length, which bounds n before allocating. */
	if (n > (c->size - c->pos) / 8)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: metadata \"%s\": array of %" PRIu64 " strings runs past the end "
		                 "of the file", c->name, kv->key, n);
	size_t start = c->pos, text = 0;
	for (uint64_t i = 0; i < n; i++) {
		size_t before = c->pos;
		if ((rc = rd_str(c, NULL, "array string")) < 0)
			return rc;
		text += c->pos - before - 8 + 1;
	}
	size_t ptrs = (size_t)n * sizeof(char *);
	char *block = malloc(ptrs + text + 1);
	if (block == NULL)
		return bbt_error(c->err, c->errlen, BBT_ENOMEM, "%s: out of memory", c->name);
	kv->strs = (char **)(void *)block;
	char *dst = block + ptrs;
	c->pos = start;
	for (uint64_t i = 0; i < n; i++) {
		size_t len = (size_t)le(c->p + c->pos, 8);
		c->pos += 8;
		memcpy(dst, c->p + c->pos, len);
		dst[len] = '\0';
		kv->strs[i] = dst;
		dst += len + 1;
		c->pos += len;
	}
	return BBT_OK;
}

static int read_tensor_info(struct cursor *c, struct bbt_gguf_tensor *t)
{
	char *name = NULL;
	uint64_t nd = 0, type = 0, off = 0;
	int rc = rd_str(c, &name, "tensor name");
	t->name = name;
	if (rc == BBT_OK)
		rc = rd(c, 4, &nd, "tensor n_dims");
	if (rc < 0)
		return rc;
	if (nd < 1 || nd > BBT_GGUF_MAX_DIMS)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: tensor \"%s\" has %" PRIu64 " dimensions (1 to %d allowed)",
		                 c->name, name, nd, BBT_GGUF_MAX_DIMS);
	t->n_dims = (uint32_t)nd;
	uint64_t count = 1;
	for (int d = 0; d < BBT_GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (uint32_t d = 0; d < t->n_dims; d++) {
		if ((rc = rd(c, 8, &t->ne[d], "tensor dimension")) < 0)
			return rc;
		if (t->ne[d] == 0 || t->ne[d] > INT64_MAX || count > INT64_MAX / t->ne[d])
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s: tensor \"%s\": dimension %u is %" PRIu64
			                 " (zero, or the element count overflows)", c->name, name, d,
			                 t->ne[d]);
		count *= t->ne[d];
	}
	t->n_elements = count;
	if ((rc = rd(c, 4, &type, "tensor type")) < 0 || (rc = rd(c, 8, &off, "tensor offset")) < 0)
		return rc;
	const struct type_traits *tt = ggml_traits((uint32_t)type);
	if (tt == NULL)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: tensor \"%s\" has unknown type %" PRIu64, c->name, name, type);
	if (t->ne[0] % tt->block != 0)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s: tensor \"%s\": row of %" PRIu64 " is not a multiple of the %s "
		                 "block size %u", c->name, name, t->ne[0], tt->name, tt->block);
	uint64_t blocks = count / tt->block;
	if (blocks > SIZE_MAX / tt->bytes)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s: tensor \"%s\" is too large",
		                 c->name, name);
	t->type = (uint32_t)type;
	t->nbytes = (size_t)blocks * tt->bytes;
	t->offset = off;
	return BBT_OK;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Refuse a metadata key (tensors == 0) or a tensor name (tensors == 1)
 * that appears twice. Sorted, not compared pairwise: a header may declare
 * 100,000 tensors, and n² comparisons took 19 s. */
static int check_unique(const bbt_gguf_t *g, int tensors, char *err, size_t errlen)
{
	size_t n = tensors ? g->n_tensors : g->n_kv;
	if (n < 2)
		return BBT_OK;
	const char **names = malloc(n * sizeof *names);
	if (names == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", g->name);
	for (size_t i = 0; i < n; i++)
		names[i] = tensors ? g->tensors[i].name : g->kv[i].key;
	qsort(names, n, sizeof *names, compare_names);
	int rc = BBT_OK;
	for (size_t i = 1; i < n && rc == BBT_OK; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: %s \"%s\" appears twice", g->name,
			               tensors ? "tensor" : "metadata key", names[i]);
	free(names);
	return rc;
}

static int parse(bbt_gguf_t *g, char *err, size_t errlen)
{
	struct cursor c = { g->data, g->size, 0, g->name, err, errlen };
	uint64_t magic, version, n_tensors, n_kv;
	int rc = rd(&c, 4, &magic, "magic");
	if (rc < 0)
		return rc;
	if (magic != 0x46554747u)  /* "GGUF" */
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: not a GGUF file (bad magic)", g->name);
	if ((rc = rd(&c, 4, &version, "version")) < 0)
		return rc;
	if (version != 2 && version != 3)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: GGUF version %" PRIu64 " (this reader knows 2 and 3)", g->name,
		                 version);
	g->version = (uint32_t)version;
	if ((rc = rd(&c, 8, &n_tensors, "tensor count")) < 0 ||
	    (rc = rd(&c, 8, &n_kv, "metadata count")) < 0)
		return rc;
	/* Each key-value takes at least 8 + 4 + 1 bytes and each tensor info
	 * 8 + 4 + 8 + 4 + 8: bound the counts by the file size before
	 * allocating for them. */
	if (n_kv > (g->size - c.pos) / 13)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: metadata count %" PRIu64 " does not fit in the file", g->name, n_kv);
	if (n_tensors > (g->size - c.pos) / 32)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: tensor count %" PRIu64 " does not fit in the file", g->name,
		                 n_tensors);
	g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
	g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
	if (g->kv == NULL || g->tensors == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", g->name);

	g->alignment = BBT_GGUF_DEFAULT_ALIGNMENT;
	for (uint64_t i = 0; i < n_kv; i++) {
		g->n_kv = (size_t)i + 1;
		if ((rc = read_kv(&c, &g->kv[i])) < 0)
			return rc;
		if (strcmp(g->kv[i].key, "general.alignment") == 0) {
			if (g->kv[i].type != BBT_GGUF_UINT32 || g->kv[i].v.u == 0 ||
			    (g->kv[i].v.u & (g->kv[i].v.u - 1)) != 0)
				return bbt_error(err, errlen, BBT_EFORMAT,
				                 "%s: general.alignment must be a u32 power of two", g->name);
			g->alignment = (uint32_t)g->kv[i].v.u;
		}
	}
	for (uint64_t i = 0; i < n_tensors; i++) {
		g->n_tensors = (size_t)i + 1;
		if ((rc = read_tensor_info(&c, &g->tensors[i])) < 0)
			return rc;
	}
	/* Keys and tensors are looked up by name: a duplicate is ambiguous. */
	if ((rc = check_unique(g, 0, err, errlen)) < 0 || (rc = check_unique(g, 1, err, errlen)) < 0)
		return rc;
	size_t a = g->alignment;
	size_t data_off = c.pos + (a - c.pos % a) % a;
	if (data_off > g->size)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: truncated: the data section would start at byte %zu of %zu",
		                 g->name, data_off, g->size);
	g->data_offset = data_off;
	size_t data_size = g->size - data_off;
	for (size_t i = 0; i < g->n_tensors; i++) {
		struct bbt_gguf_tensor *t = &g->tensors[i];
		if (t->offset % a != 0)
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s: tensor \"%s\": offset %" PRIu64 " is not a multiple of the "
			                 "alignment %zu", g->name, t->name, t->offset, a);
		if (t->offset > data_size || t->nbytes > data_size - t->offset)
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s: tensor \"%s\": bytes %" PRIu64 "..%" PRIu64 " of the data "
			                 "section run past the end of the file (%zu data bytes; truncated?)",
			                 g->name, t->name, t->offset, t->offset + (uint64_t)t->nbytes,
			                 data_size);
		t->data = g->data + data_off + t->offset;
	}
	return BBT_OK;
}

int bbt_gguf_open_buffer(const void *data, size_t size, const char *name, bbt_gguf_t **out,
                         char *err, size_t errlen)
{
	*out = NULL;
	bbt_gguf_t *g = calloc(1, sizeof *g);
	if (g == NULL || (g->name = strdup(name ? name : "(buffer)")) == NULL) {
		free(g);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	g->data = data;
	g->size = size;
	int rc = parse(g, err, errlen);
	if (rc < 0) {
		bbt_gguf_free(g);
		return rc;
	}
	*out = g;
	return BBT_OK;
}

int bbt_gguf_open(const char *path, bbt_gguf_t **out, char *err, size_t errlen)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return bbt_error(err, errlen, BBT_EIO, "%s: not a regular file", path);
	}
	if (st.st_size < 24) {
		close(fd);
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: %lld bytes is too short for a GGUF header (truncated?)", path,
		                 (long long)st.st_size);
	}
	size_t size = (size_t)st.st_size;
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return bbt_error(err, errlen, BBT_EIO, "%s: mmap: %s", path, strerror(e));
	bbt_gguf_t *g = NULL;
	int rc = bbt_gguf_open_buffer(map, size, path, &g, err, errlen);
	if (rc < 0) {
		munmap(map, size);
		return rc;
	}
	g->map = map;
	g->map_size = size;
	*out = g;
	return BBT_OK;
}

uint32_t bbt_gguf_version(const bbt_gguf_t *g) { return g->version; }
uint32_t bbt_gguf_alignment(const bbt_gguf_t *g) { return g->alignment; }
size_t bbt_gguf_data_offset(const bbt_gguf_t *g) { return g->data_offset; }
size_t bbt_gguf_n_kv(const bbt_gguf_t *g) { return g->n_kv; }
const char *bbt_gguf_kv_key(const bbt_gguf_t *g, size_t i) { return i < g->n_kv ? g->kv[i].key : NULL; }
uint32_t bbt_gguf_kv_type(const bbt_gguf_t *g, size_t i) { return g->kv[i].type; }
uint32_t bbt_gguf_kv_arr_type(const bbt_gguf_t *g, size_t i) { return g->kv[i].arr_type; }
uint64_t bbt_gguf_kv_arr_n(const bbt_gguf_t *g, size_t i) { return g->kv[i].arr_n; }
size_t bbt_gguf_n_tensors(const bbt_gguf_t *g) { return g->n_tensors; }

const struct bbt_gguf_tensor *bbt_gguf_tensor(const bbt_gguf_t *g, size_t i)
{
	return i < g->n_tensors ? &g->tensors[i] : NULL;
}

long bbt_gguf_find_kv(const bbt_gguf_t *g, const char *key)
{
	for (size_t i = 0; i < g->n_kv; i++)
		if (strcmp(g->kv[i].key, key) == 0)
			return (long)i;
	return -1;
}

const struct bbt_gguf_tensor *bbt_gguf_find_tensor(const bbt_gguf_t *g, const char *name)
{
	for (size_t i = 0; i < g->n_tensors; i++)
		if (strcmp(g->tensors[i].name, name) == 0)
			return &g->tensors[i];
	return NULL;
}

static const struct kv *get(const bbt_gguf_t *g, const char *key, char *err, size_t errlen)
{
	long i = bbt_gguf_find_kv(g, key);
	if (i < 0) {
		bbt_error(err, errlen, BBT_ENOTFOUND, "%s: metadata \"%s\" is missing", g->name, key);
		return NULL;
	}
	return &g->kv[i];
}

static int is_int_type(uint32_t t)
{
	return t <= BBT_GGUF_INT32 || t == BBT_GGUF_UINT64 || t == BBT_GGUF_INT64;
}

static int is_signed(uint32_t t)
{
	return t == BBT_GGUF_INT8 || t == BBT_GGUF_INT16 || t == BBT_GGUF_INT32 || t == BBT_GGUF_INT64;
}

int bbt_gguf_get_i64(const bbt_gguf_t *g, const char *key, int64_t *out, char *err, size_t errlen)
{
	const struct kv *kv = get(g, key, err, errlen);
	if (kv == NULL)
		return BBT_ENOTFOUND;
	if (!is_int_type(kv->type) || (!is_signed(kv->type) && kv->v.u > INT64_MAX))
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: metadata \"%s\" is a %s, not an integer",
		                 g->name, key, bbt_gguf_type_name(kv->type));
	*out = kv->v.i;
	return BBT_OK;
}

int bbt_gguf_get_u32(const bbt_gguf_t *g, const char *key, uint32_t *out, char *err, size_t errlen)
{
	int64_t v;
	int rc = bbt_gguf_get_i64(g, key, &v, err, errlen);
	if (rc < 0)
		return rc;
	if (v < 0 || v > UINT32_MAX)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: metadata \"%s\" = %" PRId64
		                 " is out of range", g->name, key, v);
	*out = (uint32_t)v;
	return BBT_OK;
}

int bbt_gguf_get_f64(const bbt_gguf_t *g, const char *key, double *out, char *err, size_t errlen)
{
	const struct kv *kv = get(g, key, err, errlen);
	if (kv == NULL)
		return BBT_ENOTFOUND;
	if (kv->type != BBT_GGUF_FLOAT32 && kv->type != BBT_GGUF_FLOAT64)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: metadata \"%s\" is a %s, not a float",
		                 g->name, key, bbt_gguf_type_name(kv->type));
	*out = kv->v.f;
	return BBT_OK;
}

int bbt_gguf_get_bool(const bbt_gguf_t *g, const char *key, int *out, char *err, size_t errlen)
{
	const struct kv *kv = get(g, key, err, errlen);
	if (kv == NULL)
		return BBT_ENOTFOUND;
	if (kv->type != BBT_GGUF_BOOL)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: metadata \"%s\" is a %s, not a bool",
		                 g->name, key, bbt_gguf_type_name(kv->type));
	*out = (int)kv->v.u;
	return BBT_OK;
}

int bbt_gguf_get_str(const bbt_gguf_t *g, const char *key, const char **out, char *err,
                     size_t errlen)
{
	const struct kv *kv = get(g, key, err, errlen);
	if (kv == NULL)
		return BBT_ENOTFOUND;
	if (kv->type != BBT_GGUF_STRING)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: metadata \"%s\" is a %s, not a string",
		                 g->name, key, bbt_gguf_type_name(kv->type));
	*out = kv->str;
	return BBT_OK;
}

int bbt_gguf_get_arr_str(const bbt_gguf_t *g, const char *key, const char *const **strs,
                         size_t *n, char *err, size_t errlen)
{
	const struct kv *kv = get(g, key, err, errlen);
	if (kv == NULL)
		return BBT_ENOTFOUND;
	if (kv->type != BBT_GGUF_ARRAY || kv->arr_type != BBT_GGUF_STRING)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: metadata \"%s\" is not an array of strings", g->name, key);
	*strs = (const char *const *)kv->strs;
	*n = (size_t)kv->arr_n;
	return BBT_OK;
}

/* Element i of a numeric array, widened. */
static void arr_elem(const struct kv *kv, size_t i, int64_t *iv, double *fv)
{
	size_t es = scalar_size(kv->arr_type);
	uint64_t raw = le(kv->raw + i * es, es);
	*fv = 0;
	switch (kv->arr_type) {
	case BBT_GGUF_INT8: *iv = (int8_t)raw; break;
	case BBT_GGUF_INT16: *iv = (int16_t)raw; break;
	case BBT_GGUF_INT32: *iv = (int32_t)raw; break;
	case BBT_GGUF_INT64: *iv = (int64_t)raw; break;
	case BBT_GGUF_FLOAT32: {
		uint32_t b = (uint32_t)raw;
		float f;
		memcpy(&f, &b, sizeof f);
		*fv = f;
		*iv = 0;
		return;
	}
	case BBT_GGUF_FLOAT64:
		memcpy(fv, &raw, sizeof raw);
		*iv = 0;
		return;
	default: *iv = (int64_t)raw; break;
	}
	*fv = (double)*iv;
}

static int get_num_arr(const bbt_gguf_t *g, const char *key, const struct kv **kvp, char *err,
                       size_t errlen)
{
	const struct kv *kv = get(g, key, err, errlen);
	if (kv == NULL)
		return BBT_ENOTFOUND;
	if (kv->type != BBT_GGUF_ARRAY || scalar_size(kv->arr_type) == 0)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: metadata \"%s\" is not an array of numbers", g->name, key);
	*kvp = kv;
	return BBT_OK;
}

int bbt_gguf_get_arr_f64(const bbt_gguf_t *g, const char *key, double **vals, size_t *n,
                         char *err, size_t errlen)
{
	const struct kv *kv;
	int rc = get_num_arr(g, key, &kv, err, errlen);
	if (rc < 0)
		return rc;
	double *v = malloc((kv->arr_n ? (size_t)kv->arr_n : 1) * sizeof *v);
	if (v == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < kv->arr_n; i++) {
		int64_t iv;
		arr_elem(kv, i, &iv, &v[i]);
	}
	*vals = v;
	*n = (size_t)kv->arr_n;
	return BBT_OK;
}

int bbt_gguf_get_arr_i64(const bbt_gguf_t *g, const char *key, int64_t **vals, size_t *n,
                         char *err, size_t errlen)
{
	const struct kv *kv;
	int rc = get_num_arr(g, key, &kv, err, errlen);
	if (rc < 0)
		return rc;
	if (kv->arr_type == BBT_GGUF_FLOAT32 || kv->arr_type == BBT_GGUF_FLOAT64)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: metadata \"%s\" is an array of floats, not integers", g->name, key);
	int64_t *v = malloc((kv->arr_n ? (size_t)kv->arr_n : 1) * sizeof *v);
	if (v == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < kv->arr_n; i++) {
		double fv;
		arr_elem(kv, i, &v[i], &fv);
	}
	*vals = v;
	*n = (size_t)kv->arr_n;
	return BBT_OK;
}

void bbt_gguf_kv_format(const bbt_gguf_t *g, size_t i, char *buf, size_t len)
{
	const struct kv *kv = &g->kv[i];
	switch (kv->type) {
	case BBT_GGUF_STRING: snprintf(buf, len, "\"%s\"", kv->str); break;
	case BBT_GGUF_ARRAY:
		snprintf(buf, len, "[%s x %" PRIu64 "]", bbt_gguf_type_name(kv->arr_type), kv->arr_n);
		break;
	case BBT_GGUF_FLOAT32: case BBT_GGUF_FLOAT64: snprintf(buf, len, "%.9g", kv->v.f); break;
	case BBT_GGUF_BOOL: snprintf(buf, len, "%s", kv->v.u ? "true" : "false"); break;
	default:
		if (is_signed(kv->type))
			snprintf(buf, len, "%" PRId64, kv->v.i);
		else
			snprintf(buf, len, "%" PRIu64, kv->v.u);
	}
}

/* ------------------------------------------------------------------ */
/* Writer */

struct wkv {
	char *key;
	uint32_t type, arr_type;
	uint8_t *bytes;   /* the encoded value (after the type field) */
	size_t n_bytes;
};

struct wtensor {
	char *name;
	uint32_t type, n_dims;
	uint64_t ne[BBT_GGUF_MAX_DIMS];
	size_t nbytes;
	const void *data;
};

struct bbt_gguf_writer {
	struct wkv *kv;
	size_t n_kv, cap_kv;
	struct wtensor *t;
	size_t n_t, cap_t;
	uint32_t alignment;
	int oom;
};

bbt_gguf_writer_t *bbt_gguf_writer_alloc(void)
{
	bbt_gguf_writer_t *w = calloc(1, sizeof *w);
	if (w != NULL)
		w->alignment = BBT_GGUF_DEFAULT_ALIGNMENT;
	return w;
}

void bbt_gguf_writer_free(bbt_gguf_writer_t *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_kv; i++) {
		free(w->kv[i].key);
		free(w->kv[i].bytes);
	}
	free(w->kv);
	for (size_t i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->t);
	free(w);
}

struct buf {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void put_le(struct buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];
	for (size_t i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	put(b, tmp, n);
}

static void put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	put_le(b, n, 8);
	put(b, s, n);
}

/* Takes ownership of value->p. */
static int set_kv(bbt_gguf_writer_t *w, const char *key, uint32_t type, uint32_t arr_type,
                  struct buf *value)
{
	if (value->oom) {
		free(value->p);
		w->oom = 1;
		return BBT_ENOMEM;
	}
	for (size_t i = 0; i < w->n_kv; i++) {
		if (strcmp(w->kv[i].key, key) == 0) {
			free(w->kv[i].bytes);
			w->kv[i].type = type;
			w->kv[i].arr_type = arr_type;
			w->kv[i].bytes = value->p;
			w->kv[i].n_bytes = value->n;
			return BBT_OK;
		}
	}
	if (w->n_kv == w->cap_kv) {
		size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
		struct wkv *kv = realloc(w->kv, cap * sizeof *kv);
		if (kv == NULL) {
			free(value->p);
			w->oom = 1;
			return BBT_ENOMEM;
		}
		w->kv = kv;
		w->cap_kv = cap;
	}
	char *k = key != NULL ? strdup(key) : NULL;
	if (k == NULL) {
		free(value->p);
		w->oom = 1;
		return BBT_ENOMEM;
	}
	w->kv[w->n_kv++] = (struct wkv){ k, type, arr_type, value->p, value->n };
	return BBT_OK;
}

static int set_scalar(bbt_gguf_writer_t *w, const char *key, uint32_t type, uint64_t bits)
{
	struct buf b = { 0 };
	put_le(&b, bits, scalar_size(type));
	return set_kv(w, key, type, 0, &b);
}

int bbt_gguf_writer_set_u32(bbt_gguf_writer_t *w, const char *key, uint32_t v)
{
	if (strcmp(key, "general.alignment") == 0 && v != 0 && (v & (v - 1)) == 0)
		w->alignment = v;
	return set_scalar(w, key, BBT_GGUF_UINT32, v);
}

int bbt_gguf_writer_set_i32(bbt_gguf_writer_t *w, const char *key, int32_t v)
{
	return set_scalar(w, key, BBT_GGUF_INT32, (uint32_t)v);
}

int bbt_gguf_writer_set_u64(bbt_gguf_writer_t *w, const char *key, uint64_t v)
{
	return set_scalar(w, key, BBT_GGUF_UINT64, v);
}

int bbt_gguf_writer_set_f32(bbt_gguf_writer_t *w, const char *key, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, sizeof bits);
	return set_scalar(w, key, BBT_GGUF_FLOAT32, bits);
}

int bbt_gguf_writer_set_bool(bbt_gguf_writer_t *w, const char *key, int v)
{
	return set_scalar(w, key, BBT_GGUF_BOOL, v != 0);
}

int bbt_gguf_writer_set_str(bbt_gguf_writer_t *w, const char *key, const char *v)
{
	struct buf b = { 0 };
	put_str(&b, v);
	return set_kv(w, key, BBT_GGUF_STRING, 0, &b);
}

int bbt_gguf_writer_set_arr_str(bbt_gguf_writer_t *w, const char *key, const char *const *v,
                                size_t n)
{
	struct buf b = { 0 };
	put_le(&b, BBT_GGUF_STRING, 4);
	put_le(&b, n, 8);
	for (size_t i = 0; i < n; i++)
		put_str(&b, v[i]);
	return set_kv(w, key, BBT_GGUF_ARRAY, BBT_GGUF_STRING, &b);
}

int bbt_gguf_writer_set_arr_i32(bbt_gguf_writer_t *w, const char *key, const int32_t *v,
                                size_t n)
{
	struct buf b = { 0 };
	put_le(&b, BBT_GGUF_INT32, 4);
	put_le(&b, n, 8);
	for (size_t i = 0; i < n; i++)
		put_le(&b, (uint32_t)v[i], 4);
	return set_kv(w, key, BBT_GGUF_ARRAY, BBT_GGUF_INT32, &b);
}

int bbt_gguf_writer_set_arr_f32(bbt_gguf_writer_t *w, const char *key, const float *v,
                                size_t n)
{
	struct buf b = { 0 };
	put_le(&b, BBT_GGUF_FLOAT32, 4);
	put_le(&b, n, 8);
	for (size_t i = 0; i < n; i++) {
		uint32_t bits;
		memcpy(&bits, &v[i], sizeof bits);
		put_le(&b, bits, 4);
	}
	return set_kv(w, key, BBT_GGUF_ARRAY, BBT_GGUF_FLOAT32, &b);
}

int bbt_gguf_writer_add_tensor(bbt_gguf_writer_t *w, const char *name, uint32_t type,
                               uint32_t n_dims, const uint64_t *ne, const void *data)
{
	const struct type_traits *tt = ggml_traits(type);
	if (tt == NULL || n_dims < 1 || n_dims > BBT_GGUF_MAX_DIMS || data == NULL)
		return BBT_EINVAL;
	uint64_t count = 1;
	for (uint32_t d = 0; d < n_dims; d++) {
		if (ne[d] == 0 || count > UINT64_MAX / ne[d])
			return BBT_EINVAL;
		count *= ne[d];
	}
	if (ne[0] % tt->block != 0)
		return BBT_EINVAL;
	for (size_t i = 0; i < w->n_t; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return BBT_EINVAL;
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? 2 * w->cap_t : 64;
		struct wtensor *t = realloc(w->t, cap * sizeof *t);
		if (t == NULL) {
			w->oom = 1;
			return BBT_ENOMEM;
		}
		w->t = t;
		w->cap_t = cap;
	}
	struct wtensor *t = &w->t[w->n_t];
	memset(t, 0, sizeof *t);
	if ((t->name = name != NULL ? strdup(name) : NULL) == NULL) {
		w->oom = 1;
		return BBT_ENOMEM;
	}
	t->type = type;
	t->n_dims = n_dims;
	for (int d = 0; d < BBT_GGUF_MAX_DIMS; d++)
		t->ne[d] = d < (int)n_dims ? ne[d] : 1;
	t->nbytes = (size_t)(count / tt->block * tt->bytes);
	t->data = data;
	w->n_t++;
	return BBT_OK;
}

static size_t pad_to(size_t n, size_t a)
{
	return (a - n % a) % a;
}

int bbt_gguf_writer_write(bbt_gguf_writer_t *w, const char *path, char *err, size_t errlen)
{
	if (w->oom)
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory while building the GGUF",
		                 path);
	struct buf h = { 0 };
	put_le(&h, 0x46554747u, 4);
	put_le(&h, BBT_GGUF_VERSION, 4);
	put_le(&h, w->n_t, 8);
	put_le(&h, w->n_kv, 8);
	for (size_t i = 0; i < w->n_kv; i++) {
		put_str(&h, w->kv[i].key);
		put_le(&h, w->kv[i].type, 4);
		put(&h, w->kv[i].bytes, w->kv[i].n_bytes);
	}
	size_t a = w->alignment, off = 0;
	for (size_t i = 0; i < w->n_t; i++) {
		const struct wtensor *t = &w->t[i];
		put_str(&h, t->name);
		put_le(&h, t->n_dims, 4);
		for (uint32_t d = 0; d < t->n_dims; d++)
			put_le(&h, t->ne[d], 8);
		put_le(&h, t->type, 4);
		put_le(&h, off, 8);
		off += t->nbytes + pad_to(t->nbytes, a);
	}
	static const uint8_t zeros[64];
	for (size_t pad = pad_to(h.n, a); pad > 0 && !h.oom;) {
		size_t k = pad < sizeof zeros ? pad : sizeof zeros;
		put(&h, zeros, k);
		pad -= k;
	}
	if (h.oom) {
		free(h.p);
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	}

	size_t tmp_len = strlen(path) + 32;   /* ".tmp." and a pid */
	char *tmp = malloc(tmp_len);
	if (tmp != NULL)
		snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
	if (tmp == NULL) {
		free(h.p);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	FILE *f = fopen(tmp, "wb");
	int rc = BBT_OK;
	if (f == NULL) {
		rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", tmp, strerror(errno));
		free(tmp);
		free(h.p);
		return rc;
	}
	int ok = fwrite(h.p, 1, h.n, f) == h.n;
	for (size_t i = 0; ok && i < w->n_t; i++) {
		const struct wtensor *t = &w->t[i];
		size_t pad = pad_to(t->nbytes, a);
		ok = fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
		while (ok && pad > 0) {
			size_t k = pad < sizeof zeros ? pad : sizeof zeros;
			ok = fwrite(zeros, 1, k, f) == k;
			pad -= k;
		}
	}
	free(h.p);
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}
