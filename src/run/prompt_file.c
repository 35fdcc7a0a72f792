/*
 * prompt_file.c - prompt.safetensors and prompts.tsv (see prompt_file.h).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/gguf.h>
#include "core/util.h"
#include "model/safetensors.h"
#include "run/prompt_file.h"
#include "run/schedule.h"
#include "core/sha256.h"

static void meta_set(json_t *m, const char *key, const char *fmt, ...) BBT_PRINTF(3, 4);

static void meta_set(json_t *m, const char *key, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_object_set_new(m, key, json_string(buf));
}

static json_t *metadata(const struct bbt_plan *p, const struct bbt_setup *s, double dev_metric,
                        size_t dev_call)
{
	json_t *m = json_object(), *words = json_array();
	for (size_t l = 0; l < s->L; l++)
		json_array_append_new(words, json_string(s->task->label_words[l]));
	char *wt = json_dumps(words, JSON_COMPACT);
	json_decref(words);
	meta_set(m, "format", "%s", BBT_PROMPT_FILE_FORMAT);
	meta_set(m, "version", "1");
	meta_set(m, "run_id", "%s", p->run_id ? p->run_id : "");
	meta_set(m, "task", "%s", s->task->name);
	meta_set(m, "template", "%s", s->task->template_text);
	meta_set(m, "label_words", "%s", wt ? wt : "[]");
	free(wt);
	meta_set(m, "projection", "%s", bbt_projection_name(p->projection));
	meta_set(m, "projection_seed", "%lu", (unsigned long)p->seed_projection);
	meta_set(m, "projection_std", "%.17g", bbt_setup_projection_std(s, p));
	meta_set(m, "alpha", "%.17g", p->alpha);
	meta_set(m, "sigma", "%.17g", p->sigma);
	meta_set(m, "d", "%zu", s->d);
	meta_set(m, "prompt_len", "%zu", p->prompt_len);
	meta_set(m, "prompt_layers", "%zu", s->layers);
	meta_set(m, "hidden", "%zu", s->info.hidden);
	meta_set(m, "vocab_size", "%zu", s->info.vocab_size);
	meta_set(m, "model_arch", "%s", s->info.arch);
	meta_set(m, "embed_std", "%.17g", s->info.embed_std);
	meta_set(m, "best_dev_call", "%zu", dev_call);
	meta_set(m, "dev_metric", "%.17g", dev_metric);
	if (s->layers > 1) {
		json_t *seeds = json_array(), *stds = json_array(), *hats = json_array();
		for (size_t l = 0; l < s->layers; l++) {
			json_array_append_new(seeds, json_integer((json_int_t)bbt_deep_layer_seed(p, l)));
			json_array_append_new(stds, json_real(s->layer_std[l]));
			json_array_append_new(hats, json_real(s->layer_sigma_hat[l]));
		}
		const char *keys[] = { "layer_seeds", "layer_stds", "layer_sigma_hats" };
		json_t *vals[] = { seeds, stds, hats };
		for (size_t i = 0; i < 3; i++) {
			char *t = json_dumps(vals[i], JSON_COMPACT | JSON_REAL_PRECISION(17));
			meta_set(m, keys[i], "%s", t ? t : "[]");
			free(t);
			json_decref(vals[i]);
		}
		meta_set(m, "schedule", "%s", bbt_schedule_name(p->schedule));
	}
	return m;
}

int bbt_prompt_file_save(const struct bbt_plan *p, const struct bbt_setup *s, const double *z,
                         double dev_metric, size_t dev_call, const char *run_dir,
                         char sha[65], char *err, size_t errlen)
{
	size_t H = s->info.hidden, L = s->layers, P = s->D / (L * H);
	float *prompt = malloc(s->D * sizeof *prompt);
	char *path = bbt_path_join(run_dir, BBT_PROMPT_FILE_NAME);
	json_t *meta = metadata(p, s, dev_metric, dev_call);
	long long size;
	int rc = prompt && path && meta ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK) {
		bbt_prompt_project(s, z, 1, prompt);
		/* BBT: z [d], prompt [P, H]; deep: a leading layer dimension */
		int deep = L > 1;
		struct bbt_safetensors_out t[2] = {
			{ .name = "z", .f64 = z, .n_dims = 1 + deep },
			{ .name = "prompt", .f32 = prompt, .n_dims = 2 + deep },
		};
		t[0].shape[0] = t[1].shape[0] = L;
		t[0].shape[deep] = s->d;
		t[1].shape[deep] = P;
		t[1].shape[deep + 1] = H;
		rc = bbt_safetensors_write(path, t, 2, meta, err, errlen);
	}
	if (rc == BBT_OK)
		rc = bbt_sha256_file(path, sha, &size, err, errlen);
	json_decref(meta);
	free(path);
	free(prompt);
	return rc;
}

