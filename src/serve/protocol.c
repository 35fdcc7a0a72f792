/*
 * protocol.c - parsing and checking /v1/score bodies, /v1/info's JSON
 * (doc/protocol.md).
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "serve/protocol.h"

void bbt_score_req_release(struct bbt_score_req *req)
{
	free(req->prompts);
	free(req->ids);
	free(req->label_ids);
	free(req->offset);
	free(req->predict_pos);
	free(req->prompt_pos);
	memset(req, 0, sizeof *req);
}

/* A non-negative integer field. */
static int get_size(json_t *j, const char *key, size_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(j, key);
	if (v == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "score: metadata lacks \"%s\"", key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: \"%s\" must be a non-negative integer", key);
	*out = (size_t)json_integer_value(v);
	return BBT_OK;
}

/* An array field of integers in [lo, hi]; *n its length (checked against
 * want when want != (size_t)-1). Values go to i32 or sz. */
static int get_ints(json_t *j, const char *key, size_t want, long long lo, long long hi,
                    int32_t **i32, size_t **sz, size_t *n, char *err, size_t errlen)
{
	json_t *a = json_object_get(j, key);
	if (a == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "score: metadata lacks \"%s\"", key);
	if (!json_is_array(a))
		return bbt_error(err, errlen, BBT_EINVAL, "score: \"%s\" must be an array", key);
	size_t len = json_array_size(a);
	if (want != (size_t)-1 && len != want)
		return bbt_error(err, errlen, BBT_EINVAL, "score: \"%s\" has %zu entries, expected %zu",
		                 key, len, want);
	void *buf = malloc((len ? len : 1) * (i32 ? sizeof **i32 : sizeof **sz));
	if (buf == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "score: out of memory");
	for (size_t i = 0; i < len; i++) {
		json_t *v = json_array_get(a, i);
		json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
		if (!json_is_integer(v) || x < lo || x > hi) {
			free(buf);
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "score: \"%s\"[%zu] must be an integer in [%lld, %lld]", key, i,
			                 lo, hi);
		}
		if (i32)
			((int32_t *)buf)[i] = (int32_t)x;
		else
			((size_t *)buf)[i] = (size_t)x;
	}
	if (i32)
		*i32 = buf;
	else
		*sz = buf;
	*n = len;
	return BBT_OK;
}

