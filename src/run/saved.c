/*
 * saved.c - a finished run's prompt loaded again (see saved.h).
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "run/saved.h"
#include "core/sha256.h"

struct bbt_saved_params bbt_saved_default_params(void)
{
	return (struct bbt_saved_params){ .open_setup = 1 };
}

void bbt_saved_release(struct bbt_saved *sv)
{
	bbt_score_free(sv->sc);
	bbt_setup_release(&sv->setup);
	bbt_plan_release(&sv->plan);
	bbt_config_release(&sv->cfg);
	bbt_prompt_file_release(&sv->pf);
	json_decref(sv->result);
	free(sv->z);
	free(sv->layer_sigma_hat);
	free(sv->run_dir);
	free(sv->run_id);
	memset(sv, 0, sizeof *sv);
}

struct bbt_prompt bbt_saved_prompt(const struct bbt_saved *sv)
{
	return (struct bbt_prompt){ sv->kind, sv->z };
}

/* A data file in the task's test (else dev, else train) format. */
static int encode_file(const struct bbt_saved *sv, const char *path, bbt_encoded_t **enc,
                       char *err, size_t errlen)
{
	const bbt_task_t *t = sv->setup.task;
	const struct bbt_source *src = t->test ? t->test : t->dev ? t->dev : t->train;
	if (src == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: task %s declares no data file format to read it with", path,
		                 t->name);
	bbt_dataset_t *ds = NULL;
	int rc = bbt_dataset_read(t, src, path, &ds, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_setup_encode(&sv->setup, &sv->plan, ds, enc, err, errlen);
	bbt_dataset_free(ds);
	return rc;
}

int bbt_saved_split(const struct bbt_saved *sv, const char *split, const bbt_encoded_t **enc,
                    bbt_encoded_t **own, const char **data, char *err, size_t errlen)
{
	int is_dev = strcmp(split, "dev") == 0, is_test = strcmp(split, "test") == 0;
	*own = NULL;
	if (is_dev || is_test) {
		*enc = sv->setup.enc[is_dev ? BBT_RUN_DEV : BBT_RUN_TEST];
		*data = is_dev ? sv->setup.splits.train_from : sv->setup.splits.test_from;
		if (*data == NULL)
			*data = "";
		return BBT_OK;
	}
	int rc = encode_file(sv, split, own, err, errlen);
	*enc = *own;
	*data = split;
	return rc;
}

/* Needs the setup opened (the task). */
char *bbt_saved_output_name(const struct bbt_saved *sv, const char *split, const char *prefix,
                            const char *ext)
{
	int is_file = strcmp(split, "dev") != 0 && strcmp(split, "test") != 0;
	const char *task = sv->setup.task->name;
	const char *run_task = json_string_value(
	        json_object_get(json_object_get(sv->result, "task"), "name"));
	int other = strcmp(task, run_task ? run_task : "") != 0;
	const char *base = strrchr(split, '/');
	base = is_file && base ? base + 1 : split;
	char *name = bbt_asprintf("%s%s%s%s%s%s", prefix, other ? task : "", other ? "-" : "",
	                          is_file ? "file-" : "", base, ext);
	for (char *c = name ? name + strlen(prefix) : NULL; c && *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
			*c = '_';
	return name;
}

/* "RUN/name", or NULL (out of memory). */
static char *in_run(const struct bbt_saved *sv, const char *name)
{
	return bbt_path_join(sv->run_dir, name);
}

static int load_result(struct bbt_saved *sv, char *err, size_t errlen)
{
	char *path = in_run(sv, "result.json");
	json_error_t je;
	int rc = BBT_OK;
	if (path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	sv->result = json_load_file(path, 0, &je);
	if (sv->result == NULL || !json_is_object(sv->result))
		rc = bbt_error(err, errlen, BBT_EIO, "%s: not a run folder (expected a result.json: %s)",
		               sv->run_dir, je.text);
	const char *id = json_string_value(json_object_get(sv->result, "run_id"));
	if (rc == BBT_OK && (sv->run_id = bbt_strdup(id ? id : "")) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	free(path);
	return rc;
}

/* A discrete prompt: its candidate indices in result.json. */
static int load_discrete(struct bbt_saved *sv, json_t *idx, char *err, size_t errlen)
{
	sv->kind = BBT_PROMPT_DISCRETE;
	sv->d = json_array_size(idx);
	sv->layers = 1;
	if (sv->d == 0)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s/result.json: prompt.indices: expected the discrete prompt's "
		                 "candidate indices", sv->run_dir);
	if ((sv->z = calloc(sv->d, sizeof *sv->z)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < sv->d; i++)
		sv->z[i] = (double)json_integer_value(json_array_get(idx, i));
	return BBT_OK;
}

/* The prompt result.json names: prompt.safetensors with its sha256, or a
 * discrete prompt's indices. */
static int load_prompt(struct bbt_saved *sv, char *err, size_t errlen)
{
	json_t *pj = json_object_get(sv->result, "prompt");
	const char *kind = json_string_value(json_object_get(pj, "kind"));
	if (kind != NULL && strcmp(kind, "discrete") == 0)
		return load_discrete(sv, json_object_get(pj, "indices"), err, errlen);
	const char *file = json_string_value(json_object_get(pj, "file")),
	           *sha = json_string_value(json_object_get(pj, "sha256"));
	if (kind == NULL || file == NULL || sha == NULL || strchr(file, '/') != NULL)
		return bbt_error(err, errlen, BBT_ENOTFOUND,
		                 "%s/result.json: no saved prompt (expected prompt.file and "
		                 "prompt.sha256: a tuned continuous run that finished saves %s)",
		                 sv->run_dir, BBT_PROMPT_FILE_NAME);
	char *path = in_run(sv, file);
	if (path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_sha256_file(path, sv->sha256, &(long long){ 0 }, err, errlen);
	if (rc == BBT_OK && strcmp(sv->sha256, sha) != 0)
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s: sha256 %s, but result.json says %s (the file was changed)", path,
		               sv->sha256, sha);
	if (rc == BBT_OK)
		rc = bbt_prompt_file_read(path, &sv->pf, err, errlen);
	if (rc == BBT_OK) {
		sv->kind = BBT_PROMPT_CONTINUOUS;
		sv->d = sv->pf.d;
		sv->layers = sv->pf.layers;
		sv->z = malloc(sv->layers * sv->d * sizeof *sv->z);
		sv->layer_sigma_hat = malloc(sv->layers * sizeof *sv->layer_sigma_hat);
		if (sv->z == NULL || sv->layer_sigma_hat == NULL)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (rc == BBT_OK)
		memcpy(sv->z, sv->pf.z, sv->layers * sv->d * sizeof *sv->z);
	/* A deep prompt's A_l are scaled by the sigma-hats its run measured:
	 * rebuilt from those, not from whatever batch this use encodes. */
	if (rc == BBT_OK && sv->layers > 1)
		rc = bbt_prompt_file_layer_values(&sv->pf, path, "layer_sigma_hats",
		                                  sv->layer_sigma_hat, err, errlen);
	free(path);
	return rc;
}

/* config.ini, then the overrides; another backend drops the run's
 * backend options (they belong to the run's backend). */
static int load_config(struct bbt_saved *sv, const struct bbt_saved_params *sp, char *err,
                       size_t errlen)
{
	char *path = in_run(sv, "config.ini");
	if (path == NULL || bbt_config_init(&sv->cfg) < 0) {
		free(path);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	int rc = bbt_config_load_ini(&sv->cfg, path, err, errlen);
	free(path);
	if (rc == BBT_OK && sp->backend && strcmp(sp->backend, sv->cfg.backend) != 0) {
		bbt_kvlist_t kept = { 0 };
		for (size_t i = 0; i < sv->cfg.ini_plugin_opts.n; i++) {
			const struct bbt_kv *kv = &sv->cfg.ini_plugin_opts.items[i];
			if (strncmp(kv->key, "backend", 7) != 0)
				bbt_kvlist_set(&kept, kv->key, kv->value, kv->origin);
		}
		bbt_kvlist_clear(&sv->cfg.ini_plugin_opts);
		sv->cfg.ini_plugin_opts = kept;
	}
	const char *keys[] = { "task", "data-dir", "backend", "model" };
	const char *vals[] = { sp->task, sp->data_dir, sp->backend, sp->model };
	for (size_t i = 0; rc == BBT_OK && i < 4; i++)
		if (vals[i] != NULL)
			rc = bbt_config_set(&sv->cfg, keys[i], vals[i], "command line", err, errlen);
	return rc;
}

/* The model must take the run's prompt: the same hidden size and
 * vocabulary (and so the same prompt shape and label-word ids). */
static int check_model(struct bbt_saved *sv, char *err, size_t errlen)
{
	json_t *m = json_object_get(json_object_get(sv->result, "backend"), "model");
	size_t hidden = (size_t)json_integer_value(json_object_get(m, "hidden")),
	       vocab = (size_t)json_integer_value(json_object_get(m, "vocab_size"));
	const struct bbt_model_info *info = &sv->setup.info;
	const char *model = sv->cfg.model[0] ? sv->cfg.model : sv->cfg.backend;
	if (info->hidden != hidden || info->vocab_size != vocab)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "model %s has hidden size %zu and a vocabulary of %zu; the run's "
		                 "(%s/result.json) has hidden size %zu and a vocabulary of %zu",
		                 model, info->hidden, info->vocab_size, sv->run_dir, hidden, vocab);
	if (sv->d != sv->setup.d)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: the saved prompt has %zu values; the run's settings make %zu",
		                 sv->run_dir, sv->d, sv->setup.d);
	if (sv->kind == BBT_PROMPT_CONTINUOUS && sv->layers != sv->setup.layers)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: the saved prompt has %zu layers; model %s takes %zu", sv->run_dir,
		                 sv->layers, model, sv->setup.layers);
	return BBT_OK;
}

/* p = A z rebuilt for this model against the saved prompt: the same bits
 * unless the model's embedding std (and so A's scale) differs. */
static void check_projection(const struct bbt_saved *sv)
{
	if (sv->kind != BBT_PROMPT_CONTINUOUS ||
	    sv->layers * sv->pf.prompt_len * sv->pf.hidden != sv->setup.D)
		return;
	float *p = malloc(sv->setup.D * sizeof *p);
	if (p == NULL)
		return;
	bbt_prompt_project(&sv->setup, sv->z, 1, p);
	if (memcmp(p, sv->pf.prompt, sv->setup.D * sizeof *p) != 0)
		bbt_log(BBT_LOG_WARNING, NULL,
		        "%s: the prompt rebuilt from z for this model differs from the saved one "
		        "(embedding std %.6g, the run's %s): the projection's scale follows the model",
		        sv->run_dir, sv->setup.info.embed_std, bbt_prompt_file_meta(&sv->pf, "embed_std"));
	free(p);
}

int bbt_saved_open(struct bbt_saved *sv, const char *run_dir, const struct bbt_saved_params *sp,
                   bbt_registry_t *reg, char *err, size_t errlen)
{
	memset(sv, 0, sizeof *sv);
	sv->budget = bbt_budget_init(BBT_BUDGET_UNLIMITED);
	if ((sv->run_dir = bbt_strdup(run_dir)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = load_result(sv, err, errlen);
	if (rc == BBT_OK)
		rc = load_prompt(sv, err, errlen);
	if (rc == BBT_OK)
		rc = load_config(sv, sp, err, errlen);
	if (rc != BBT_OK || !sp->open_setup)
		return rc;
	rc = bbt_plan_init(&sv->plan, &sv->cfg, err, errlen);
	if (sv->layers > 1)
		sv->plan.layer_sigma_hat = sv->layer_sigma_hat;
	if (rc == BBT_OK && !sv->plan.tuned)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s/config.ini: method %s tunes no prompt",
		               sv->run_dir, sv->cfg.method);
	if (rc == BBT_OK)
		rc = bbt_setup_resolve(&sv->setup, &sv->plan, reg, err, errlen);
	if (rc == BBT_OK && sv->plan.prompt != sv->kind)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s: the saved prompt is not of the kind "
		               "optimizer %s searches", sv->run_dir, sv->cfg.optimizer);
	if (rc == BBT_OK)
		rc = bbt_setup_open(&sv->setup, &sv->plan, err, errlen);
	if (rc == BBT_OK)
		rc = check_model(sv, err, errlen);
	struct bbt_score_params scp = { .run_id = sv->run_id, .t0 = bbt_now() };
	if (rc == BBT_OK &&
	    (sv->sc = bbt_score_alloc(&sv->setup, &sv->plan, &sv->budget, &scp, err, errlen)) ==
	            NULL)
		rc = BBT_ENOMEM;
	if (rc == BBT_OK)
		check_projection(sv);
	return rc;
}
