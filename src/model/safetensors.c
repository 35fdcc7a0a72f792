/*
 * safetensors.c - a .safetensors file, mapped and its header checked (see
 * safetensors.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include <bbtbench/model/gguf.h>
#include "model/safetensors.h"

void bbt_safetensors_close(struct bbt_safetensors *st)
{
	if (st->map != NULL && st->map != MAP_FAILED)
		munmap(st->map, st->size);
	json_decref(st->header);
	free(st->t);
	free(st->path);
	memset(st, 0, sizeof *st);
}

int bbt_safetensors_open(const char *path, struct bbt_safetensors *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	if ((st->path = bbt_strdup(path)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0 || sb.st_size < 8) {
		close(fd);
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: too short for a safetensors file", path);
	}
	st->size = (size_t)sb.st_size;
	st->map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		return bbt_error(err, errlen, BBT_EIO, "%s: mmap: %s", path, strerror(e));
	}
	const uint8_t *p = st->map;
	uint64_t hlen = 0;
	for (int i = 0; i < 8; i++)
		hlen |= (uint64_t)p[i] << (8 * i);
	if (hlen > st->size - 8)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: header length %" PRIu64 " runs past the end of the %zu-byte file",
		                 path, hlen, st->size);
	json_error_t je;
	st->header = json_loadb((const char *)p + 8, (size_t)hlen, 0, &je);
	if (st->header == NULL || !json_is_object(st->header))
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: header is not a JSON object: %s", path,
		                 st->header ? "" : je.text);
	const uint8_t *base = p + 8 + hlen;
	size_t data_size = st->size - 8 - (size_t)hlen;
	st->t = calloc(json_object_size(st->header) + 1, sizeof *st->t);
	if (st->t == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	const char *key;
	json_t *v;
	json_object_foreach(st->header, key, v) {
		if (strcmp(key, "__metadata__") == 0)
			continue;
		struct bbt_safetensors_tensor *t = &st->t[st->n];
		t->name = key;
		json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
		       *off = json_object_get(v, "data_offsets");
		if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) ||
		    json_array_size(off) != 2 || !json_is_integer(json_array_get(off, 0)) ||
		    !json_is_integer(json_array_get(off, 1)))
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s: tensor \"%s\": needs dtype, shape and data_offsets [begin, end]",
			                 path, key);
		const char *d = json_string_value(dt);
		size_t es;
		if (strcmp(d, "F32") == 0)
			t->dtype = BBT_GGML_F32, es = 4;
		else if (strcmp(d, "F16") == 0)
			t->dtype = BBT_GGML_F16, es = 2;
		else if (strcmp(d, "BF16") == 0)
			t->dtype = BBT_GGML_BF16, es = 2;
		else if (strcmp(d, "F64") == 0)
			t->dtype = BBT_GGML_F64, es = 8;
		else
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s: tensor \"%s\" has dtype %s (F64, F32, F16 and BF16 are "
			                 "supported)",
			                 path, key, d);
		if (json_array_size(sh) > 4)
			return bbt_error(err, errlen, BBT_EFORMAT, "%s: tensor \"%s\" has %zu dimensions",
			                 path, key, json_array_size(sh));
		t->n_dims = (int)json_array_size(sh);
		t->n_elements = 1;
		for (int i = 0; i < t->n_dims; i++) {
			json_t *x = json_array_get(sh, (size_t)i);
			json_int_t n = json_is_integer(x) ? json_integer_value(x) : -1;
			if (n < 1 || (uint64_t)n > (UINT64_MAX / 8) / t->n_elements)
				return bbt_error(err, errlen, BBT_EFORMAT,
				                 "%s: tensor \"%s\": bad shape entry %d", path, key, i);
			t->shape[i] = (uint64_t)n;
			t->n_elements *= (uint64_t)n;
		}
		json_int_t b = json_integer_value(json_array_get(off, 0)),
		           en = json_integer_value(json_array_get(off, 1));
		if (b < 0 || en < b || (uint64_t)en > data_size ||
		    (uint64_t)(en - b) != t->n_elements * es)
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s: tensor \"%s\": data_offsets [%lld, %lld] do not hold %" PRIu64
			                 " %s values inside the %zu data bytes", path, key, (long long)b,
			                 (long long)en, t->n_elements, d, data_size);
		t->data = base + b;
		st->n++;
	}
	return BBT_OK;
}

struct bbt_safetensors_tensor *bbt_safetensors_find(struct bbt_safetensors *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->t[i].name, name) == 0)
			return &st->t[i];
	return NULL;
}

double bbt_safetensors_get_f64(const struct bbt_safetensors_tensor *t, uint64_t i)
{
	if (t->dtype != BBT_GGML_F64)
		return bbt_safetensors_get(t, i);
	uint64_t u = 0;
	for (int b = 0; b < 8; b++)   /* little-endian on any host */
		u |= (uint64_t)t->data[8 * i + (uint64_t)b] << (8 * b);
	double x;
	memcpy(&x, &u, 8);
	return x;
}

float bbt_safetensors_get(const struct bbt_safetensors_tensor *t, uint64_t i)
{
	const uint8_t *p = t->data;
	if (t->dtype == BBT_GGML_F64)
		return (float)bbt_safetensors_get_f64(t, i);
	if (t->dtype == BBT_GGML_F32) {
		float f;
		memcpy(&f, p + 4 * i, 4);
		return f;
	}
	uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
	return t->dtype == BBT_GGML_F16 ? bbt_fp16_to_fp32(h) : bbt_bf16_to_fp32(h);
}