static int parse_meta(json_t *j, const struct bbt_model_info *info,
                      const struct bbt_serve_limits *lim, struct bbt_score_req *req, int *prompts,
                      char *err, size_t errlen)
{
	if (!json_is_object(j))
		return bbt_error(err, errlen, BBT_EINVAL, "score: metadata must be a JSON object");
	size_t hidden, P, layers;
	int rc;
	if ((rc = get_size(j, "n_variants", &req->n_variants, err, errlen)) < 0 ||
	    (rc = get_size(j, "prompt_len", &P, err, errlen)) < 0 ||
	    (rc = get_size(j, "prompt_layers", &layers, err, errlen)) < 0 ||
	    (rc = get_size(j, "hidden", &hidden, err, errlen)) < 0)
		return rc;
	json_t *pv = json_object_get(j, "prompts");
	if (!json_is_boolean(pv))
		return bbt_error(err, errlen, BBT_EINVAL, "score: \"prompts\" must be true or false");
	*prompts = json_is_true(pv);
	if (hidden != info->hidden)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: hidden size %zu, but the model's is %zu", hidden, info->hidden);
	if (req->n_variants == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "score: n_variants must be at least 1");
	if (lim->max_variants && req->n_variants > lim->max_variants)
		return bbt_error(err, errlen, BBT_EINVAL, "score: %zu variants; this server takes %zu",
		                 req->n_variants, lim->max_variants);
	if (lim->max_prompt_len && P > lim->max_prompt_len)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: prompt_len %zu; this server takes at most %zu", P,
		                 lim->max_prompt_len);
	if (P > 0 && (layers == 0 || (layers != 1 && layers != info->layers)))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: prompt_layers %zu; 1 or the model's %zu layers", layers,
		                 info->layers);
	if (*prompts && P == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "score: \"prompts\" is true but prompt_len is 0");
	req->batch.prompt_len = P;
	req->batch.prompt_layers = layers;

	long long vmax = info->vocab_size ? (long long)info->vocab_size - 1 : INT32_MAX;
	size_t n_ids, n_off, n_lab, n;
	if ((rc = get_ints(j, "label_ids", (size_t)-1, 0, vmax, &req->label_ids, NULL, &n_lab, err,
	                   errlen)) < 0 ||
	    (rc = get_ints(j, "ids", (size_t)-1, 0, vmax, &req->ids, NULL, &n_ids, err, errlen)) < 0 ||
	    (rc = get_ints(j, "offset", (size_t)-1, 0, (long long)n_ids, NULL, &req->offset, &n_off,
	                   err, errlen)) < 0)
		return rc;
	if (n_lab == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "score: \"label_ids\" is empty");
	if (n_off == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "score: \"offset\" needs n_seq + 1 entries");
	size_t n_seq = n_off - 1;
	if (lim->max_batch && n_seq > lim->max_batch)
		return bbt_error(err, errlen, BBT_EINVAL, "score: %zu sequences; this server takes %zu",
		                 n_seq, lim->max_batch);
	if ((rc = get_ints(j, "predict_pos", n_seq, 0, INT32_MAX, NULL, &req->predict_pos, &n, err,
	                   errlen)) < 0 ||
	    (rc = get_ints(j, "prompt_pos", n_seq, 0, INT32_MAX, NULL, &req->prompt_pos, &n, err,
	                   errlen)) < 0)
		return rc;
	if (req->offset[0] != 0 || req->offset[n_seq] != n_ids)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: \"offset\" must start at 0 and end at the %zu ids", n_ids);
	size_t max_len = info->max_len;
	if (lim->max_seq_len && (max_len == 0 || lim->max_seq_len < max_len))
		max_len = lim->max_seq_len;
	req->tokens = 0;
	for (size_t i = 0; i < n_seq; i++) {
		if (req->offset[i + 1] < req->offset[i])
			return bbt_error(err, errlen, BBT_EINVAL, "score: \"offset\" decreases at %zu",
			                 i + 1);
		size_t len = req->offset[i + 1] - req->offset[i];
		if (len == 0 || req->predict_pos[i] >= len)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "score: predict_pos %zu is outside sequence %zu of %zu tokens",
			                 req->predict_pos[i], i, len);
		if (req->prompt_pos[i] > len)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "score: prompt_pos %zu is beyond sequence %zu of %zu tokens",
			                 req->prompt_pos[i], i, len);
		if (max_len && len + P > max_len)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "score: sequence %zu has %zu positions with the prompt; "
			                 "this server takes %zu", i, len + P, max_len);
		req->tokens += len + P;
	}
	req->tokens *= req->n_variants;
	req->batch.n_seq = n_seq;
	req->batch.ids = req->ids;
	req->batch.offset = req->offset;
	req->batch.predict_pos = req->predict_pos;
	req->batch.prompt_pos = req->prompt_pos;
	req->batch.n_labels = n_lab;
	req->batch.label_ids = req->label_ids;
	return BBT_OK;
}

