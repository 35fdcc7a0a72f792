/*
 * hf_convert.c - a Hugging Face model folder -> GGUF, and a GGUF file's
 * description. See hf_convert.h for the keys and tensor names written.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "model/hf_convert.h"
#include "model/safetensors.h"

struct bbt_convert_params bbt_convert_default_params(void)
{
	return (struct bbt_convert_params){ .dtype = BBT_GGML_F32, .log = NULL };
}

/* ------------------------------------------------------------------ */
/* Conversion */

struct conv {
	const char *dir;
	struct bbt_convert_params p;
	struct bbt_safetensors st;
	json_t *config;
	bbt_gguf_writer_t *w;
	void **bufs;          /* converted tensor data, freed after writing */
	size_t n_bufs;
	char *err;
	size_t errlen;
	const char *arch;     /* "bert" | "roberta" */
	const char *prefix;   /* "bert." / "roberta." / "" */
	uint64_t H, L, I, V, P, T, heads;
	char **strs;          /* token texts */
	size_t n_strs;
};

static int cfg_int(struct conv *c, const char *key, uint64_t *out, long long def)
{
	json_t *v = json_object_get(c->config, key);
	if (v == NULL && def >= 0) {
		*out = (uint64_t)def;
		return BBT_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s/config.json: \"%s\" must be a positive integer", c->dir, key);
	*out = (uint64_t)json_integer_value(v);
	return BBT_OK;
}

/* layer_norm_eps: HF's 1e-12 when absent, else a number that is positive
 * as the f32 GGUF stores it. A string, null or [] once silently became
 * 1e-12; a zero or negative one makes every norm NaN. */
static int cfg_eps(struct conv *c, double *eps)
{
	json_t *v = json_object_get(c->config, "layer_norm_eps");
	*eps = v != NULL ? json_number_value(v) : 1e-12;
	if (v == NULL || (json_is_number(v) && (float)*eps > 0 && isfinite((float)*eps)))
		return BBT_OK;
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
	                   "%s/config.json: \"layer_norm_eps\" must be a positive number, not %s",
	                   c->dir, text ? text : "this");
	free(text);
	return rc;
}

/* Add HF tensor `hf` (shape `want`, PyTorch order, n_dims entries) as
 * GGUF tensor `name`. Matrices take the requested dtype, vectors f32. */
