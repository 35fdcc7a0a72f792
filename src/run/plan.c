/*
 * plan.c - a run's settings resolved once: enums, numbers, seeds, the run id.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/rng.h"
#include "core/util.h"
#include "plugin/registry.h"
#include "run/plan.h"

static const char *const method_names[] = { NULL, "tune", "manual", "calibrated", "icl" };

const char *bbt_method_name(enum bbt_method m)
{
	return m >= BBT_METHOD_TUNE && m <= BBT_METHOD_ICL ? method_names[m] : "?";
}

static enum bbt_method method_parse(const char *name)
{
	for (int m = BBT_METHOD_TUNE; m <= BBT_METHOD_ICL; m++)
		if (strcmp(name, method_names[m]) == 0)
			return (enum bbt_method)m;
	return 0;
}

static enum bbt_split_source split_source_parse(const char *name)
{
	return strcmp(name, "full") == 0    ? BBT_SPLIT_FULL
	       : strcmp(name, "kshot") == 0 ? BBT_SPLIT_KSHOT
	                                    : BBT_SPLIT_AUTO;
}

/* A yes|no setting (the table admits nothing else). */
static int yes(const char *value)
{
	return strcmp(value, "yes") == 0;
}

int bbt_plan_init(struct bbt_plan *p, const struct bbt_config *cfg, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->cfg = cfg;
	p->method = method_parse(cfg->method);
	p->loss = bbt_loss_parse(cfg->loss);
	p->projection = bbt_projection_parse(cfg->projection);
	if (p->method == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "--method '%s': expected tune, manual, "
		                 "calibrated or icl", cfg->method);
	if (p->loss == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "--loss '%s': expected ce, hinge or perf",
		                 cfg->loss);
	if (p->projection == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--projection '%s': expected normal or uniform", cfg->projection);
	p->tuned = p->method == BBT_METHOD_TUNE;
	p->split_source = split_source_parse(cfg->split_source);
	p->calibrate = p->tuned && yes(cfg->calibrate);    /* a baseline reads neither */
	p->grad_check = p->tuned && yes(cfg->grad_check);
	p->deep = p->tuned && strcmp(cfg->prompt_layers, "all") == 0;
	p->schedule = bbt_schedule_parse(cfg->schedule);
	p->dim = (size_t)cfg->dim;
	p->prompt_len = (size_t)cfg->prompt_len;
	p->search_space = (size_t)cfg->search_space;
	p->budget = (size_t)cfg->budget;
	p->popsize = (size_t)cfg->popsize;
	p->k_shot = (size_t)cfg->k_shot;
	p->eval_every = (size_t)bbt_config_eval_every(cfg);
	p->icl_shots = (size_t)cfg->icl_shots;
	p->sigma = cfg->sigma;
	p->alpha = cfg->alpha;
	p->seed = cfg->seed;
	p->data_seed = bbt_config_data_seed(cfg);
	p->seed_optimizer = bbt_rng_derive_seed((uint64_t)cfg->seed, "optimizer");
	p->seed_backend = bbt_rng_derive_seed((uint64_t)cfg->seed, "backend");
	p->seed_projection = bbt_rng_derive_seed((uint64_t)cfg->seed, "projection");
	return BBT_OK;
}

void bbt_plan_release(struct bbt_plan *p)
{
	free(p->run_id);
	free(p->run_dir);
	p->run_id = p->run_dir = NULL;
}

void bbt_plan_bind(struct bbt_plan *p, const struct bbt_plugin *opt)
{
	if (!p->tuned || opt == NULL) {
		p->prompt = BBT_PROMPT_NONE;
		p->white_box = 0;
		return;
	}
	p->prompt = (opt->flags & BBT_OPTIMIZER_CATEGORICAL) ? BBT_PROMPT_DISCRETE
	                                                     : BBT_PROMPT_CONTINUOUS;
	p->white_box = (opt->flags & BBT_OPTIMIZER_WANTS_GRADIENT) != 0;
}

int bbt_plan_check_gradients(const struct bbt_plan *p, const struct bbt_plugin *opt,
                             const struct bbt_plugin *be, char *err, size_t errlen)
{
	if (!p->white_box && !p->grad_check)
		return BBT_OK;
	char who[80];
	snprintf(who, sizeof who, p->white_box ? "optimizer %s" : "--grad-check", opt->name);
	if (bbt_plugin_backend_gradient(be) == NULL)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s needs true gradients, which backend %s does not give "
		                 "(`bbtbench list` shows the backends that do)",
		                 who, be->name);
	if (p->prompt == BBT_PROMPT_DISCRETE)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s needs a continuous prompt; optimizer %s searches a discrete "
		                 "one", who, opt->name);
	if (p->loss == BBT_LOSS_PERF)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s needs a differentiable loss: --loss perf is piecewise "
		                 "constant (use ce or hinge)", who);
	if (p->grad_check && bbt_plugin_gradient_estimate(opt) == NULL)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "--grad-check: optimizer %s makes no gradient estimate to "
		                 "check (zo-sgd and zo-adam do)", opt->name);
	return BBT_OK;
}

