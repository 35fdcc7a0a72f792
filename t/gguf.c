/*
 * t/gguf.c - GGUF writer and reader: a round trip of every metadata type
 * and of tensors, then every truncation and many random byte flips of the
 * valid file, each of which must open cleanly or fail with a message
 * (run under valgrind: no read may leave the buffer).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/model/gguf.h>
#include "core/util.h"
#include "tap.h"

static uint64_t rng_state = 12345;

static uint64_t next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Touch every byte the reader hands out, so valgrind sees any bad one. */
static unsigned walk(const bbt_gguf_t *g)
{
	unsigned sum = 0;
	for (size_t i = 0; i < bbt_gguf_n_kv(g); i++) {
		char buf[128];
		bbt_gguf_kv_format(g, i, buf, sizeof buf);
		sum += (unsigned char)buf[0];
		const char *key = bbt_gguf_kv_key(g, i);
		if (bbt_gguf_kv_type(g, i) == BBT_GGUF_ARRAY) {
			const char *const *s;
			size_t n;
			double *v;
			if (bbt_gguf_get_arr_str(g, key, &s, &n, NULL, 0) == BBT_OK) {
				for (size_t j = 0; j < n; j++)
					sum += (unsigned)strlen(s[j]);
			} else if (bbt_gguf_get_arr_f64(g, key, &v, &n, NULL, 0) == BBT_OK) {
				for (size_t j = 0; j < n; j++)
					sum += v[j] > 0;
				free(v);
			}
		}
	}
	for (size_t i = 0; i < bbt_gguf_n_tensors(g); i++) {
		const struct bbt_gguf_tensor *t = bbt_gguf_tensor(g, i);
		const unsigned char *p = t->data;
		for (size_t j = 0; j < t->nbytes; j++)
			sum += p[j];
	}
	return sum;
}

/* A GGUF v3 buffer of n tensors (or, with keys, n u32 metadata keys) with
 * distinct names, but for the last one when `dup` is set, which repeats
 * the first. */
static unsigned char *many_names(size_t n, int keys, int dup, size_t *len)
{
	size_t cap = 24 + n * 48 + 64, pos = 0;
	unsigned char *b = calloc(1, cap);
	if (b == NULL)
		return NULL;
#define PUT(v, bytes) do { uint64_t v_ = (v); for (int k_ = 0; k_ < (bytes); k_++) \
		b[pos++] = (unsigned char)(v_ >> (8 * k_)); } while (0)
	PUT(0x46554747u, 4);
	PUT(3, 4);
	PUT(keys ? 0 : n, 8);
	PUT(keys ? n : 0, 8);
	for (size_t i = 0; i < n; i++) {
		char name[16];
		int nl = snprintf(name, sizeof name, "t.%07zu", dup && i == n - 1 ? (size_t)0 : i);
		PUT((uint64_t)nl, 8);
		memcpy(b + pos, name, (size_t)nl);
		pos += (size_t)nl;
		if (keys) {
			PUT(BBT_GGUF_UINT32, 4);
			PUT(i, 4);
		} else {
			PUT(1, 4);              /* n_dims */
			PUT(8, 8);              /* ne[0] */
			PUT(BBT_GGML_F32, 4);
			PUT(0, 8);              /* offset: all share the data */
		}
	}
#undef PUT
	pos = (pos + 31) / 32 * 32 + 32;   /* aligned data section */
	*len = pos;
	return b;
}

/* Names must be unique; checking that may not take time quadratic in
 * their number (a 100,000-tensor header took 19 s). The alarm is far
 * above what the check needs and far below what a quadratic one takes. */
static void test_many_names(void)
{
	const size_t n = 400000;
	char err[BBT_ERRLEN];
	alarm(120);
	for (int keys = 0; keys <= 1; keys++) {
		const char *what = keys ? "metadata keys" : "tensors";
		for (int dup = 0; dup <= 1; dup++) {
			size_t len;
			unsigned char *b = many_names(n, keys, dup, &len);
			if (b == NULL) {
				skip(1, "out of memory");
				continue;
			}
			bbt_gguf_t *g = NULL;
			err[0] = '\0';
			int rc = bbt_gguf_open_buffer(b, len, "many", &g, err, sizeof err);
			if (dup)
				ok(rc == BBT_EFORMAT && strstr(err, "\"t.0000000\" appears twice") != NULL,
				   "%zu %s, one name twice: refused (%s)", n, what, err);
			else
				ok(rc == BBT_OK && g != NULL, "%zu distinct %s: accepted%s%s", n, what,
				   rc ? ": " : "", rc ? err : "");
			bbt_gguf_free(g);
			free(b);
		}
	}
	alarm(0);
}