static int add(struct conv *c, const char *hf, const char *name, int n_dims, const uint64_t *want,
               int optional)
{
	char full[256];
	snprintf(full, sizeof full, "%s%s", strncmp(hf, "cls.", 4) == 0 || strncmp(hf, "lm_head.", 8) == 0
	         ? "" : c->prefix, hf);
	struct bbt_safetensors_tensor *t = bbt_safetensors_find(&c->st, full);
	if (t == NULL) {
		if (optional)
			return BBT_ENOTFOUND;
		return bbt_error(c->err, c->errlen, BBT_ENOTFOUND,
		                 "%s/model.safetensors: tensor \"%s\" is missing", c->dir, full);
	}
	int same = t->n_dims == n_dims;
	for (int i = 0; same && i < n_dims; i++)
		same = t->shape[i] == want[i];
	if (!same) {
		char got[96] = "", exp[96] = "";
		for (int i = 0; i < t->n_dims; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRIu64, i ? "x" : "",
			         t->shape[i]);
		for (int i = 0; i < n_dims; i++)
			snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%" PRIu64, i ? "x" : "",
			         want[i]);
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s/model.safetensors: tensor \"%s\" has shape %s, config.json implies %s",
		                 c->dir, full, got, exp);
	}
	t->used = 1;
	uint32_t type = n_dims >= 2 ? c->p.dtype : BBT_GGML_F32;
	uint64_t row = want[n_dims - 1];
	if ((type == BBT_GGML_Q8_0 || type == BBT_GGML_Q4_0) && row % 32 != 0)
		type = BBT_GGML_F16;   /* rows that are not whole blocks of 32 */
	size_t bytes = bbt_ggml_row_size(type, row) * (size_t)(t->n_elements / row);
	void *buf = malloc(bytes ? bytes : 1);
	void **bufs = realloc(c->bufs, (c->n_bufs + 1) * sizeof *bufs);
	if (buf == NULL || bufs == NULL) {
		free(buf);
		if (bufs != NULL)
			c->bufs = bufs;
		return bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory converting %s", full);
	}
	c->bufs = bufs;
	c->bufs[c->n_bufs++] = buf;
	if (type == BBT_GGML_Q8_0 || type == BBT_GGML_Q4_0) {
		/* quantized row by row from f32 */
		float *f = malloc((size_t)row * sizeof *f);
		if (f == NULL)
			return bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory converting %s", full);
		for (uint64_t r = 0; r < t->n_elements / row; r++) {
			for (uint64_t i = 0; i < row; i++)
				f[i] = bbt_safetensors_get(t, r * row + i);
			bbt_ggml_quantize(type, f, row, (char *)buf + r * bbt_ggml_row_size(type, row));
		}
		free(f);
	} else {
		for (uint64_t i = 0; i < t->n_elements; i++) {
			float f = bbt_safetensors_get(t, i);
			if (type == BBT_GGML_F32)
				((float *)buf)[i] = f;
			else
				((uint16_t *)buf)[i] = bbt_fp32_to_fp16(f);
		}
	}
	uint64_t ne[4];
	for (int i = 0; i < n_dims; i++)
		ne[i] = want[n_dims - 1 - i];   /* GGUF lists the fastest dimension first */
	int rc = bbt_gguf_writer_add_tensor(c->w, name, type, (uint32_t)n_dims, ne, buf);
	if (rc < 0)
		return bbt_error(c->err, c->errlen, rc, "cannot add tensor %s", name);
	return BBT_OK;
}

static int add_lin(struct conv *c, const char *hf, const char *name, uint64_t out, uint64_t in)
{
	char a[200], b[200];
	uint64_t w[2] = { out, in }, bv[1] = { out };
	snprintf(a, sizeof a, "%s.weight", hf);
	snprintf(b, sizeof b, "%s.weight", name);
	int rc = add(c, a, b, 2, w, 0);
	if (rc < 0)
		return rc;
	snprintf(a, sizeof a, "%s.bias", hf);
	snprintf(b, sizeof b, "%s.bias", name);
	return add(c, a, b, 1, bv, 0);
}

static int add_norm(struct conv *c, const char *hf, const char *name)
{
	char a[200], b[200];
	uint64_t bv[1] = { c->H };
	snprintf(a, sizeof a, "%s.weight", hf);
	snprintf(b, sizeof b, "%s.weight", name);
	int rc = add(c, a, b, 1, bv, 0);
	if (rc < 0)
		return rc;
	snprintf(a, sizeof a, "%s.bias", hf);
	snprintf(b, sizeof b, "%s.bias", name);
	return add(c, a, b, 1, bv, 0);
}