void bbt_prompt_file_release(struct bbt_prompt_file *pf)
{
	free(pf->z);
	free(pf->prompt);
	json_decref(pf->meta);
	memset(pf, 0, sizeof *pf);
}

const char *bbt_prompt_file_meta(const struct bbt_prompt_file *pf, const char *key)
{
	const char *v = json_string_value(json_object_get(pf->meta, key));
	return v ? v : "";
}

int bbt_prompt_file_layer_values(const struct bbt_prompt_file *pf, const char *path,
                                 const char *key, double *out, char *err, size_t errlen)
{
	json_t *a = json_loads(bbt_prompt_file_meta(pf, key), 0, NULL);
	int ok = json_is_array(a) && json_array_size(a) == pf->layers;
	for (size_t l = 0; ok && l < pf->layers; l++) {
		json_t *v = json_array_get(a, l);
		ok = json_is_number(v);
		out[l] = json_number_value(v);
	}
	json_decref(a);
	return ok ? BBT_OK
	          : bbt_error(err, errlen, BBT_EFORMAT,
	                      "%s: __metadata__ %s: expected a JSON array of %zu numbers (one per "
	                      "layer)", path, key, pf->layers);
}

static int read_tensors(struct bbt_safetensors *st, struct bbt_prompt_file *pf, char *err,
                        size_t errlen)
{
	const char *path = st->path;
	struct bbt_safetensors_tensor *z = bbt_safetensors_find(st, "z"),
	                              *pr = bbt_safetensors_find(st, "prompt");
	json_t *meta = json_object_get(st->header, "__metadata__");
	const char *fmt = json_string_value(json_object_get(meta, "format"));
	if (fmt == NULL || strcmp(fmt, BBT_PROMPT_FILE_FORMAT) != 0)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: not a bbtbench prompt (expected __metadata__ format \"%s\")",
		                 path, BBT_PROMPT_FILE_FORMAT);
	/* BBT: z [d], prompt [P, hidden]; deep: z [L, d], prompt [L, P, hidden] */
	int deep = z != NULL && z->n_dims == 2;
	if (z == NULL || (z->n_dims != 1 && !deep) ||
	    (z->dtype != BBT_GGML_F64 && z->dtype != BBT_GGML_F32))
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: expected a tensor \"z\" of d (or layers x d) F64 or F32 values",
		                 path);
	if (pr == NULL || pr->n_dims != 2 + deep || pr->dtype != BBT_GGML_F32 ||
	    (deep && pr->shape[0] != z->shape[0]))
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: expected a tensor \"prompt\" of %sP x hidden F32 values", path,
		                 deep ? "layers (z's first dimension) x " : "");
	pf->layers = deep ? (size_t)z->shape[0] : 1;
	pf->d = (size_t)z->shape[deep];
	pf->prompt_len = (size_t)pr->shape[deep];
	pf->hidden = (size_t)pr->shape[deep + 1];
	pf->z = malloc(pf->layers * pf->d * sizeof *pf->z);
	pf->prompt = malloc((size_t)pr->n_elements * sizeof *pf->prompt);
	pf->meta = json_deep_copy(meta);
	if (pf->z == NULL || pf->prompt == NULL || pf->meta == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < pf->layers * pf->d; i++)
		pf->z[i] = bbt_safetensors_get_f64(z, i);
	for (uint64_t i = 0; i < pr->n_elements; i++)
		pf->prompt[i] = bbt_safetensors_get(pr, i);
	return BBT_OK;
}

int bbt_prompt_file_read(const char *path, struct bbt_prompt_file *pf, char *err,
                         size_t errlen)
{
	memset(pf, 0, sizeof *pf);
	struct bbt_safetensors st;
	int rc = bbt_safetensors_open(path, &st, err, errlen);
	if (rc == BBT_OK)
		rc = read_tensors(&st, pf, err, errlen);
	bbt_safetensors_close(&st);
	if (rc < 0)
		bbt_prompt_file_release(pf);
	return rc;
}

void bbt_prompt_trail_header(FILE *f, size_t d)
{
	fprintf(f, "call\tdev_metric");
	for (size_t i = 0; i < d; i++)
		fprintf(f, "\tz%zu", i);
	fputc('\n', f);
}

void bbt_prompt_trail_row(FILE *f, size_t call, double dev_metric, const double *z, size_t d)
{
	fprintf(f, "%zu\t%.17g", call, dev_metric);
	for (size_t i = 0; i < d; i++)
		fprintf(f, "\t%.17g", z[i]);
	fputc('\n', f);
}