int main(void)
{
	plan(38);
	char err[BBT_ERRLEN];
	char path[] = "/tmp/bbt-gguf-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		skip_all("cannot create a temporary file");
	close(fd);

	/* ---- write ---- */
	float a[3 * 5];
	uint16_t b[7];
	for (int i = 0; i < 15; i++)
		a[i] = (float)i * 0.5f - 3.0f;
	for (int i = 0; i < 7; i++)
		b[i] = bbt_fp32_to_fp16((float)i / 4.0f);
	const char *toks[] = { "[PAD]", "hello", "", "\xc3\xa9t\xc3\xa9" };
	int32_t ids[] = { -1, 0, 70000 };
	float fl[] = { 1.5f, -2.25f };

	bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
	ok(w != NULL, "writer alloc");
	int rc = 0;
	rc |= bbt_gguf_writer_set_str(w, "general.architecture", "bert");
	rc |= bbt_gguf_writer_set_u32(w, "bert.block_count", 7);
	rc |= bbt_gguf_writer_set_u32(w, "bert.block_count", 8);  /* last value wins */
	rc |= bbt_gguf_writer_set_i32(w, "x.neg", -5);
	rc |= bbt_gguf_writer_set_u64(w, "x.big", 1ull << 40);
	rc |= bbt_gguf_writer_set_f32(w, "bert.attention.layer_norm_epsilon", 1e-12f);
	rc |= bbt_gguf_writer_set_bool(w, "x.flag", 1);
	rc |= bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
	rc |= bbt_gguf_writer_set_arr_i32(w, "x.ids", ids, 3);
	rc |= bbt_gguf_writer_set_arr_f32(w, "x.floats", fl, 2);
	ok(rc == 0, "metadata setters succeed");
	uint64_t ne_a[2] = { 5, 3 }, ne_b[1] = { 7 };
	ok(bbt_gguf_writer_add_tensor(w, "a.weight", BBT_GGML_F32, 2, ne_a, a) == 0, "add f32 tensor");
	ok(bbt_gguf_writer_add_tensor(w, "b", BBT_GGML_F16, 1, ne_b, b) == 0, "add f16 tensor");
	ok(bbt_gguf_writer_add_tensor(w, "b", BBT_GGML_F16, 1, ne_b, b) == BBT_EINVAL,
	   "duplicate tensor name refused");
	ok(bbt_gguf_writer_write(w, path, err, sizeof err) == 0, "write %s", path);
	bbt_gguf_writer_free(w);
	bbt_gguf_writer_free(NULL);

	/* ---- read back ---- */
	bbt_gguf_t *g = NULL;
	rc = bbt_gguf_open(path, &g, err, sizeof err);
	ok(rc == 0, "open: %s", rc ? err : "ok");
	if (rc != 0)
		return 1;
	is_int(bbt_gguf_version(g), 3, "version 3");
	is_int((long long)bbt_gguf_n_kv(g), 9, "9 keys (one set twice)");
	const char *s = NULL;
	bbt_gguf_get_str(g, "general.architecture", &s, err, sizeof err);
	is_string(s, "bert", "string value");
	uint32_t u = 0;
	bbt_gguf_get_u32(g, "bert.block_count", &u, err, sizeof err);
	is_int(u, 8, "u32 value, last set wins");
	int64_t i64 = 0;
	bbt_gguf_get_i64(g, "x.neg", &i64, err, sizeof err);
	is_int(i64, -5, "i32 value");
	ok(bbt_gguf_get_u32(g, "x.neg", &u, err, sizeof err) == BBT_EFORMAT, "negative as u32 refused");
	ok(bbt_gguf_get_u32(g, "x.big", &u, err, sizeof err) == BBT_EFORMAT, "2^40 as u32 refused");
	double f = 0;
	bbt_gguf_get_f64(g, "bert.attention.layer_norm_epsilon", &f, err, sizeof err);
	is_double(f, 1e-12, 1e-18, "f32 value");
	int flag = 0;
	bbt_gguf_get_bool(g, "x.flag", &flag, err, sizeof err);
	is_int(flag, 1, "bool value");
	ok(bbt_gguf_get_str(g, "no.such", &s, err, sizeof err) == BBT_ENOTFOUND, "missing key");
	like(err, "no.such", "message names the key");
	const char *const *strs = NULL;
	size_t n = 0;
	bbt_gguf_get_arr_str(g, "tokenizer.ggml.tokens", &strs, &n, err, sizeof err);
	ok(n == 4 && strcmp(strs[1], "hello") == 0 && strs[2][0] == '\0' &&
	   strcmp(strs[3], "\xc3\xa9t\xc3\xa9") == 0, "string array");
	int64_t *iv = NULL;
	bbt_gguf_get_arr_i64(g, "x.ids", &iv, &n, err, sizeof err);
	ok(n == 3 && iv[0] == -1 && iv[2] == 70000, "i32 array");
	free(iv);
	double *dv = NULL;
	bbt_gguf_get_arr_f64(g, "x.floats", &dv, &n, err, sizeof err);
	ok(n == 2 && dv[0] == 1.5 && dv[1] == -2.25, "f32 array");
	free(dv);
	is_int((long long)bbt_gguf_n_tensors(g), 2, "2 tensors");
	const struct bbt_gguf_tensor *t = bbt_gguf_find_tensor(g, "a.weight");
	ok(t != NULL && t->n_dims == 2 && t->ne[0] == 5 && t->ne[1] == 3 && t->type == BBT_GGML_F32 &&
	   t->nbytes == sizeof a && memcmp(t->data, a, sizeof a) == 0, "f32 tensor round trip");
	ok(t != NULL && ((uintptr_t)t->data - (uintptr_t)bbt_gguf_tensor(g, 0)->data) % 32 == 0 &&
	   bbt_gguf_data_offset(g) % 32 == 0, "data aligned to 32");
	t = bbt_gguf_find_tensor(g, "b");
	ok(t != NULL && t->type == BBT_GGML_F16 && bbt_fp16_to_fp32(((const uint16_t *)t->data)[6]) == 1.5f,
	   "f16 tensor round trip");
	ok(bbt_gguf_find_tensor(g, "c") == NULL, "absent tensor is NULL");
	size_t header_len = bbt_gguf_data_offset(g);
	/* The file may lose its last tensor's trailing padding and stay whole;
	 * any byte less than this is a truncation. */
	size_t needed = header_len;
	for (size_t i = 0; i < bbt_gguf_n_tensors(g); i++) {
		const struct bbt_gguf_tensor *ti = bbt_gguf_tensor(g, i);
		if (header_len + ti->offset + ti->nbytes > needed)
			needed = header_len + (size_t)ti->offset + ti->nbytes;
	}
	bbt_gguf_free(g);
	bbt_gguf_free(NULL);

	/* fp16 conversions */
	ok(bbt_fp16_to_fp32(bbt_fp32_to_fp16(65504.0f)) == 65504.0f &&
	   bbt_fp16_to_fp32(bbt_fp32_to_fp16(1e6f)) > 1e30f &&
	   bbt_fp16_to_fp32(bbt_fp32_to_fp16(5.9604645e-8f)) == 5.9604645e-8f &&
	   bbt_fp16_to_fp32(bbt_fp32_to_fp16(-0.333333f)) == -0.33325195f,
	   "fp16 round trips: max, overflow, subnormal, rounding");

	/* ---- damage ---- */
	char *data;
	size_t len;
	ok(bbt_file_read(path, &data, &len, err, sizeof err) == 0, "read the file back");
	unsigned long opened = 0, failed = 0, no_msg = 0;
	for (size_t cut = 0; cut < len; cut++) {
		bbt_gguf_t *h = NULL;
		err[0] = '\0';
		/* a private copy of exactly `cut` bytes: valgrind catches a read past it */
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, data, cut);
		if (bbt_gguf_open_buffer(copy, cut, "cut", &h, err, sizeof err) == 0) {
			opened += cut < needed;
			walk(h);
			bbt_gguf_free(h);
		} else {
			failed++;
			no_msg += err[0] == '\0';
		}
		free(copy);
	}
	is_int((long long)opened, 0, "no truncation below %zu of the %zu bytes opens (%lu failed)",
	       needed, len, failed);
	is_int((long long)no_msg, 0, "every truncation has a message");
	bbt_gguf_t *h = NULL;
	bbt_gguf_open_buffer(data, needed - 1, "cut", &h, err, sizeof err);
	bbt_gguf_free(h);
	like(err, "past the end", "losing the last byte names the tensor that runs past the end");

	/* Byte flips, mostly in the header (where the structure is), some
	 * anywhere: each must open (and then read only inside the buffer) or
	 * fail with a message. */
	opened = failed = no_msg = 0;
	for (int trial = 0; trial < 3000; trial++) {
		char *copy = malloc(len);
		memcpy(copy, data, len);
		int flips = 1 + (int)(next() % 4);
		for (int k = 0; k < flips; k++) {
			size_t span = trial % 4 == 0 ? len : header_len;
			copy[next() % span] ^= (char)(1u << (next() % 8));
		}
		err[0] = '\0';
		h = NULL;
		if (bbt_gguf_open_buffer(copy, len, "flip", &h, err, sizeof err) == 0) {
			opened++;
			walk(h);
			bbt_gguf_free(h);
		} else {
			failed++;
			no_msg += err[0] == '\0';
		}
		free(copy);
	}
	ok(failed > 0 && opened + failed == 3000, "3000 damaged copies: %lu opened, %lu refused",
	   opened, failed);
	is_int((long long)no_msg, 0, "every refusal has a message");
	ok(bbt_gguf_open("/nonexistent/x.gguf", &h, err, sizeof err) == BBT_EIO && h == NULL,
	   "missing file is BBT_EIO");
	free(data);
	unlink(path);
	test_many_names();
	return done_testing();
}