static int convert_weights(struct conv *c)
{
	uint64_t H = c->H, I = c->I;
	uint64_t we[2] = { c->V, H }, pe[2] = { c->P, H }, te[2] = { c->T, H };
	int rc;
	if ((rc = add(c, "embeddings.word_embeddings.weight", "token_embd.weight", 2, we, 0)) < 0 ||
	    (rc = add(c, "embeddings.position_embeddings.weight", "position_embd.weight", 2, pe, 0)) < 0 ||
	    (rc = add(c, "embeddings.token_type_embeddings.weight", "token_types.weight", 2, te, 0)) < 0 ||
	    (rc = add_norm(c, "embeddings.LayerNorm", "token_embd_norm")) < 0)
		return rc;
	for (uint64_t l = 0; l < c->L; l++) {
		static const struct { const char *hf, *gg; int kind; } map[] = {
			{ "attention.self.query", "attn_q", 0 },
			{ "attention.self.key", "attn_k", 0 },
			{ "attention.self.value", "attn_v", 0 },
			{ "attention.output.dense", "attn_output", 0 },
			{ "attention.output.LayerNorm", "attn_output_norm", 2 },
			{ "intermediate.dense", "ffn_up", 1 },
			{ "output.dense", "ffn_down", 3 },
			{ "output.LayerNorm", "layer_output_norm", 2 },
		};
		for (size_t m = 0; m < sizeof map / sizeof map[0]; m++) {
			char hf[160], gg[96];
			snprintf(hf, sizeof hf, "encoder.layer.%" PRIu64 ".%s", l, map[m].hf);
			snprintf(gg, sizeof gg, "blk.%" PRIu64 ".%s", l, map[m].gg);
			switch (map[m].kind) {
			case 0: rc = add_lin(c, hf, gg, H, H); break;
			case 1: rc = add_lin(c, hf, gg, I, H); break;
			case 3: rc = add_lin(c, hf, gg, H, I); break;
			default: rc = add_norm(c, hf, gg); break;
			}
			if (rc < 0)
				return rc;
		}
	}
	int roberta = strcmp(c->arch, "roberta") == 0;
	const char *dense = roberta ? "lm_head.dense" : "cls.predictions.transform.dense";
	const char *norm = roberta ? "lm_head.layer_norm" : "cls.predictions.transform.LayerNorm";
	const char *bias = roberta ? "lm_head.bias" : "cls.predictions.bias";
	const char *dec = roberta ? "lm_head.decoder.weight" : "cls.predictions.decoder.weight";
	uint64_t vb[1] = { c->V };
	if ((rc = add_lin(c, dense, "mlm.dense", H, H)) < 0 || (rc = add_norm(c, norm, "mlm.norm")) < 0 ||
	    (rc = add(c, bias, "mlm.output.bias", 1, vb, 0)) < 0)
		return rc;
	/* A stored decoder equal to the word embeddings is the tied one (HF
	 * writes it for RoBERTa); keep it only when it differs. */
	struct bbt_safetensors_tensor *d = bbt_safetensors_find(&c->st, dec);
	struct bbt_safetensors_tensor *e = NULL;
	char ename[160];
	snprintf(ename, sizeof ename, "%sembeddings.word_embeddings.weight", c->prefix);
	e = bbt_safetensors_find(&c->st, ename);
	if (d != NULL) {
		int tied = d->n_elements == e->n_elements;
		for (uint64_t i = 0; tied && i < d->n_elements; i++)
			tied = bbt_safetensors_get(d, i) == bbt_safetensors_get(e, i);
		d->used = 1;
		if (!tied && (rc = add(c, dec, "mlm.output.weight", 2, we, 0)) < 0)
			return rc;
	}
	struct bbt_safetensors_tensor *db =
		bbt_safetensors_find(&c->st, roberta ? "lm_head.decoder.bias"
		                                     : "cls.predictions.decoder.bias");
	if (db != NULL)
		db->used = 1;   /* HF ties it to the head's bias */
	return BBT_OK;
}