int bbt_score_req_parse(const void *body, size_t len, const struct bbt_model_info *info,
                        const struct bbt_serve_limits *lim, struct bbt_score_req *req,
                        char *err, size_t errlen)
{
	memset(req, 0, sizeof *req);
	const unsigned char *b = body;
	if (len < 4)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: body of %zu bytes; it starts with a 4-byte JSON length", len);
	size_t J = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24;
	if (J > len - 4)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: JSON part of %zu bytes declared, %zu bytes follow", J, len - 4);
	json_error_t jerr;
	json_t *j = json_loadb((const char *)b + 4, J, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "score: metadata: %s (at byte %d)", jerr.text,
		                 jerr.position);
	int prompts = 0;
	int rc = parse_meta(j, info, lim, req, &prompts, err, errlen);
	json_decref(j);
	if (rc < 0) {
		bbt_score_req_release(req);
		return rc;
	}
	size_t n = 0, bytes = 0, rest = len - 4 - J;
	if (prompts &&
	    (__builtin_mul_overflow(req->n_variants, req->batch.prompt_layers, &n) ||
	     __builtin_mul_overflow(n, req->batch.prompt_len, &n) ||
	     __builtin_mul_overflow(n, info->hidden, &n) || __builtin_mul_overflow(n, 4, &bytes)))
		bytes = SIZE_MAX;
	if (rest != bytes) {
		bbt_score_req_release(req);
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "score: %zu bytes of prompts after the metadata; it declares %zu "
		                 "(V x layers x P x H float32)", rest, bytes);
	}
	if (prompts) {
		req->prompts = malloc(bytes);
		if (req->prompts == NULL) {
			bbt_score_req_release(req);
			return bbt_error(err, errlen, BBT_ENOMEM, "score: out of memory");
		}
		bbt_le_get_f32(req->prompts, b + 4 + J, n);
	}
	return BBT_OK;
}

char *bbt_info_json(const struct bbt_model_info *info, const char *backend,
                    const char *model_file, long long model_size, const char *model_sha256,
                    const struct bbt_serve_limits *lim)
{
	json_t *j = json_object();
	json_t *m = model_file ? json_pack("{s:s, s:I, s:s?}", "file", model_file, "size",
	                                   (json_int_t)model_size, "sha256", model_sha256)
	                       : json_null();
	json_t *l = json_pack("{s:I, s:I, s:I, s:I, s:I}", "max_body", (json_int_t)lim->max_body,
	                      "max_batch", (json_int_t)lim->max_batch, "max_variants",
	                      (json_int_t)lim->max_variants, "max_seq_len",
	                      (json_int_t)lim->max_seq_len, "max_prompt_len",
	                      (json_int_t)lim->max_prompt_len);
	char *text = NULL;
	if (j && m && l &&
	    json_object_set_new(j, "protocol", json_integer(BBT_PROTOCOL_VERSION)) == 0 &&
	    json_object_set_new(j, "server", json_string("bbtbench " PACKAGE_VERSION)) == 0 &&
	    json_object_set_new(j, "backend", json_string(backend)) == 0 &&
	    json_object_set(j, "model", m) == 0 &&
	    json_object_set_new(j, "arch", json_string(info->arch)) == 0 &&
	    json_object_set_new(j, "hidden", json_integer((json_int_t)info->hidden)) == 0 &&
	    json_object_set_new(j, "layers", json_integer((json_int_t)info->layers)) == 0 &&
	    json_object_set_new(j, "vocab_size", json_integer((json_int_t)info->vocab_size)) == 0 &&
	    json_object_set_new(j, "max_len", json_integer((json_int_t)info->max_len)) == 0 &&
	    json_object_set_new(j, "causal", json_boolean(info->causal)) == 0 &&
	    json_object_set_new(j, "bos_id", json_integer(info->bos_id)) == 0 &&
	    json_object_set_new(j, "eos_id", json_integer(info->eos_id)) == 0 &&
	    json_object_set_new(j, "mask_id", json_integer(info->mask_id)) == 0 &&
	    json_object_set_new(j, "pad_id", json_integer(info->pad_id)) == 0 &&
	    json_object_set_new(j, "embed_mean", json_real(info->embed_mean)) == 0 &&
	    json_object_set_new(j, "embed_std", json_real(info->embed_std)) == 0 &&
	    json_object_set(j, "limits", l) == 0)
		text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(m);
	json_decref(l);
	json_decref(j);
	return text;
}