int bbt_plan_check_backend(const struct bbt_plan *p, const struct bbt_plugin *be, char *err,
                           size_t errlen)
{
	if (p->prompt != BBT_PROMPT_CONTINUOUS || !(be->flags & BBT_BACKEND_NO_CONTINUOUS))
		return BBT_OK;
	return bbt_error(err, errlen, BBT_ENOTSUP,
	                 "backend %s is a text API that takes no continuous prompt (optimizer %s "
	                 "tunes one): it takes discrete prompts (--optimizer bdpl) and the "
	                 "baselines (--method manual, calibrated, icl); for continuous prompts serve "
	                 "the model with `bbtbench serve` and use --backend http",
	                 be->name, p->cfg->optimizer);
}

int bbt_run_setting_matters(const char *method, const char *key)
{
	static const char *const tuning[] = { "optimizer", "dim", "prompt-len", "projection",
		                              "alpha", "sigma", "popsize", "budget",
		                              "eval-every", "calibrate", "search-space",
		                              "grad-check", "init-prompt", "prompt-layers",
		                              "schedule" };
	if (strcmp(key, "icl-shots") == 0)
		return strcmp(method, "icl") == 0;
	if (strcmp(method, "tune") == 0)
		return 1;
	for (size_t i = 0; i < sizeof tuning / sizeof tuning[0]; i++)
		if (strcmp(key, tuning[i]) == 0)
			return 0;
	return 1;
}

static json_t *options_json(const bbt_options_t *opts)
{
	json_t *o = json_object();
	for (size_t i = 0; i < bbt_options_count(opts); i++)
		json_object_set_new(o, bbt_options_key(opts, i),
		                    json_string(bbt_options_text(opts, i)));
	return o;
}

/* The hash of every setting that changes the outcome (not where the
 * results go), with the plugins' resolved options. */
static int settings_hash(const struct bbt_plan *p, const bbt_options_t *opt_opts,
                         const bbt_options_t *be_opts, unsigned long long *h)
{
	json_t *j = bbt_config_to_json(p->cfg);
	if (j == NULL)
		return BBT_ENOMEM;
	json_object_del(j, "out");
	json_object_del(j, "experiment");
	json_object_del(j, "data-dir");
	if (p->prompt != BBT_PROMPT_DISCRETE)
		json_object_del(j, "search-space");   /* no effect on a continuous run */
	if (p->cfg->init_prompt[0] == '\0')
		json_object_del(j, "init-prompt");    /* in the id only when given */
	if (!p->deep) {   /* BBT: its run ids from before deep prompts */
		json_object_del(j, "prompt-layers");
		json_object_del(j, "schedule");
	}
	json_object_set_new(j, "data-seed", json_integer(p->data_seed));
	/* Settings that cannot change this run: a grid over optimizers or
	 * dimensions then runs each baseline once. */
	const char *key;
	json_t *value;
	void *tmp;
	json_object_foreach_safe(j, tmp, key, value) {
		if (!bbt_run_setting_matters(p->cfg->method, key))
			json_object_del(j, key);
	}
	if (opt_opts != NULL)
		json_object_set_new(j, "optimizer-options", options_json(opt_opts));
	json_object_set_new(j, "backend-options", options_json(be_opts));
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return BBT_ENOMEM;
	*h = bbt_hash64(text, strlen(text), BBT_HASH64_INIT) & 0xffffffffffffULL;
	free(text);
	return BBT_OK;
}

int bbt_plan_run_id(struct bbt_plan *p, const char *task, const struct bbt_plugin *opt,
                    const bbt_options_t *opt_opts, const struct bbt_plugin *be,
                    const bbt_options_t *be_opts, char *err, size_t errlen)
{
	unsigned long long h;
	if (settings_hash(p, p->tuned ? opt_opts : NULL, be_opts, &h) < 0)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	const struct bbt_config *cfg = p->cfg;
	const char *exp = cfg->experiment[0] ? cfg->experiment : task;
	int discrete = p->prompt == BBT_PROMPT_DISCRETE;
	free(p->run_id);
	free(p->run_dir);
	p->run_dir = NULL;
	/* d: the subspace dimension; L: the positions of a discrete prompt */
	if (p->tuned)
		p->run_id = bbt_asprintf("%s-%s-%s-%s%ld-s%ld-%012llx", opt->name, be->name, task,
		                         discrete ? "L" : "d",
		                         discrete ? cfg->prompt_len : cfg->dim, cfg->seed, h);
	else
		p->run_id = bbt_asprintf("%s-%s-%s-s%ld-%012llx", cfg->method, be->name, task,
		                         cfg->seed, h);
	char *expdir = p->run_id ? bbt_path_join(cfg->out, exp) : NULL;
	p->run_dir = expdir ? bbt_path_join(expdir, p->run_id) : NULL;
	free(expdir);
	return p->run_dir ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
}