/* Read DIR/name as JSON, or NULL (absent: *rc = OK; malformed: error). */
static json_t *read_json(struct conv *c, const char *name, int required, int *rc)
{
	char *path = bbt_path_join(c->dir, name);
	*rc = BBT_OK;
	if (path == NULL) {
		*rc = bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
		return NULL;
	}
	if (access(path, F_OK) != 0 && !required) {
		free(path);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (j == NULL || !json_is_object(j)) {
		if (j != NULL)
			*rc = bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s: not a JSON object", path);
		else if (je.line > 0)
			*rc = bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s", path, je.line, je.text);
		else
			*rc = bbt_error(c->err, c->errlen, BBT_EIO, "%s", je.text);
		json_decref(j);
		j = NULL;
	}
	free(path);
	return j;
}

static long find_token(struct conv *c, const char *text)
{
	for (size_t i = 0; i < c->n_strs; i++)
		if (strcmp(c->strs[i], text) == 0)
			return (long)i;
	return -1;
}

/* A special token's text from special_tokens_map.json / tokenizer_config.json
 * (plain string or {"content": ...}), else the default. */
static const char *special_text(json_t *map, json_t *tcfg, const char *key, const char *def)
{
	json_t *srcs[2] = { map, tcfg };
	for (int s = 0; s < 2; s++) {
		json_t *v = srcs[s] ? json_object_get(srcs[s], key) : NULL;
		if (json_is_string(v))
			return json_string_value(v);
		if (json_is_object(v) && json_is_string(json_object_get(v, "content")))
			return json_string_value(json_object_get(v, "content"));
	}
	return def;
}

static int convert_tokenizer(struct conv *c)
{
	int rc;
	char *path = NULL, *data = NULL;
	size_t len = 0;
	int bpe = strcmp(c->arch, "roberta") == 0;
	json_t *vocab = NULL;
	if (!bpe) {
		path = bbt_path_join(c->dir, "vocab.txt");
		if (path == NULL)
			return bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
		rc = bbt_file_read(path, &data, &len, c->err, c->errlen);
		if (rc < 0) {
			free(path);
			return rc;
		}
		size_t lines = 0;
		for (size_t i = 0; i < len; i++)
			lines += data[i] == '\n';
		if (len > 0 && data[len - 1] != '\n')
			lines++;
		c->strs = calloc(lines + 1, sizeof *c->strs);
		if (c->strs == NULL) {
			free(path);
			free(data);
			return bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
		}
		char *s = data;
		while (c->n_strs < lines) {
			char *nl = strchr(s, '\n');
			if (nl != NULL)
				*nl = '\0';
			size_t n = strlen(s);
			if (n > 0 && s[n - 1] == '\r')
				s[n - 1] = '\0';
			c->strs[c->n_strs++] = s;   /* points into data, which lives until the write */
			s = nl ? nl + 1 : s + n;
		}
		free(path);
	} else {
		vocab = read_json(c, "vocab.json", 1, &rc);
		if (vocab == NULL)
			return rc;
		size_t n = json_object_size(vocab);
		c->strs = calloc(n + 1, sizeof *c->strs);
		if (c->strs == NULL) {
			json_decref(vocab);
			return bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
		}
		const char *k;
		json_t *v;
		json_object_foreach(vocab, k, v) {
			json_int_t id = json_is_integer(v) ? json_integer_value(v) : -1;
			if (id < 0 || (size_t)id >= n || c->strs[id] != NULL) {
				/* k lives in vocab, which `out` releases */
				rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
				               "%s/vocab.json: \"%s\" has id %lld: ids must be 0..%zu, once each",
				               c->dir, k, (long long)id, n - 1);
				goto out;
			}
			c->strs[id] = (char *)k;
		}
		c->n_strs = n;
	}
	if (c->n_strs != c->V) {
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s: the vocabulary has %zu tokens, config.json's vocab_size is %" PRIu64,
		               c->dir, c->n_strs, c->V);
		goto out;
	}
	json_t *map = read_json(c, "special_tokens_map.json", 0, &rc);
	if (rc < 0)
		goto out;
	json_t *tcfg = read_json(c, "tokenizer_config.json", 0, &rc);
	if (rc < 0) {
		json_decref(map);
		goto out;
	}
	static const char *const keys[] = { "cls_token", "sep_token", "unk_token", "pad_token", "mask_token" };
	static const char *const bert_def[] = { "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]" };
	static const char *const bpe_def[] = { "<s>", "</s>", "<unk>", "<pad>", "<mask>" };
	long id[5];
	for (int i = 0; i < 5; i++) {
		const char *t = special_text(map, tcfg, keys[i], bpe ? bpe_def[i] : bert_def[i]);
		id[i] = find_token(c, t);
		if (id[i] < 0) {
			rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
			               "%s: special token %s \"%s\" is not in the vocabulary", c->dir, keys[i], t);
			break;
		}
	}
	int lower = 1, strip = -1;
	json_t *v = tcfg ? json_object_get(tcfg, "do_lower_case") : NULL;
	if (json_is_boolean(v))
		lower = json_is_true(v);
	v = tcfg ? json_object_get(tcfg, "strip_accents") : NULL;
	if (json_is_boolean(v))
		strip = json_is_true(v);
	json_decref(map);
	json_decref(tcfg);
	if (rc < 0)
		goto out;

	int32_t *types = malloc(c->n_strs * sizeof *types);
	if (types == NULL) {
		rc = bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n_strs; i++)
		types[i] = 1;   /* normal */
	for (int i = 0; i < 5; i++)
		types[id[i]] = 3;   /* control */
	types[id[2]] = 2;       /* unknown */
	bbt_gguf_writer_t *w = c->w;
	bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", bpe ? "gpt2" : "bert");
	bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)c->strs, c->n_strs);
	bbt_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", types, c->n_strs);
	free(types);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)id[0]);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)id[1]);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.cls_token_id", (uint32_t)id[0]);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", (uint32_t)id[1]);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)id[2]);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)id[3]);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.mask_token_id", (uint32_t)id[4]);
	if (!bpe) {
		bbt_gguf_writer_set_bool(w, "bbt.tokenizer.do_lower_case", lower);
		bbt_gguf_writer_set_bool(w, "bbt.tokenizer.strip_accents", strip < 0 ? lower : strip);
	} else {
		char *mpath = bbt_path_join(c->dir, "merges.txt"), *m = NULL;
		size_t mlen = 0;
		if (mpath == NULL) {
			rc = bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
			goto out;
		}
		rc = bbt_file_read(mpath, &m, &mlen, c->err, c->errlen);
		free(mpath);
		if (rc < 0)
			goto out;
		size_t cap = 1, n = 0;
		for (size_t i = 0; i < mlen; i++)
			cap += m[i] == '\n';
		char **merges = calloc(cap, sizeof *merges);
		if (merges == NULL) {
			free(m);
			rc = bbt_error(c->err, c->errlen, BBT_ENOMEM, "out of memory");
			goto out;
		}
		for (char *s = m, *nl; s < m + mlen; s = nl + 1) {
			nl = strchr(s, '\n');
			if (nl == NULL)
				nl = m + mlen;
			*nl = '\0';
			if (nl > s && nl[-1] == '\r')
				nl[-1] = '\0';
			if (s[0] == '\0' || strncmp(s, "#version", 8) == 0)
				continue;
			if (strchr(s, ' ') == NULL) {
				rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
				               "%s/merges.txt: \"%s\" is not two tokens separated by a space", c->dir, s);
				break;
			}
			merges[n++] = s;
		}
		if (rc == BBT_OK)
			bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merges, n);
		free(merges);
		free(m);
		if (rc < 0)
			goto out;
	}
	/* The writer copies metadata, so the texts may go now. */