void bbt_completion_req_release(struct bbt_completion_req *req)
{
	for (size_t i = 0; req->prompts && i < req->n; i++)
		free(req->prompts[i]);
	free(req->prompts);
	memset(req, 0, sizeof *req);
}

static int completion_fields(json_t *j, const char *model, size_t max_batch, long max_logprobs,
                             struct bbt_completion_req *req, char *err, size_t errlen)
{
	if (!json_is_object(j))
		return bbt_error(err, errlen, BBT_EINVAL, "completions: the body must be a JSON object");
	json_t *m = json_object_get(j, "model");
	if (m != NULL && !json_is_null(m) &&
	    (!json_is_string(m) || (model != NULL && strcmp(json_string_value(m), model) != 0)))
		return bbt_error(err, errlen, BBT_ENOTFOUND,
		                 "completions: no model %s here; GET /v1/models lists %s",
		                 json_is_string(m) ? json_string_value(m) : "(not a string)",
		                 model ? model : "none");
	json_t *mt = json_object_get(j, "max_tokens");
	if (mt == NULL || !json_is_integer(mt) || json_integer_value(mt) != 1)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "completions: \"max_tokens\" must be 1: this server scores the next "
		                 "position, it does not generate");
	json_t *echo = json_object_get(j, "echo"), *n = json_object_get(j, "n"),
	       *stream = json_object_get(j, "stream"), *lp = json_object_get(j, "logprobs");
	if (echo != NULL && !json_is_false(echo) && !json_is_null(echo))
		return bbt_error(err, errlen, BBT_EINVAL, "completions: \"echo\" is not supported");
	if (n != NULL && !json_is_null(n) && (!json_is_integer(n) || json_integer_value(n) != 1))
		return bbt_error(err, errlen, BBT_EINVAL, "completions: \"n\" must be 1");
	if (stream != NULL && !json_is_false(stream) && !json_is_null(stream))
		return bbt_error(err, errlen, BBT_EINVAL, "completions: \"stream\" is not supported");
	req->logprobs = -1;
	if (lp != NULL && !json_is_null(lp)) {
		if (!json_is_integer(lp) || json_integer_value(lp) < 0 ||
		    json_integer_value(lp) > max_logprobs)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "completions: \"logprobs\" must be an integer from 0 to %ld",
			                 max_logprobs);
		req->logprobs = (long)json_integer_value(lp);
	}
	json_t *p = json_object_get(j, "prompt");
	size_t count = json_is_string(p) ? 1 : json_is_array(p) ? json_array_size(p) : 0;
	if (count == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "completions: \"prompt\" must be a text or a non-empty array of texts");
	if (max_batch && count > max_batch)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "completions: %zu prompts; this server takes %zu", count, max_batch);
	if ((req->prompts = calloc(count, sizeof *req->prompts)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "completions: out of memory");
	for (size_t i = 0; i < count; i++) {
		json_t *t = json_is_string(p) ? p : json_array_get(p, i);
		if (!json_is_string(t))
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "completions: \"prompt\"[%zu] is not a text (token ids are not "
			                 "taken: send text)", i);
		size_t tl = json_string_length(t);
		if (strlen(json_string_value(t)) != tl)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "completions: \"prompt\"[%zu] holds a NUL character", i);
		if ((req->prompts[i] = bbt_strdup(json_string_value(t))) == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "completions: out of memory");
		req->n = i + 1;
	}
	return BBT_OK;
}

int bbt_completion_req_parse(const void *body, size_t len, const char *model, size_t max_batch,
                             long max_logprobs, struct bbt_completion_req *req, char *err,
                             size_t errlen)
{
	memset(req, 0, sizeof *req);
	json_error_t jerr;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "completions: %s (at byte %d)", jerr.text,
		                 jerr.position);
	int rc = completion_fields(j, model, max_batch, max_logprobs, req, err, errlen);
	json_decref(j);
	if (rc < 0)
		bbt_completion_req_release(req);
	return rc;
}
