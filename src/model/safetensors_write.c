/*
 * safetensors_write.c - write a .safetensors file (see safetensors.h): the
 * reader's layout, so that numpy, PyTorch and our own reader take it.
 */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/safetensors.h"

static uint64_t elements(const struct bbt_safetensors_out *t)
{
	uint64_t n = 1;
	for (int i = 0; i < t->n_dims; i++)
		n *= t->shape[i];
	return n;
}

static size_t elem_size(const struct bbt_safetensors_out *t)
{
	return t->f64 ? 8 : 4;
}

/* The header: one entry per tensor and the metadata. */
static char *header_text(const struct bbt_safetensors_out *t, size_t n, const json_t *metadata,
                         char *err, size_t errlen)
{
	json_t *h = json_object();
	uint64_t off = 0;
	if (metadata != NULL) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)metadata, k, v) {
			if (!json_is_string(v)) {
				json_decref(h);
				bbt_error(err, errlen, BBT_EINVAL,
				          "safetensors metadata \"%s\" is not a string", k);
				return NULL;
			}
		}
		json_object_set_new(h, "__metadata__", json_deep_copy(metadata));
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object(), *shape = json_array(), *offs = json_array();
		uint64_t bytes = elements(&t[i]) * elem_size(&t[i]);
		for (int k = 0; k < t[i].n_dims; k++)
			json_array_append_new(shape, json_integer((json_int_t)t[i].shape[k]));
		json_array_append_new(offs, json_integer((json_int_t)off));
		json_array_append_new(offs, json_integer((json_int_t)(off + bytes)));
		json_object_set_new(e, "dtype", json_string(t[i].f64 ? "F64" : "F32"));
		json_object_set_new(e, "shape", shape);
		json_object_set_new(e, "data_offsets", offs);
		json_object_set_new(h, t[i].name, e);
		off += bytes;
	}
	char *text = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(h);
	if (text == NULL)
		bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return text;
}

/* v's bytes little-endian at out, whatever the host's order. */
static void put_le(uint8_t *out, const void *v, size_t size)
{
	uint64_t u = 0;
	if (size == 8)
		memcpy(&u, v, 8);
	else {
		uint32_t w;
		memcpy(&w, v, 4);
		u = w;
	}
	for (size_t b = 0; b < size; b++)
		out[b] = (uint8_t)(u >> (8 * b));
}

int bbt_safetensors_write(const char *path, const struct bbt_safetensors_out *t, size_t n,
                          const json_t *metadata, char *err, size_t errlen)
{
	char *hdr = header_text(t, n, metadata, err, errlen);
	if (hdr == NULL)
		return metadata ? BBT_EINVAL : BBT_ENOMEM;
	size_t hlen = strlen(hdr), padded = (hlen + 7) / 8 * 8, data = 0;
	for (size_t i = 0; i < n; i++)
		data += (size_t)elements(&t[i]) * elem_size(&t[i]);
	uint8_t *buf = malloc(8 + padded + data);
	if (buf == NULL) {
		free(hdr);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	uint64_t h64 = padded;
	put_le(buf, &h64, 8);
	memcpy(buf + 8, hdr, hlen);
	memset(buf + 8 + hlen, ' ', padded - hlen);
	free(hdr);
	uint8_t *p = buf + 8 + padded;
	for (size_t i = 0; i < n; i++) {
		size_t es = elem_size(&t[i]);
		for (uint64_t k = 0; k < elements(&t[i]); k++, p += es)
			put_le(p, t[i].f64 ? (const void *)&t[i].f64[k] : (const void *)&t[i].f32[k],
			       es);
	}
	int rc = bbt_file_write_atomic(path, buf, 8 + padded + data, err, errlen);
	free(buf);
	return rc;
}