out:
	free(data);
	json_decref(vocab);
	free(c->strs);
	c->strs = NULL;
	return rc;
}

int bbt_convert_hf(const char *dir, const char *out, const struct bbt_convert_params *p,
                   char *err, size_t errlen)
{
	struct conv c = { .dir = dir, .p = *p, .err = err, .errlen = errlen };
	int rc;
	if (p->dtype != BBT_GGML_F32 && p->dtype != BBT_GGML_F16 && p->dtype != BBT_GGML_Q8_0 &&
	    p->dtype != BBT_GGML_Q4_0)
		return bbt_error(err, errlen, BBT_EINVAL, "convert: dtype must be f32, f16, q8_0 or q4_0");
	c.config = read_json(&c, "config.json", 1, &rc);
	if (c.config == NULL)
		return rc;
	json_t *mt = json_object_get(c.config, "model_type");
	const char *model_type = json_is_string(mt) ? json_string_value(mt) : "(none)";
	if (strcmp(model_type, "bert") == 0)
		c.arch = "bert";
	else if (strcmp(model_type, "roberta") == 0)
		c.arch = "roberta";
	else {
		rc = bbt_error(err, errlen, BBT_ENOTSUP,
		               "%s/config.json: model_type \"%s\" is not supported (bert, roberta; causal "
		               "models are read as llama.cpp converts them)", dir, model_type);
		goto done;
	}
	json_t *act = json_object_get(c.config, "hidden_act");
	if (act != NULL && !(json_is_string(act) && strcmp(json_string_value(act), "gelu") == 0)) {
		rc = bbt_error(err, errlen, BBT_ENOTSUP,
		               "%s/config.json: hidden_act must be \"gelu\" (the exact erf GELU)", dir);
		goto done;
	}
	json_t *pet = json_object_get(c.config, "position_embedding_type");
	if (pet != NULL && !(json_is_string(pet) && strcmp(json_string_value(pet), "absolute") == 0)) {
		rc = bbt_error(err, errlen, BBT_ENOTSUP,
		               "%s/config.json: position_embedding_type must be \"absolute\"", dir);
		goto done;
	}
	if ((rc = cfg_int(&c, "hidden_size", &c.H, -1)) < 0 ||
	    (rc = cfg_int(&c, "num_hidden_layers", &c.L, -1)) < 0 ||
	    (rc = cfg_int(&c, "num_attention_heads", &c.heads, -1)) < 0 ||
	    (rc = cfg_int(&c, "intermediate_size", &c.I, -1)) < 0 ||
	    (rc = cfg_int(&c, "vocab_size", &c.V, -1)) < 0 ||
	    (rc = cfg_int(&c, "max_position_embeddings", &c.P, -1)) < 0 ||
	    (rc = cfg_int(&c, "type_vocab_size", &c.T, 2)) < 0)
		goto done;
	if (c.H % c.heads != 0) {
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s/config.json: hidden_size %" PRIu64 " is not a multiple of %" PRIu64
		               " heads", dir, c.H, c.heads);
		goto done;
	}
	double eps;
	if ((rc = cfg_eps(&c, &eps)) < 0)
		goto done;
	/* RoBERTa numbers positions from padding_idx + 1 (HF's
	 * create_position_ids_from_input_ids): rows below it are never used. */
	uint64_t pos_offset = 0;
	if (strcmp(c.arch, "roberta") == 0) {
		json_t *pad = json_object_get(c.config, "pad_token_id");
		pos_offset = (json_is_integer(pad) ? (uint64_t)json_integer_value(pad) : 1) + 1;
	}
	if (pos_offset >= c.P) {
		rc = bbt_error(err, errlen, BBT_EFORMAT, "%s/config.json: no positions left after the offset",
		               dir);
		goto done;
	}

	char *st_path = bbt_path_join(dir, "model.safetensors");
	if (st_path == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		goto done;
	}
	rc = bbt_safetensors_open(st_path, &c.st, err, errlen);
	free(st_path);
	if (rc < 0)
		goto done;
	char probe[160];
	snprintf(probe, sizeof probe, "%s.embeddings.word_embeddings.weight", c.arch);
	c.prefix = bbt_safetensors_find(&c.st, probe)
	           ? (strcmp(c.arch, "bert") == 0 ? "bert." : "roberta.") : "";

	c.w = bbt_gguf_writer_alloc();
	if (c.w == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		goto done;
	}
	char key[96];
	bbt_gguf_writer_set_str(c.w, "general.architecture", c.arch);
	const char *base = strrchr(dir, '/');
	bbt_gguf_writer_set_str(c.w, "general.name", base && base[1] ? base + 1 : dir);
	/* llama.cpp's file types: all f32, mostly f16, mostly q4_0, mostly q8_0 */
	bbt_gguf_writer_set_u32(c.w, "general.file_type", p->dtype == BBT_GGML_F16 ? 1
	                        : p->dtype == BBT_GGML_Q4_0 ? 2 : p->dtype == BBT_GGML_Q8_0 ? 7 : 0);
	bbt_gguf_writer_set_u32(c.w, "general.alignment", BBT_GGUF_DEFAULT_ALIGNMENT);
#define SET_U32(suffix, v) (snprintf(key, sizeof key, "%s." suffix, c.arch), \
                            bbt_gguf_writer_set_u32(c.w, key, (uint32_t)(v)))
	SET_U32("context_length", c.P - pos_offset);
	SET_U32("embedding_length", c.H);
	SET_U32("block_count", c.L);
	SET_U32("feed_forward_length", c.I);
	SET_U32("attention.head_count", c.heads);
	SET_U32("position_offset", pos_offset);
	SET_U32("vocab_size", c.V);
#undef SET_U32
	snprintf(key, sizeof key, "%s.attention.layer_norm_epsilon", c.arch);
	bbt_gguf_writer_set_f32(c.w, key, (float)eps);
	snprintf(key, sizeof key, "%s.attention.causal", c.arch);
	bbt_gguf_writer_set_bool(c.w, key, 0);

	if ((rc = convert_tokenizer(&c)) < 0 || (rc = convert_weights(&c)) < 0)
		goto done;
	for (size_t i = 0; i < c.st.n; i++) {
		/* The pooler and other heads are not used by a masked LM: say so. */
		if (!c.st.t[i].used && p->log != NULL)
			fprintf(p->log, "bbtbench: convert: skipping tensor %s\n", c.st.t[i].name);
	}
	rc = bbt_gguf_writer_write(c.w, out, err, errlen);
	if (rc == BBT_OK && p->log != NULL)
		fprintf(p->log, "bbtbench: convert: wrote %s (%s, %" PRIu64 " layers, hidden %" PRIu64
		        ", vocab %" PRIu64 ")\n", out, c.arch, c.L, c.H, c.V);
done:
	for (size_t i = 0; i < c.n_bufs; i++)
		free(c.bufs[i]);
	free(c.bufs);
	bbt_gguf_writer_free(c.w);
	bbt_safetensors_close(&c.st);
	json_decref(c.config);
	return rc;
}

/* ------------------------------------------------------------------ */
/* info */

int bbt_gguf_describe(const char *path, FILE *f, char *err, size_t errlen)
{
	bbt_gguf_t *g;
	int rc = bbt_gguf_open(path, &g, err, errlen);
	if (rc < 0)
		return rc;
	const char *arch = "(none)";
	bbt_gguf_get_str(g, "general.architecture", &arch, NULL, 0);
	fprintf(f, "file          %s\n", path);
	fprintf(f, "gguf          version %u, alignment %u, %zu metadata keys, %zu tensors\n",
	        bbt_gguf_version(g), bbt_gguf_alignment(g), bbt_gguf_n_kv(g), bbt_gguf_n_tensors(g));
	fprintf(f, "architecture  %s\n", arch);
	const char *tm = NULL;
	const char *const *toks;
	size_t nt = 0;
	if (bbt_gguf_get_str(g, "tokenizer.ggml.model", &tm, NULL, 0) == BBT_OK) {
		bbt_gguf_get_arr_str(g, "tokenizer.ggml.tokens", &toks, &nt, NULL, 0);
		fprintf(f, "tokenizer     %s, %zu tokens\n", tm, nt);
	}
	fprintf(f, "\nmetadata:\n");
	for (size_t i = 0; i < bbt_gguf_n_kv(g); i++) {
		char buf[160];
		bbt_gguf_kv_format(g, i, buf, sizeof buf);
		fprintf(f, "  %-40s %-7s %s\n", bbt_gguf_kv_key(g, i),
		        bbt_gguf_type_name(bbt_gguf_kv_type(g, i)), buf);
	}
	uint64_t params = 0, bytes = 0;
	fprintf(f, "\ntensors:\n");
	for (size_t i = 0; i < bbt_gguf_n_tensors(g); i++) {
		const struct bbt_gguf_tensor *t = bbt_gguf_tensor(g, i);
		char shape[96] = "";
		for (uint32_t d = 0; d < t->n_dims; d++)
			snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%" PRIu64,
			         d ? " x " : "", t->ne[d]);
		fprintf(f, "  %-40s %-5s %-20s %zu bytes\n", t->name, bbt_ggml_type_name(t->type), shape,
		        t->nbytes);
		params += t->n_elements;
		bytes += t->nbytes;
	}
	fprintf(f, "\ntotal         %" PRIu64 " parameters, %" PRIu64 " bytes of tensor data\n",
	        params, bytes);
	bbt_gguf_free(g);
	return BBT_OK;
}
