/*
 * run.c - the run loop: ask, project, score, tell, evaluate, log.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/baseline.h"
#include "core/blas.h"
#include "data/catalog.h"
#include "data/dataset.h"
#include "plugin/services.h"
#include "core/log.h"
#include "run/loss.h"
#include "plugin/options.h"
#include "run/results.h"
#include "core/rng.h"
#include "run/run.h"
#include "run/subspace.h"
#include "data/task.h"
#include "data/template.h"
#include "core/util.h"
#include "data/vocab.h"

/* Sequences per backend call when scoring dev and test under one prompt:
 * bounds the backend's activation memory on large evaluation sets. */
#define EVAL_CHUNK 256

enum { SPLIT_TRAIN, SPLIT_DEV, SPLIT_TEST, N_SPLITS };
static const char *const split_names[N_SPLITS] = { "train", "dev", "test" };

struct plugin_use {
	const struct bbt_plugin_entry *entry;
	bbt_kvlist_t given;
	bbt_options_t *opts;
	bbt_hostsvc_t *svc;
	void *state;
};

struct run {
	const struct bbt_config *cfg;
	bbt_task_t *task;
	bbt_template_t *tmpl;
	struct bbt_splits splits;
	struct plugin_use opt, be;
	struct bbt_model_info info;
	struct bbt_optimizer_info oinfo;
	int32_t *label_ids;
	bbt_encoded_t *enc[N_SPLITS];
	bbt_subspace_t *sub;
	size_t d, D, L;
	uint32_t seed_optimizer, seed_backend, seed_projection;
	char *run_id, *run_dir;
	bbt_rundir_t *rd;
	const struct bbt_run_flags *flags;

	/* buffers */
	double *z;            /* batch x d candidates */
	float *prompts;       /* batch x D */
	float *logits;        /* batch x n_train x L, or EVAL_CHUNK x L */
	double *loss;         /* batch */
	struct bbt_trace_row *rows;   /* batch: a step's trace rows, written after tell */

	/* Gradients: a white-box optimizer (BBT_OPTIMIZER_WANTS_GRADIENT) gets
	 * the true gradient of every candidate; --grad-check compares a ZO
	 * optimizer's estimate with it at every step. */
	bbt_backend_gradient_fn gradient;      /* the backend's, or NULL */
	bbt_gradient_estimate_fn estimate;     /* the optimizer's, for --grad-check */
	int white_box, grad_check;
	float *grad_p;        /* batch x D: gradient with respect to the prompts */
	double *grad_z;       /* batch x d: pulled back through the projection */
	double *est_at, *est; /* d each: the optimizer's last estimate and its point */
	size_t grad_check_calls;        /* true gradients asked by --grad-check */
	size_t grad_cos_n;   /* steps with a cosine (both gradients nonzero) */
	double grad_cos_sum; /* their cosines, for result.json's mean */

	/* progress */
	size_t calls, batches, dev_calls, test_calls;
	double best_loss;     /* lowest training loss seen */
	double *best_z;
	int best_changed;     /* since the last dev evaluation */
	double last_dev;      /* dev metric of best_z at its last evaluation */
	double best_dev;      /* best dev metric seen */
	double *best_dev_z;
	size_t best_dev_call;
	const char *stop_reason;
	double t0;

	/* baselines */
	int tuned;            /* method tune: an optimizer searches a prompt */
	int redoes_finished;  /* --force over a finished run, kept unless this one finishes */
	bbt_encoded_t *content_free;
	struct bbt_icl icl;
	struct bbt_calibration cal;
	int calibrated;       /* cal holds a calibration of the final scores */
	size_t tokens;        /* positions scored by the backend, all calls */

	/* Discrete prompts (an optimizer flagged BBT_OPTIMIZER_CATEGORICAL):
	 * z holds L vocabulary indices, spliced into every sequence as tokens. */
	int discrete;
	bbt_vocab_t *vocab;
	size_t prompt_room;   /* positions reserved for the prompt when encoding */
	struct {
		int32_t *ids;
		size_t cap_ids;
		size_t *offset, *predict_pos, *prompt_pos;
		size_t cap_seq;
	} spliced;            /* V x n sequences with their prompt tokens */
};

/* ------------------------------------------------------------------ */
/* Signals */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL);   /* a second Ctrl-C ends the program at once */
}

void bbt_run_install_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

int bbt_run_interrupted(void)
{
	return interrupted != 0;
}

/* ------------------------------------------------------------------ */
/* Which settings matter */

int bbt_run_setting_matters(const char *method, const char *key)
{
	static const char *const tuning[] = { "optimizer", "dim", "prompt-len", "projection",
		                              "alpha", "sigma", "popsize", "budget",
		                              "eval-every", "calibrate", "search-space",
		                              "grad-check" };
	if (strcmp(key, "icl-shots") == 0)
		return strcmp(method, "icl") == 0;
	if (strcmp(method, "tune") == 0)
		return 1;
	for (size_t i = 0; i < sizeof tuning / sizeof tuning[0]; i++)
		if (strcmp(key, tuning[i]) == 0)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Set-up: everything is checked before the results folder is touched. */

static int load_task(struct run *r, char *err, size_t errlen)
{
	const char *dirs[20];
	size_t nd = bbt_task_dirs(dirs, 20);
	char *path = NULL;
	int rc = bbt_task_find(r->cfg->task, dirs, nd, &path, err, errlen);
	if (rc == BBT_ENOTFOUND)
		bbt_catalog_explain_missing(r->cfg->task, err, errlen);
	if (rc < 0)
		bbt_config_error_origin(r->cfg, "task", err, errlen);
	if (rc == BBT_OK)
		rc = bbt_task_load(path, &r->task, err, errlen);
	free(path);
	if (rc == BBT_OK)
		rc = bbt_template_parse(r->task, &r->tmpl, err, errlen);
	return rc;
}

static int load_splits(struct run *r, char *err, size_t errlen)
{
	struct bbt_splits_params sp = bbt_splits_default_params();
	sp.data_dir = r->cfg->data_dir;
	sp.k = (size_t)r->cfg->k_shot;
	sp.data_seed = (uint32_t)bbt_config_data_seed(r->cfg);
	const char *src = r->cfg->split_source;
	sp.source = strcmp(src, "full") == 0    ? BBT_SPLIT_FULL
	            : strcmp(src, "kshot") == 0 ? BBT_SPLIT_KSHOT
	                                        : BBT_SPLIT_AUTO;
	return bbt_splits_load(r->task, &sp, &r->splits, err, errlen);
}

/* Find the plugin, resolve its options, set up its host services. */
static int prepare_plugin(struct run *r, struct plugin_use *u, enum bbt_plugin_kind kind,
                          const char *name, const struct bbt_option_spec *other_spec,
                          bbt_registry_t *reg, uint32_t seed, char *err, size_t errlen)
{
	u->entry = bbt_registry_find(reg, kind, name, err, errlen);
	if (u->entry == NULL) {
		bbt_config_error_origin(r->cfg, bbt_plugin_kind_name(kind), err, errlen);
		return BBT_ENOTFOUND;
	}
	int rc = bbt_config_plugin_options(r->cfg, kind, name, u->entry->desc->options,
	                                   other_spec, &u->given, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_options_resolve(u->entry->desc->options, name, &u->given, &u->opts, err,
		                         errlen);
	if (rc == BBT_OK && (u->svc = bbt_hostsvc_alloc(name, seed, u->opts)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return rc;
}

/* Other plugin's option table for resolving bare -O keys. */
static const struct bbt_option_spec *spec_of(bbt_registry_t *reg, enum bbt_plugin_kind kind,
                                             const char *name)
{
	const struct bbt_plugin_entry *e = bbt_registry_find(reg, kind, name, NULL, 0);
	return e ? e->desc->options : NULL;
}

static int open_backend(struct run *r, char *err, size_t errlen)
{
	const struct bbt_backend_ops *ops = r->be.entry->desc->backend;
	struct bbt_backend_params bp = {
		.model = r->cfg->model[0] ? r->cfg->model : NULL,
		.prompt_len = r->discrete ? 0 : (size_t)r->cfg->prompt_len,
		.prompt_layers = 1,
		.seed = (uint64_t)r->cfg->seed,
	};
	memset(&r->info, 0, sizeof r->info);
	int rc = ops->open(bbt_hostsvc_host(r->be.svc), &bp, &r->be.state, &r->info, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "backend %s", r->be.entry->desc->name);
		return rc;
	}
	if (r->info.hidden == 0 || r->info.max_len == 0)
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "backend %s reports hidden size %zu and %zu positions",
		                 r->be.entry->desc->name, r->info.hidden, r->info.max_len);
	if ((size_t)r->cfg->prompt_len >= r->info.max_len)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len %ld leaves no room in the model's %zu positions",
		                 r->cfg->prompt_len, r->info.max_len);
	return BBT_OK;
}

/* Discrete runs: the K candidates (n-grams of the training texts with the
 * highest PMI with the labels), and room for the longest prompt they make,
 * so that truncation leaves every prompt the optimizer can pick in place. */
static int build_vocab(struct run *r, char *err, size_t errlen)
{
	if (!r->discrete)
		return BBT_OK;
	struct bbt_tokenizer tok = { r->be.entry->desc->backend, r->be.state };
	struct bbt_vocab_params vp = bbt_vocab_default_params();
	vp.size = (size_t)r->cfg->search_space;
	int rc = bbt_vocab_build(r->splits.train, r->task->n_labels, &tok, &vp, &r->vocab, err,
	                         errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "%s", r->task->name);
		return rc;
	}
	size_t K = bbt_vocab_size(r->vocab), L = (size_t)r->cfg->prompt_len;
	if (K == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: no word n-gram occurs in %zu or more training examples: no "
		                 "candidates for a discrete prompt", r->task->name, vp.min_count);
	if (K < vp.size)
		bbt_log(BBT_LOG_WARNING, NULL,
		        "%s: only %zu n-grams occur in %zu or more training examples; the discrete "
		        "search space has %zu candidates, not %zu", r->task->name, K, vp.min_count, K,
		        vp.size);
	if (L == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len 0 leaves the optimizer nothing to tune");
	size_t longest = bbt_vocab_max_tokens(r->vocab);
	if (L > (r->info.max_len - 1) / longest)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len %zu discrete positions of up to %zu tokens leave no "
		                 "room in the model's %zu positions", L, longest, r->info.max_len);
	r->prompt_room = L * longest;
	return BBT_OK;
}

/* How the host renders sequences for this run: the prompt's positions
 * (P vectors, or room for L discrete n-grams) are reserved only when a
 * prompt is tuned; in-context demonstrations go first. */
static struct bbt_encode_params encode_params(const struct run *r)
{
	struct bbt_encode_params ep = {
		.max_len = r->info.max_len,
		.prompt_len = r->tuned ? r->prompt_room : 0,
		.causal = r->info.causal,
		.bos_id = r->info.bos_id,
		.eos_id = r->info.eos_id,
		.mask_id = r->info.mask_id,
		.prefix = r->icl.prefix,
		.n_prefix = r->icl.n_prefix,
	};
	return ep;
}

static int label_ids(struct run *r, char *err, size_t errlen)
{
	struct bbt_tokenizer tok = { r->be.entry->desc->backend, r->be.state };
	r->L = r->task->n_labels;
	r->label_ids = calloc(r->L, sizeof *r->label_ids);
	if (r->label_ids == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return bbt_template_label_ids(r->task, &tok, r->label_ids, err, errlen);
}

static int encode_splits(struct run *r, char *err, size_t errlen)
{
	struct bbt_tokenizer tok = { r->be.entry->desc->backend, r->be.state };
	int rc = BBT_OK;
	struct bbt_encode_params ep = encode_params(r);
	const bbt_dataset_t *ds[N_SPLITS] = { r->splits.train, r->splits.dev, r->splits.test };
	for (int s = 0; rc == BBT_OK && s < N_SPLITS; s++) {
		bbt_encoded_free(r->enc[s]);
		r->enc[s] = NULL;
		rc = bbt_template_encode(r->tmpl, &tok, &ep, ds[s], &r->enc[s], err, errlen);
		if (rc == BBT_OK && r->enc[s]->n_truncated > 0)
			bbt_log(BBT_LOG_WARNING, NULL,
			        "%s: %zu of %zu %s examples truncated to fit %zu positions (%zu tokens cut)",
			        r->task->name, r->enc[s]->n_truncated, r->enc[s]->n_seq, split_names[s],
			        r->info.max_len, r->enc[s]->tokens_dropped);
	}
	if (rc == BBT_OK && r->enc[SPLIT_TRAIN]->n_seq == 0)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s: the training split is empty",
		               r->task->name);
	return rc;
}

static int make_subspace(struct run *r, char *err, size_t errlen)
{
	if (r->discrete) {
		r->d = (size_t)r->cfg->prompt_len;   /* L positions, no projection */
		r->D = 0;
		return BBT_OK;
	}
	r->d = (size_t)r->cfg->dim;
	r->D = (size_t)r->cfg->prompt_len * r->info.hidden;
	if (r->D == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len 0 leaves the optimizer nothing to tune");
	struct bbt_subspace_params sp = bbt_subspace_default_params();
	sp.dim = r->d;
	sp.out_dim = r->D;
	sp.projection = bbt_projection_parse(r->cfg->projection);
	sp.embed_std = r->info.embed_std;
	sp.alpha = r->cfg->alpha;
	sp.sigma0 = r->cfg->sigma;
	sp.seed = r->seed_projection;
	r->sub = bbt_subspace_alloc(&sp, err, errlen);
	return r->sub ? BBT_OK : BBT_EINVAL;
}

/* White-box optimizers and --grad-check need the backend's gradient and a
 * differentiable loss; --grad-check also the optimizer's estimate. */
static int check_gradients(struct run *r, char *err, size_t errlen)
{
	const struct bbt_plugin *opt = r->opt.entry->desc, *be = r->be.entry->desc;
	r->white_box = (opt->flags & BBT_OPTIMIZER_WANTS_GRADIENT) != 0;
	r->grad_check = strcmp(r->cfg->grad_check, "yes") == 0;
	if (!r->white_box && !r->grad_check)
		return BBT_OK;
	char who[80];
	snprintf(who, sizeof who, r->white_box ? "optimizer %s" : "--grad-check", opt->name);
	r->gradient = bbt_plugin_backend_gradient(be);
	if (r->gradient == NULL)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s needs true gradients, which backend %s does not give "
		                 "(`bbtbench list` shows the backends that do)",
		                 who, be->name);
	if (r->discrete)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s needs a continuous prompt; optimizer %s searches a discrete "
		                 "one", who, opt->name);
	if (bbt_loss_parse(r->cfg->loss) == BBT_LOSS_PERF)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s needs a differentiable loss: --loss perf is piecewise "
		                 "constant (use ce or hinge)", who);
	if (r->grad_check) {
		r->estimate = bbt_plugin_gradient_estimate(opt);
		if (r->estimate == NULL)
			return bbt_error(err, errlen, BBT_ENOTSUP,
			                 "--grad-check: optimizer %s makes no gradient estimate to "
			                 "check (zo-sgd and zo-adam do)", opt->name);
	}
	return BBT_OK;
}

static int create_optimizer(struct run *r, char *err, size_t errlen)
{
	const struct bbt_plugin *desc = r->opt.entry->desc;
	int rc = check_gradients(r, err, errlen);
	if (rc < 0)
		return rc;
	struct bbt_optimizer_params op = {
		.space = { .kind = BBT_SPACE_BOX, .dim = r->d, .bound = 0, .choices = 0 },
		.popsize = (size_t)r->cfg->popsize,
		.sigma = r->cfg->sigma,
		.x0 = NULL,
		.budget = (size_t)r->cfg->budget,
		.seed = (uint64_t)r->cfg->seed,
	};
	if (r->discrete)
		op.space = (struct bbt_space){ .kind = BBT_SPACE_CATEGORICAL, .dim = r->d,
		                               .choices = bbt_vocab_size(r->vocab) };
	memset(&r->oinfo, 0, sizeof r->oinfo);
	rc = desc->optimizer->create(bbt_hostsvc_host(r->opt.svc), &op, &r->opt.state,
	                                 &r->oinfo, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "optimizer %s", desc->name);
		return rc;
	}
	if (r->oinfo.batch == 0)
		return bbt_error(err, errlen, BBT_EINTERNAL, "optimizer %s asks batches of 0",
		                 desc->name);
	size_t b = r->oinfo.batch;
	size_t nt = r->enc[SPLIT_TRAIN]->n_seq;
	size_t rows = nt > EVAL_CHUNK ? nt : EVAL_CHUNK;
	r->z = calloc(b * r->d, sizeof *r->z);
	r->prompts = calloc(r->D ? b * r->D : 1, sizeof *r->prompts);
	r->logits = calloc(b * rows * r->L, sizeof *r->logits);
	r->loss = calloc(b, sizeof *r->loss);
	r->best_z = calloc(r->d, sizeof *r->best_z);
	r->best_dev_z = calloc(r->d, sizeof *r->best_dev_z);
	r->rows = calloc(b, sizeof *r->rows);
	int oom = !r->z || !r->prompts || !r->logits || !r->loss || !r->best_z || !r->best_dev_z ||
	          !r->rows;
	if (!oom && (r->white_box || r->grad_check)) {
		r->grad_p = calloc(b * r->D, sizeof *r->grad_p);
		r->grad_z = calloc(b * r->d, sizeof *r->grad_z);
		r->est_at = calloc(r->d, sizeof *r->est_at);
		r->est = calloc(r->d, sizeof *r->est);
		oom = !r->grad_p || !r->grad_z || !r->est_at || !r->est;
	}
	if (oom)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for a batch of %zu", b);
	return BBT_OK;
}

/* A stable id from every setting that changes the outcome (not where the
 * results go): re-running the same settings finds the same folder. */
static int make_run_id(struct run *r, char *err, size_t errlen)
{
	json_t *j = bbt_config_to_json(r->cfg);
	if (j == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	json_object_del(j, "out");
	json_object_del(j, "experiment");
	json_object_del(j, "data-dir");
	if (!r->discrete)
		json_object_del(j, "search-space");   /* no effect on a continuous run */
	json_object_set_new(j, "data-seed", json_integer(bbt_config_data_seed(r->cfg)));
	/* Settings that cannot change this run: a grid over optimizers or
	 * dimensions then runs each baseline once. */
	const char *key;
	json_t *value;
	void *tmp;
	json_object_foreach_safe(j, tmp, key, value) {
		if (!bbt_run_setting_matters(r->cfg->method, key))
			json_object_del(j, key);
	}
	const struct plugin_use *uses[] = { &r->opt, &r->be };
	for (size_t u = 0; u < 2; u++) {
		if (uses[u]->entry == NULL)
			continue;
		json_t *o = json_object();
		for (size_t i = 0; i < bbt_options_count(uses[u]->opts); i++)
			json_object_set_new(o, bbt_options_key(uses[u]->opts, i),
			                    json_string(bbt_options_text(uses[u]->opts, i)));
		json_object_set_new(j, u == 0 ? "optimizer-options" : "backend-options", o);
	}
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	unsigned long long h = bbt_hash64(text, strlen(text), BBT_HASH64_INIT);
	free(text);

	const char *exp = r->cfg->experiment[0] ? r->cfg->experiment : r->task->name;
	/* d: the subspace dimension; L: the positions of a discrete prompt */
	if (r->tuned)
		r->run_id = bbt_asprintf("%s-%s-%s-%s%ld-s%ld-%012llx", r->opt.entry->desc->name,
		                         r->be.entry->desc->name, r->task->name,
		                         r->discrete ? "L" : "d",
		                         r->discrete ? r->cfg->prompt_len : r->cfg->dim, r->cfg->seed,
		                         h & 0xffffffffffffULL);
	else
		r->run_id = bbt_asprintf("%s-%s-%s-s%ld-%012llx", r->cfg->method,
		                         r->be.entry->desc->name, r->task->name, r->cfg->seed,
		                         h & 0xffffffffffffULL);
	char *expdir = r->run_id ? bbt_path_join(r->cfg->out, exp) : NULL;
	r->run_dir = expdir ? bbt_path_join(expdir, r->run_id) : NULL;
	free(expdir);
	return r->run_dir ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------ */
/* Scoring */

static int score_discrete(struct run *r, const bbt_encoded_t *enc, size_t first, size_t n,
                          const double *z, size_t nv, float *logits, char *err, size_t errlen);

/* Logits of sequences [first, first+n) of `enc` under `nv` candidates z,
 * or with no prompt at all when z is NULL. */
/* The batch of sequences [first, first+n) of `enc` under nv continuous
 * prompts, projected from z into r->prompts (no prompt when z is NULL);
 * counts the positions the backend will score. */
static void prompt_batch(struct run *r, const bbt_encoded_t *enc, size_t first, size_t n,
                         const double *z, size_t nv, struct bbt_batch *b)
{
	bbt_encoded_batch(enc, first, n, b);
	b->n_labels = r->L;
	b->label_ids = r->label_ids;
	b->prompt_len = z ? (size_t)r->cfg->prompt_len : 0;
	b->prompt_layers = 1;
	if (z != NULL)
		bbt_subspace_project(r->sub, z, nv, r->prompts);
	r->tokens += nv * (enc->offset[first + n] - enc->offset[first] + n * b->prompt_len);
}

/* A model that computes NaN or infinity (NaN weights, a broken norm) gives
 * NaN losses that no optimizer can rank and a test accuracy of chance: the
 * run fails at the first such logit instead of "finishing". */
static int check_logits(const struct run *r, const float *logits, size_t n, char *err,
                        size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(logits[i]))
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "backend %s: the model computes a non-finite logit (%g) after "
			                 "%zu API calls: check its weights and norm epsilon",
			                 r->be.entry->desc->name, (double)logits[i], r->calls);
	return BBT_OK;
}

static int score(struct run *r, const bbt_encoded_t *enc, size_t first, size_t n,
                 const double *z, size_t nv, float *logits, char *err, size_t errlen)
{
	int rc;
	if (r->discrete && z != NULL) {
		rc = score_discrete(r, enc, first, n, z, nv, logits, err, errlen);
	} else {
		struct bbt_batch b;
		prompt_batch(r, enc, first, n, z, nv, &b);
		rc = r->be.entry->desc->backend->score(r->be.state, &b, z ? r->prompts : NULL,
		                                       z ? nv : 1, logits, err, errlen);
		if (rc < 0)
			bbt_error_prefix(err, errlen, "backend %s", r->be.entry->desc->name);
	}
	return rc < 0 ? rc : check_logits(r, logits, (z ? nv : 1) * n * r->L, err, errlen);
}

/* The host's loss for the backend's gradient: dL/dlogits of each variant
 * over the training batch. */
static int train_loss_grad(void *ctx, const float *logits, size_t nv, size_t n_seq,
                           size_t n_labels, float *dlogits)
{
	const struct run *r = ctx;
	const int *labels = r->enc[SPLIT_TRAIN]->labels;
	if (n_seq != r->enc[SPLIT_TRAIN]->n_seq || n_labels != r->L)
		return BBT_EINVAL;
	for (size_t v = 0; v < nv; v++) {
		size_t at = v * n_seq * n_labels;
		int rc = bbt_loss_grad(bbt_loss_parse(r->cfg->loss), logits + at, n_seq, n_labels,
		                       labels, dlogits + at);
		if (rc < 0)
			return rc;
	}
	return BBT_OK;
}

/* Logits of the training batch under nv candidates z, and the gradient of
 * the training loss with respect to each: grad_z[v] = A^T dL/dp[v]. */
static int score_grad(struct run *r, const double *z, size_t nv, char *err, size_t errlen)
{
	const bbt_encoded_t *train = r->enc[SPLIT_TRAIN];
	struct bbt_batch b;
	prompt_batch(r, train, 0, train->n_seq, z, nv, &b);
	int rc = r->gradient(r->be.state, &b, r->prompts, nv, train_loss_grad, r, r->logits,
	                     r->grad_p, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "backend %s: gradient", r->be.entry->desc->name);
		return rc;
	}
	bbt_subspace_pullback(r->sub, r->grad_p, nv, r->grad_z);
	return check_logits(r, r->logits, nv * train->n_seq * r->L, err, errlen);
}

/* --grad-check: the optimizer's last estimate against the true gradient at
 * the point it was estimated at (an extra backend call, not in the budget).
 * Sets the cosine and the norm ratio |estimate| / |true|; NaN when the
 * optimizer has no estimate yet (e.g. a skipped step). */
static int grad_check(struct run *r, double *cosine, double *ratio, char *err, size_t errlen)
{
	*cosine = *ratio = NAN;
	if (r->estimate(r->opt.state, r->est_at, r->est) != BBT_OK)
		return BBT_OK;
	int rc = score_grad(r, r->est_at, 1, err, errlen);
	if (rc < 0)
		return rc;
	r->grad_check_calls++;
	double dot = 0, ne = 0, nt = 0;
	for (size_t i = 0; i < r->d; i++) {
		dot += r->est[i] * r->grad_z[i];
		ne += r->est[i] * r->est[i];
		nt += r->grad_z[i] * r->grad_z[i];
	}
	if (ne > 0 && nt > 0) {
		*cosine = dot / sqrt(ne * nt);
		r->grad_cos_sum += *cosine;
		r->grad_cos_n++;
	}
	if (nt > 0)
		*ratio = sqrt(ne / nt);
	return BBT_OK;
}

/* Discrete prompts: every sequence once per candidate, with the candidate's
 * L n-grams' tokens spliced in at its prompt slot, scored in one backend
 * call with no continuous prompt; logits come back [nv][n][labels]. */
static int score_discrete(struct run *r, const bbt_encoded_t *enc, size_t first, size_t n,
                          const double *z, size_t nv, float *logits, char *err, size_t errlen)
{
	size_t L = r->d, ns = nv * n, total = 0, K = bbt_vocab_size(r->vocab);
	for (size_t q = 0; q < nv * L; q++)
		if (!(z[q] >= 0 && z[q] < (double)K) || z[q] != floor(z[q]))
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "optimizer %s proposed %g at prompt position %zu, not a "
			                 "candidate in 0..%zu", r->opt.entry->desc->name, z[q], q % L,
			                 K - 1);
	for (size_t v = 0; v < nv; v++) {
		size_t plen = 0;
		for (size_t l = 0; l < L; l++) {
			size_t k;
			bbt_vocab_ids(r->vocab, (size_t)z[v * L + l], &k);
			plen += k;
		}
		total += (enc->offset[first + n] - enc->offset[first]) + n * plen;
	}
	if (total > r->spliced.cap_ids) {
		int32_t *ids = realloc(r->spliced.ids, total * sizeof *ids);
		if (ids == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		r->spliced.ids = ids;
		r->spliced.cap_ids = total;
	}
	if (ns > r->spliced.cap_seq) {
		size_t *o = realloc(r->spliced.offset, (ns + 1) * sizeof *o);
		if (o != NULL)
			r->spliced.offset = o;
		size_t *pp = o ? realloc(r->spliced.predict_pos, ns * sizeof *pp) : NULL;
		if (pp != NULL)
			r->spliced.predict_pos = pp;
		size_t *pr = pp ? realloc(r->spliced.prompt_pos, ns * sizeof *pr) : NULL;
		if (pr == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		r->spliced.prompt_pos = pr;
		r->spliced.cap_seq = ns;
	}
	size_t at = 0, q = 0;
	for (size_t v = 0; v < nv; v++) {
		for (size_t i = first; i < first + n; i++, q++) {
			const int32_t *seq = enc->ids + enc->offset[i];
			size_t len = enc->offset[i + 1] - enc->offset[i], pos = enc->prompt_pos[i];
			r->spliced.offset[q] = at;
			memcpy(r->spliced.ids + at, seq, pos * sizeof *seq);
			at += pos;
			for (size_t l = 0; l < L; l++) {
				size_t k;
				const int32_t *ids = bbt_vocab_ids(r->vocab, (size_t)z[v * L + l], &k);
				memcpy(r->spliced.ids + at, ids, k * sizeof *ids);
				at += k;
			}
			size_t plen = at - r->spliced.offset[q] - pos;
			memcpy(r->spliced.ids + at, seq + pos, (len - pos) * sizeof *seq);
			at += len - pos;
			r->spliced.prompt_pos[q] = pos;
			r->spliced.predict_pos[q] = enc->predict_pos[i] + (enc->predict_pos[i] >= pos ? plen : 0);
		}
	}
	r->spliced.offset[ns] = at;
	r->tokens += at;
	struct bbt_batch b = {
		.n_seq = ns,
		.ids = r->spliced.ids,
		.offset = r->spliced.offset,
		.predict_pos = r->spliced.predict_pos,
		.prompt_pos = r->spliced.prompt_pos,
		.n_labels = r->L,
		.label_ids = r->label_ids,
		.prompt_len = 0,
		.prompt_layers = 1,
	};
	int rc = r->be.entry->desc->backend->score(r->be.state, &b, NULL, 1, logits, err, errlen);
	if (rc < 0)
		bbt_error_prefix(err, errlen, "backend %s", r->be.entry->desc->name);
	return rc;
}

/* Logits [n_seq][L] of a whole encoded split under one z (or none), in
 * chunks that bound the backend's memory. A split of several chunks (a
 * full test set: SNLI's 9,842 rows take minutes) shows its progress, so
 * the run does not look hung. */
static int score_split(struct run *r, const bbt_encoded_t *enc, const double *z, float *out,
                       char *err, size_t errlen)
{
	const char *name = "content-free";   /* calibration's inputs, the one other set */
	for (int s = 0; s < N_SPLITS; s++)
		if (enc == r->enc[s])
			name = split_names[s];
	int rc = BBT_OK;
	for (size_t first = 0; rc == BBT_OK && first < enc->n_seq; first += EVAL_CHUNK) {
		size_t n = enc->n_seq - first < EVAL_CHUNK ? enc->n_seq - first : EVAL_CHUNK;
		rc = score(r, enc, first, n, z, 1, out + first * r->L, err, errlen);
		if (rc == BBT_OK && enc->n_seq > EVAL_CHUNK && first + n < enc->n_seq)
			bbt_progress(0, "%s: scoring %s: %zu/%zu examples | %.1fs", r->run_id, name,
			             first + n, enc->n_seq, bbt_now() - r->t0);
	}
	return rc;
}

/* The task metric of one z (or none) over a whole split. */
static int evaluate(struct run *r, int split, const double *z, double *metric, double *acc,
                    double *f1, char *err, size_t errlen)
{
	const bbt_encoded_t *enc = r->enc[split];
	float *all = malloc((enc->n_seq ? enc->n_seq : 1) * r->L * sizeof *all);
	if (all == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = score_split(r, enc, z, all, err, errlen);
	if (split == SPLIT_DEV)
		r->dev_calls++;
	else
		r->test_calls++;
	if (rc == BBT_OK) {
		*metric = bbt_metric_eval(r->task->metric, r->task->positive, all, enc->n_seq, r->L,
		                          enc->labels);
		if (acc)
			*acc = bbt_metric_accuracy(all, enc->n_seq, r->L, enc->labels);
		if (f1)
			*f1 = bbt_metric_f1(all, enc->n_seq, r->L, enc->labels, r->task->positive);
	}
	free(all);
	return rc;
}

/* Best-so-far on dev; keep it when it beats every earlier dev score. */
static int dev_check(struct run *r, char *err, size_t errlen)
{
	if (r->best_changed || isnan(r->last_dev)) {
		int rc = evaluate(r, SPLIT_DEV, r->best_z, &r->last_dev, NULL, NULL, err, errlen);
		if (rc < 0)
			return rc;
		r->best_changed = 0;
	}
	if (isnan(r->best_dev) || r->last_dev > r->best_dev) {
		r->best_dev = r->last_dev;
		memcpy(r->best_dev_z, r->best_z, r->d * sizeof *r->best_z);
		r->best_dev_call = r->calls;
	}
	return BBT_OK;
}

static void progress(const struct run *r, int final)
{
	double el = bbt_now() - r->t0;
	if (r->tuned && r->flags->on_progress != NULL)
		r->flags->on_progress(r->flags->progress_ctx, r->calls, (size_t)r->cfg->budget, el);
	double eta = r->calls ? el * (double)((size_t)r->cfg->budget - r->calls) / (double)r->calls
	                      : 0;
	char dev[32] = "-";
	if (!isnan(r->best_dev))
		snprintf(dev, sizeof dev, "%.2f%%", 100 * r->best_dev);
	if (!r->tuned) {   /* a baseline has no budget to count down */
		bbt_progress(final, "%s: baseline %s, %zu API calls | train loss %.4f | dev %s %s | %.1fs",
		             r->run_id, r->cfg->method, r->calls, r->best_loss,
		             bbt_metric_name(r->task->metric), dev, el);
		return;
	}
	bbt_progress(final, "%s: calls %zu/%ld | best loss %.4f | dev %s %s | %.1fs, ETA %.0fs",
	             r->run_id, r->calls, r->cfg->budget, r->best_loss,
	             bbt_metric_name(r->task->metric), dev, el, final ? 0.0 : eta);
}

static int loop(struct run *r, char *err, size_t errlen)
{
	const struct bbt_optimizer_ops *ops = r->opt.entry->desc->optimizer;
	const bbt_encoded_t *train = r->enc[SPLIT_TRAIN];
	size_t nt = train->n_seq, budget = (size_t)r->cfg->budget;
	size_t every = (size_t)r->cfg->eval_every;
	int rc = BBT_OK;

	while (r->calls < budget && !interrupted) {
		size_t n = 0;
		rc = ops->ask(r->opt.state, r->z, &n, err, errlen);
		if (rc < 0 || n == 0 || n > r->oinfo.batch) {
			if (rc >= 0)
				rc = bbt_error(err, errlen, BBT_EINTERNAL,
				               "optimizer %s asked %zu candidates (batch %zu)",
				               r->opt.entry->desc->name, n, r->oinfo.batch);
			break;
		}
		size_t m = n < budget - r->calls ? n : budget - r->calls;
		rc = r->white_box ? score_grad(r, r->z, m, err, errlen)
		                  : score(r, train, 0, nt, r->z, m, r->logits, err, errlen);
		if (rc < 0)
			break;
		r->batches++;
		size_t written = 0;
		for (size_t v = 0; v < m; v++) {
			r->loss[v] = bbt_loss_eval(bbt_loss_parse(r->cfg->loss), r->task->metric,
			                           r->task->positive, r->logits + v * nt * r->L, nt, r->L,
			                           train->labels);
			r->calls++;
			if (isnan(r->best_loss) || r->loss[v] < r->best_loss) {
				r->best_loss = r->loss[v];
				memcpy(r->best_z, r->z + v * r->d, r->d * sizeof *r->z);
				r->best_changed = 1;
			}
			int eval_now = r->calls % every == 0 || r->calls == budget;
			double devm = NAN;
			if (eval_now) {
				if ((rc = dev_check(r, err, errlen)) < 0)
					break;
				devm = r->last_dev;
			}
			r->rows[written++] = (struct bbt_trace_row){ r->calls, r->batches, r->loss[v],
				                                     r->best_loss, devm,
				                                     bbt_now() - r->t0, NAN, NAN };
		}
		/* The optimizer steps (unless the budget ended inside this batch),
		 * then the batch's rows go to the trace, the step's gradient check
		 * on its last row. */
		int stop = rc < 0 || m < n;
		if (!stop) {
			rc = ops->tell(r->opt.state, r->z, n, r->loss, r->white_box ? r->grad_z : NULL,
			               err, errlen);
			if (rc == BBT_STOP) {
				const char *why = ops->stop_reason ? ops->stop_reason(r->opt.state) : NULL;
				r->stop_reason = why ? why : "stop";
				rc = BBT_OK;
				stop = 1;
			} else if (rc < 0) {
				bbt_error_prefix(err, errlen, "optimizer %s", r->opt.entry->desc->name);
			}
		}
		if (rc == BBT_OK && r->grad_check && m == n)
			rc = grad_check(r, &r->rows[m - 1].grad_cos, &r->rows[m - 1].grad_ratio, err,
			                errlen);
		for (size_t v = 0; v < written; v++) {
			if (bbt_rundir_trace(r->rd, &r->rows[v]) < 0) {
				rc = bbt_error(err, errlen, BBT_EIO, "%s: cannot write trace",
				               bbt_rundir_path(r->rd));
				break;
			}
		}
		int frc = bbt_rundir_flush(r->rd, err, errlen);
		if (rc == BBT_OK)
			rc = frc;
		if (rc < 0 || stop)
			break;
		progress(r, 0);
	}
	if (rc == BBT_OK && r->stop_reason == NULL)
		r->stop_reason = interrupted ? "interrupted" : "maxfevals";
	/* The last batch may have ended between evaluations. */
	if (rc == BBT_OK && r->calls > 0 && r->calls % every != 0 && r->calls != budget &&
	    !interrupted)
		rc = dev_check(r, err, errlen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Baselines and calibration */

struct fixed_prompt {
	struct run *r;
	const double *z;   /* NULL: no prompt */
};

static int score_fixed(void *ctx, const bbt_encoded_t *enc, float *logits, char *err,
                       size_t errlen)
{
	struct fixed_prompt *fp = ctx;
	return score_split(fp->r, enc, fp->z, logits, err, errlen);
}

/* Calibrate the scores of prompt z (or of no prompt): content-free inputs
 * rendered exactly like the examples, offsets chosen on dev. */
static int calibrate_scores(struct run *r, const double *z, char *err, size_t errlen)
{
	const struct bbt_backend_ops *ops = r->be.entry->desc->backend;
	const char *mask_text = r->info.mask_id >= 0 && ops->token_text
	                                ? ops->token_text(r->be.state, r->info.mask_id)
	                                : NULL;
	bbt_dataset_t *cf = bbt_content_free_dataset(r->task->n_fields, mask_text);
	if (cf == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	struct bbt_tokenizer tok = { ops, r->be.state };
	struct bbt_encode_params ep = encode_params(r);
	int rc = bbt_template_encode(r->tmpl, &tok, &ep, cf, &r->content_free, err, errlen);
	bbt_dataset_free(cf);
	struct fixed_prompt fp = { r, z };
	struct bbt_scorer sc = { score_fixed, &fp };
	if (rc == BBT_OK)
		rc = bbt_calibration_run(&sc, r->enc[SPLIT_TRAIN], r->enc[SPLIT_DEV],
		                         r->enc[SPLIT_TEST], r->content_free, r->L, r->task->metric,
		                         r->task->positive, &r->cal, err, errlen);
	r->calibrated = rc == BBT_OK;
	return rc;
}

/* In-context learning: demonstrations from the train shots before every
 * query, as many as leave room for the longest query. */
static int build_icl(struct run *r, char *err, size_t errlen)
{
	size_t longest = 0;
	for (int s = 0; s < N_SPLITS; s++)
		if (r->enc[s]->max_seq_len > longest)
			longest = r->enc[s]->max_seq_len;
	size_t room = r->info.max_len > longest ? r->info.max_len - longest : 0;
	struct bbt_tokenizer tok = { r->be.entry->desc->backend, r->be.state };
	int rc = bbt_icl_build(r->tmpl, &tok, r->splits.train, r->L, r->label_ids,
	                       (size_t)r->cfg->icl_shots,
	                       bbt_rng_derive_seed((uint64_t)r->cfg->seed, "icl"),
	                       r->info.causal ? -1 : r->info.eos_id, room, &r->icl, err, errlen);
	if (rc == BBT_OK && r->icl.dropped > 0)
		bbt_log(BBT_LOG_WARNING, NULL,
		        "%s: %zu of %zu demonstrations dropped so that the longest query (%zu "
		        "tokens) fits the model's %zu positions",
		        r->task->name, r->icl.dropped, r->icl.used + r->icl.dropped, longest,
		        r->info.max_len);
	return rc == BBT_OK ? encode_splits(r, err, errlen) : rc;
}

/* A baseline: no optimizer and no prompt. Its API calls are the forward
 * passes over training data it needs to fit anything: calibration scores
 * the content-free inputs and the train shots (2); the manual prompt and
 * in-context learning fit nothing (0). */
static int run_baseline(struct run *r, double *test_metric, double *test_acc, double *test_f1,
                        char *err, size_t errlen)
{
	const bbt_encoded_t *train = r->enc[SPLIT_TRAIN];
	float *lt = malloc((train->n_seq ? train->n_seq : 1) * r->L * sizeof *lt);
	if (lt == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = score_split(r, train, NULL, lt, err, errlen);
	if (rc == BBT_OK)
		r->best_loss = bbt_loss_eval(bbt_loss_parse(r->cfg->loss), r->task->metric,
		                             r->task->positive, lt, train->n_seq, r->L, train->labels);
	free(lt);
	r->stop_reason = "baseline";
	if (rc == BBT_OK && strcmp(r->cfg->method, "calibrated") == 0) {
		rc = calibrate_scores(r, NULL, err, errlen);
		if (rc == BBT_OK) {
			enum bbt_calibration_variant v = r->cal.chosen;
			r->best_dev = r->cal.dev_metric[v];
			*test_metric = r->cal.test_metric[v];
			*test_acc = r->cal.test_acc[v];
			*test_f1 = r->cal.test_f1[v];
			r->calls = 2;
		}
		return rc;
	}
	if (rc == BBT_OK)
		rc = evaluate(r, SPLIT_DEV, NULL, &r->best_dev, NULL, NULL, err, errlen);
	if (rc == BBT_OK)
		rc = evaluate(r, SPLIT_TEST, NULL, test_metric, test_acc, test_f1, err, errlen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output */

static json_t *plugin_json(const struct plugin_use *u)
{
	const struct bbt_plugin *d = u->entry->desc;
	json_t *o = json_object(), *opts = json_object();
	char abi[32];
	snprintf(abi, sizeof abi, "%u.%u", (unsigned)d->abi_major, (unsigned)d->abi_minor);
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "version", json_string(d->version ? d->version : ""));
	json_object_set_new(o, "abi", json_string(abi));
	json_object_set_new(o, "path", json_string(u->entry->path));
	for (size_t i = 0; i < bbt_options_count(u->opts); i++)
		json_object_set_new(opts, bbt_options_key(u->opts, i),
		                    json_string(bbt_options_text(u->opts, i)));
	json_object_set_new(o, "options", opts);
	return o;
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The BLAS that ran: OpenBLAS chooses its kernels for the CPU at run time
 * (OPENBLAS_CORETYPE overrides it), and other kernels or thread counts
 * change the last bits of every GEMM, so "the same build" is not enough to
 * promise bit-identical results; this is the rest of it. */
static json_t *blas_json(void)
{
	struct bbt_blas blas;
	bbt_blas_query(&blas);
	json_t *b = json_object();
	json_object_set_new(b, "library", json_string(blas.library));
	json_object_set_new(b, "config", blas.config ? json_string(blas.config) : json_null());
	json_object_set_new(b, "core", blas.core ? json_string(blas.core) : json_null());
	json_object_set_new(b, "threads", blas.threads > 0 ? json_integer(blas.threads) : json_null());
	/* Set when the core is a fallback far older than the CPU: the run's
	 * timings are then several times what this CPU can do. */
	json_object_set_new(b, "suggested_coretype",
	                    blas.suggested_core ? json_string(blas.suggested_core) : json_null());
	json_object_set_new(b, "cpus_online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	return b;
}

/* Discrete runs: the candidate vocabulary, one line per candidate, so a
 * prompt's indices in the trace and result.json can be read back. */
static int write_vocab(struct run *r, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	fprintf(f, "index\tpmi\tlabel\texamples\tngram\ttoken_ids\n");
	for (size_t i = 0; i < bbt_vocab_size(r->vocab); i++) {
		size_t n;
		const int32_t *ids = bbt_vocab_ids(r->vocab, i, &n);
		int y = bbt_vocab_label(r->vocab, i);
		fprintf(f, "%zu\t%.6f\t%s\t%zu\t%s\t", i, bbt_vocab_score(r->vocab, i),
		        r->task->label_words[y], bbt_vocab_count(r->vocab, i),
		        bbt_vocab_text(r->vocab, i));
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%s%ld", k ? "," : "", (long)ids[k]);
		fputc('\n', f);
	}
	fclose(f);
	int rc = bbt_rundir_write(r->rd, "vocab.tsv", buf, err, errlen);
	free(buf);
	return rc;
}

/* What was tuned: result.json's "prompt". Discrete runs record the
 * best-on-dev prompt (the one scored on test) as n-grams, token ids and
 * the tokens' text in the backend's vocabulary. */
static json_t *prompt_json(struct run *r)
{
	json_t *p = json_object();
	json_object_set_new(p, "kind", json_string(r->discrete ? "discrete" : "continuous"));
	json_object_set_new(p, "length", json_integer(r->cfg->prompt_len));
	if (!r->discrete)
		return p;
	const struct bbt_backend_ops *be = r->be.entry->desc->backend;
	json_t *idx = json_array(), *grams = json_array(), *ids = json_array(),
	       *toks = json_array();
	char *text = bbt_strdup("");
	for (size_t l = 0; l < r->d; l++) {
		size_t c = (size_t)r->best_dev_z[l], n;
		const int32_t *t = bbt_vocab_ids(r->vocab, c, &n);
		json_array_append_new(idx, json_integer((json_int_t)c));
		json_array_append_new(grams, json_string(bbt_vocab_text(r->vocab, c)));
		for (size_t k = 0; k < n; k++) {
			const char *tt = be->token_text ? be->token_text(r->be.state, t[k]) : NULL;
			json_array_append_new(ids, json_integer(t[k]));
			json_array_append_new(toks, tt ? json_string(tt) : json_null());
			char *grown = text ? bbt_asprintf("%s%s%s", text, text[0] ? " " : "",
			                                  tt ? tt : "?") : NULL;
			free(text);
			text = grown;
		}
	}
	json_object_set_new(p, "search_space", json_integer((json_int_t)bbt_vocab_size(r->vocab)));
	json_object_set_new(p, "indices", idx);
	json_object_set_new(p, "ngrams", grams);
	json_object_set_new(p, "token_ids", ids);
	json_object_set_new(p, "tokens", toks);
	json_object_set_new(p, "text", text ? json_string(text) : json_null());
	free(text);
	return p;
}

static json_t *result_json(struct run *r, const char *status, double test_metric,
                           double test_acc, double test_f1, double wall)
{
	json_t *j = json_object();
	char abi[16];
	snprintf(abi, sizeof abi, "%d.%d", BBT_ABI_MAJOR, BBT_ABI_MINOR);
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "run_id", json_string(r->run_id));
	json_object_set_new(j, "bbtbench_version", json_string(PACKAGE_VERSION));
	json_object_set_new(j, "abi", json_string(abi));
	json_object_set_new(j, "settings", bbt_config_to_json(r->cfg));

	json_t *seeds = json_object();
	json_object_set_new(seeds, "run", json_integer(r->cfg->seed));
	json_object_set_new(seeds, "data", json_integer(bbt_config_data_seed(r->cfg)));
	json_object_set_new(seeds, "optimizer", json_integer(r->seed_optimizer));
	json_object_set_new(seeds, "backend", json_integer(r->seed_backend));
	json_object_set_new(seeds, "projection", json_integer(r->seed_projection));
	json_object_set_new(j, "seeds", seeds);

	json_object_set_new(j, "method", json_string(r->cfg->method));
	json_object_set_new(j, "optimizer", r->tuned ? plugin_json(&r->opt) : json_null());
	json_t *be = plugin_json(&r->be);
	json_t *mi = json_object();
	json_object_set_new(mi, "arch", json_string(r->info.arch));
	json_object_set_new(mi, "hidden", json_integer((json_int_t)r->info.hidden));
	json_object_set_new(mi, "layers", json_integer((json_int_t)r->info.layers));
	json_object_set_new(mi, "vocab_size", json_integer((json_int_t)r->info.vocab_size));
	json_object_set_new(mi, "max_len", json_integer((json_int_t)r->info.max_len));
	json_object_set_new(mi, "embed_std", json_real(r->info.embed_std));
	json_object_set_new(be, "model", mi);
	json_object_set_new(j, "backend", be);

	json_t *task = json_object(), *words = json_array(), *ids = json_array();
	json_object_set_new(task, "name", json_string(r->task->name));
	json_object_set_new(task, "file", json_string(r->task->path));
	json_object_set_new(task, "template", json_string(r->task->template_text));
	json_object_set_new(task, "metric", json_string(bbt_metric_name(r->task->metric)));
	/* what test_f1 is: this label's F1, or (null) the macro-F1 */
	json_object_set_new(task, "positive",
	                    r->task->positive == BBT_NO_POSITIVE
	                            ? json_null()
	                            : json_string(r->task->label_words[r->task->positive]));
	for (size_t l = 0; l < r->L; l++) {
		json_array_append_new(words, json_string(r->task->label_words[l]));
		json_array_append_new(ids, json_integer(r->label_ids[l]));
	}
	json_object_set_new(task, "label_words", words);
	json_object_set_new(task, "label_ids", ids);
	json_object_set_new(j, "task", task);

	json_t *data = json_object(), *trunc = json_object(), *unlabelled = json_object();
	const bbt_dataset_t *split_ds[N_SPLITS] = { r->splits.train, r->splits.dev, r->splits.test };
	json_object_set_new(data, "train_from", json_string(r->splits.train_from));
	json_object_set_new(data, "test_from", json_string(r->splits.test_from));
	json_object_set_new(data, "host_sampled", json_boolean(r->splits.sampled));
	for (int s = 0; s < N_SPLITS; s++) {
		char key[16];
		snprintf(key, sizeof key, "n_%s", split_names[s]);
		json_object_set_new(data, key, json_integer((json_int_t)r->enc[s]->n_seq));
		json_object_set_new(trunc, split_names[s],
		                    json_integer((json_int_t)r->enc[s]->n_truncated));
		json_object_set_new(unlabelled, split_names[s],
		                    json_integer((json_int_t)split_ds[s]->skipped));
	}
	json_object_set_new(data, "truncated", trunc);
	json_object_set_new(data, "unlabelled_skipped", unlabelled);
	json_object_set_new(j, "data", data);

	json_t *proj = r->tuned && !r->discrete ? json_object() : NULL;
	struct bbt_subspace_params sp = bbt_subspace_default_params();
	sp.dim = r->d;
	sp.embed_std = r->info.embed_std;
	sp.alpha = r->cfg->alpha;
	sp.sigma0 = r->cfg->sigma;
	if (proj != NULL) {
		json_object_set_new(proj, "kind", json_string(r->cfg->projection));
		json_object_set_new(proj, "dim", json_integer((json_int_t)r->d));
		json_object_set_new(proj, "out_dim", json_integer((json_int_t)r->D));
		json_object_set_new(proj, "std", json_real(bbt_subspace_scale(&sp)));
	}
	json_object_set_new(j, "projection", proj ? proj : json_null());
	json_object_set_new(j, "prompt", r->tuned ? prompt_json(r) : json_null());

	json_t *m = json_object();
	json_object_set_new(m, "metric", json_string(bbt_metric_name(r->task->metric)));
	json_object_set_new(m, "train_loss", num_or_null(r->best_loss));
	json_object_set_new(m, "dev_metric", num_or_null(r->best_dev));
	json_object_set_new(m, "best_dev_call", json_integer((json_int_t)r->best_dev_call));
	json_object_set_new(m, "test_metric", num_or_null(test_metric));
	json_object_set_new(m, "test_acc", num_or_null(test_acc));
	json_object_set_new(m, "test_f1", num_or_null(test_f1));
	if (r->calibrated && r->tuned) {
		/* the tuned prompt's scores calibrated, beside the raw ones */
		enum bbt_calibration_variant v = r->cal.chosen;
		json_object_set_new(m, "dev_metric_calibrated", num_or_null(r->cal.dev_metric[v]));
		json_object_set_new(m, "test_metric_calibrated", num_or_null(r->cal.test_metric[v]));
		json_object_set_new(m, "test_acc_calibrated", num_or_null(r->cal.test_acc[v]));
		json_object_set_new(m, "test_f1_calibrated", num_or_null(r->cal.test_f1[v]));
	}
	json_object_set_new(j, "metrics", m);
	json_object_set_new(j, "calibration", r->calibrated ? bbt_calibration_json(&r->cal)
	                                                    : json_null());
	if (strcmp(r->cfg->method, "icl") == 0) {
		json_t *icl = json_object(), *idx = json_array();
		json_object_set_new(icl, "per_class", json_integer(r->cfg->icl_shots));
		json_object_set_new(icl, "used", json_integer((json_int_t)r->icl.used));
		json_object_set_new(icl, "dropped_to_fit", json_integer((json_int_t)r->icl.dropped));
		json_object_set_new(icl, "prefix_tokens", json_integer((json_int_t)r->icl.n_prefix));
		for (size_t i = 0; i < r->icl.used; i++)
			json_array_append_new(idx, json_integer((json_int_t)r->icl.chosen[i]));
		json_object_set_new(icl, "train_examples", idx);
		json_object_set_new(j, "icl", icl);
	}

	json_object_set_new(j, "api_calls", json_integer((json_int_t)r->calls));
	json_object_set_new(j, "batches", json_integer((json_int_t)r->batches));
	json_object_set_new(j, "dev_evaluations", json_integer((json_int_t)r->dev_calls));
	json_object_set_new(j, "test_evaluations", json_integer((json_int_t)r->test_calls));
	json_object_set_new(j, "tokens_scored", json_integer((json_int_t)r->tokens));
	/* White-box: every API call was a gradient evaluation (a backward pass
	 * through the model), which a black-box service would not answer. */
	json_object_set_new(j, "white_box", json_boolean(r->white_box));
	if (r->grad_check) {
		json_t *gc = json_object();
		json_object_set_new(gc, "true_gradient_calls",
		                    json_integer((json_int_t)r->grad_check_calls));
		json_object_set_new(gc, "mean_cosine",
		                    num_or_null(r->grad_cos_n ? r->grad_cos_sum / (double)r->grad_cos_n
		                                              : NAN));
		json_object_set_new(j, "grad_check", gc);
	}
	json_object_set_new(j, "stop_reason", json_string(r->stop_reason ? r->stop_reason : ""));

	const struct bbt_optimizer_ops *ops = r->tuned ? r->opt.entry->desc->optimizer : NULL;
	json_t *st = json_object();
	if (ops != NULL && ops->stats != NULL) {
		struct bbt_optimizer_stat stats[32];
		size_t ns = ops->stats(r->opt.state, stats, 32);
		for (size_t i = 0; i < ns && i < 32; i++)
			json_object_set_new(st, stats[i].name, num_or_null(stats[i].value));
	}
	json_object_set_new(j, "optimizer_state", st);
	json_object_set_new(j, "blas", blas_json());
	json_object_set_new(j, "wall_time_s", json_real(wall));
	return j;
}

static int write_config(struct run *r, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	fprintf(f, "; bbtbench %s: resolved settings of run %s\n; re-run with: bbtbench --config "
	           "config.ini --force\n",
	        PACKAGE_VERSION, r->run_id);
	bbt_config_write_run_section(r->cfg, f);
	const struct plugin_use *uses[] = { &r->opt, &r->be };
	for (size_t u = 0; u < 2; u++) {
		if (uses[u]->entry == NULL)
			continue;   /* a baseline runs no optimizer */
		fprintf(f, "\n[%s]\n", u == 0 ? "optimizer" : "backend");
		for (size_t i = 0; i < bbt_options_count(uses[u]->opts); i++)
			fprintf(f, "%s = %s\n", bbt_options_key(uses[u]->opts, i),
			        bbt_options_text(uses[u]->opts, i));
	}
	fclose(f);
	int rc = bbt_rundir_write(r->rd, "config.ini", buf, err, errlen);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */

static void run_release(struct run *r)
{
	if (r->opt.entry && r->opt.state)
		r->opt.entry->desc->optimizer->free(r->opt.state);
	if (r->be.entry && r->be.state)
		r->be.entry->desc->backend->close(r->be.state);
	struct plugin_use *uses[] = { &r->opt, &r->be };
	for (size_t u = 0; u < 2; u++) {
		bbt_hostsvc_free(uses[u]->svc);
		bbt_options_free(uses[u]->opts);
		bbt_kvlist_clear(&uses[u]->given);
	}
	for (int s = 0; s < N_SPLITS; s++)
		bbt_encoded_free(r->enc[s]);
	bbt_encoded_free(r->content_free);
	bbt_icl_release(&r->icl);
	bbt_subspace_free(r->sub);
	bbt_vocab_free(r->vocab);
	free(r->spliced.ids);
	free(r->spliced.offset);
	free(r->spliced.predict_pos);
	free(r->spliced.prompt_pos);
	if (r->rd != NULL)
		bbt_log_copy_close();
	bbt_rundir_free(r->rd);
	bbt_splits_free(&r->splits);
	bbt_template_free(r->tmpl);
	bbt_task_free(r->task);
	free(r->label_ids);
	free(r->run_id);
	free(r->run_dir);
	free(r->z);
	free(r->prompts);
	free(r->logits);
	free(r->loss);
	free(r->rows);
	free(r->grad_p);
	free(r->grad_z);
	free(r->est_at);
	free(r->est);
	free(r->best_z);
	free(r->best_dev_z);
}

static void fill_summary(const struct run *r, struct bbt_run_summary *s, const char *status,
                         double test_metric, double test_acc, double wall)
{
	memset(s, 0, sizeof *s);
	snprintf(s->run_dir, sizeof s->run_dir, "%s", r->run_dir ? r->run_dir : "");
	snprintf(s->status, sizeof s->status, "%s", status);
	snprintf(s->metric, sizeof s->metric, "%s", bbt_metric_name(r->task->metric));
	snprintf(s->stop_reason, sizeof s->stop_reason, "%s", r->stop_reason ? r->stop_reason : "");
	s->train_loss = r->best_loss;
	s->dev_metric = r->best_dev;
	s->test_metric = test_metric;
	s->test_acc = test_acc;
	s->test_metric_calibrated = r->calibrated && r->tuned ? r->cal.test_metric[r->cal.chosen]
	                                                      : NAN;
	snprintf(s->method, sizeof s->method, "%s", r->cfg->method);
	s->api_calls = r->calls;
	s->wall = wall;
}

/* A finished run with these settings exists: report it instead. */
static int report_existing(struct run *r, struct bbt_run_summary *s, char *err, size_t errlen)
{
	char *path = bbt_path_join(r->run_dir, "result.json");
	json_error_t jerr;
	json_t *j = path ? json_load_file(path, 0, &jerr) : NULL;
	free(path);
	if (j == NULL)
		return bbt_error(err, errlen, BBT_EIO, "%s/result.json: %s", r->run_dir, jerr.text);
	json_t *m = json_object_get(j, "metrics");
	r->best_loss = json_number_value(json_object_get(m, "train_loss"));
	r->best_dev = json_number_value(json_object_get(m, "dev_metric"));
	r->calls = (size_t)json_integer_value(json_object_get(j, "api_calls"));
	r->stop_reason = NULL;
	fill_summary(r, s, "skipped", json_number_value(json_object_get(m, "test_metric")),
	             json_number_value(json_object_get(m, "test_acc")),
	             json_number_value(json_object_get(j, "wall_time_s")));
	json_t *cal = json_object_get(m, "test_metric_calibrated");
	s->test_metric_calibrated = cal ? json_number_value(cal) : NAN;
	snprintf(s->stop_reason, sizeof s->stop_reason, "%s",
	         json_string_value(json_object_get(j, "stop_reason")) ?: "");
	json_decref(j);
	return BBT_OK;
}

/* Everything that can be checked, before the results folder is touched.
 * Returns BBT_STOP when these settings already finished (nothing to do). */
static int prepare(struct run *r, bbt_registry_t *reg, const struct bbt_run_flags *flags,
                   char *err, size_t errlen)
{
	const struct bbt_config *cfg = r->cfg;
	int rc = load_task(r, err, errlen);
	if (rc == BBT_OK && r->tuned)
		rc = prepare_plugin(r, &r->opt, BBT_PLUGIN_OPTIMIZER, cfg->optimizer,
		                    spec_of(reg, BBT_PLUGIN_BACKEND, cfg->backend), reg,
		                    r->seed_optimizer, err, errlen);
	if (rc == BBT_OK)
		rc = prepare_plugin(r, &r->be, BBT_PLUGIN_BACKEND, cfg->backend,
		                    r->tuned ? spec_of(reg, BBT_PLUGIN_OPTIMIZER, cfg->optimizer) : NULL,
		                    reg, r->seed_backend, err, errlen);
	if (rc == BBT_OK && r->tuned) {
		r->discrete = (r->opt.entry->desc->flags & BBT_OPTIMIZER_CATEGORICAL) != 0;
		r->prompt_room = (size_t)cfg->prompt_len;   /* discrete: set by build_vocab */
	}
	if (rc == BBT_OK)
		rc = make_run_id(r, err, errlen);
	if (rc == BBT_OK) {
		r->redoes_finished = bbt_rundir_state(r->run_dir) == BBT_RUNDIR_FINISHED;
		if (r->redoes_finished && !flags->force)
			return BBT_STOP;
	}
	if (rc == BBT_OK)
		rc = load_splits(r, err, errlen);
	if (rc == BBT_OK)
		rc = open_backend(r, err, errlen);
	if (rc == BBT_OK)
		rc = build_vocab(r, err, errlen);
	if (rc == BBT_OK)
		rc = label_ids(r, err, errlen);
	if (rc == BBT_OK)
		rc = encode_splits(r, err, errlen);
	if (rc == BBT_OK && strcmp(cfg->method, "icl") == 0)
		rc = build_icl(r, err, errlen);
	if (rc == BBT_OK && r->tuned)
		rc = make_subspace(r, err, errlen);
	if (rc == BBT_OK && r->tuned)
		rc = create_optimizer(r, err, errlen);
	return rc;
}

/* run.log: what this run logs from here on, appended after the earlier
 * attempts' (a --force rerun keeps the finished run's log). */
static int open_run_log(const struct run *r, char *err, size_t errlen)
{
	char *path = bbt_path_join(r->run_dir, "run.log");
	if (path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_log_copy_open(path) == 0
	             ? BBT_OK
	             : bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	free(path);
	return rc;
}

int bbt_run(const struct bbt_config *cfg, bbt_registry_t *reg, const struct bbt_run_flags *flags,
            struct bbt_run_summary *summary, char *err, size_t errlen)
{
	struct run r = { .cfg = cfg, .flags = flags, .best_loss = NAN, .last_dev = NAN, .best_dev = NAN };
	r.tuned = strcmp(cfg->method, "tune") == 0;
	r.seed_optimizer = bbt_rng_derive_seed((uint64_t)cfg->seed, "optimizer");
	r.seed_backend = bbt_rng_derive_seed((uint64_t)cfg->seed, "backend");
	r.seed_projection = bbt_rng_derive_seed((uint64_t)cfg->seed, "projection");
	memset(summary, 0, sizeof *summary);
	r.t0 = bbt_now();

	int rc = prepare(&r, reg, flags, err, errlen);
	if (rc == BBT_STOP) {
		rc = report_existing(&r, summary, err, errlen);
		run_release(&r);
		return rc;
	}
	if (rc < 0) {
		run_release(&r);
		return rc;
	}

	/* From here on the run folder is written. */
	rc = bbt_rundir_open(r.run_dir, r.grad_check, &r.rd, err, errlen);
	if (rc != BBT_OK) {   /* BBT_RUNDIR_LOCKED too: another process runs it */
		run_release(&r);
		return rc;
	}
	rc = open_run_log(&r, err, errlen);
	if (rc == BBT_OK)
		rc = write_config(&r, err, errlen);
	if (rc == BBT_OK && r.discrete)
		rc = write_vocab(&r, err, errlen);
	if (r.discrete)
		bbt_log(BBT_LOG_INFO, NULL,
		        "%s: discrete prompt of %zu positions x %zu candidate n-grams (up to %zu "
		        "tokens each)", r.run_id, r.d, bbt_vocab_size(r.vocab),
		        bbt_vocab_max_tokens(r.vocab));
	bbt_log(BBT_LOG_INFO, NULL, "%s: %s on %s, %s backend, %zu train / %zu dev / %zu test examples",
	        r.run_id, r.tuned ? r.opt.entry->desc->name : cfg->method, r.task->name,
	        r.be.entry->desc->name, r.enc[SPLIT_TRAIN]->n_seq, r.enc[SPLIT_DEV]->n_seq,
	        r.enc[SPLIT_TEST]->n_seq);

	double test_metric = NAN, test_acc = NAN, test_f1 = NAN;
	if (rc == BBT_OK && r.tuned)
		rc = loop(&r, err, errlen);
	int was_interrupted = interrupted != 0;
	if (rc == BBT_OK && r.tuned && !was_interrupted && r.calls > 0) {
		rc = evaluate(&r, SPLIT_TEST, r.best_dev_z, &test_metric, &test_acc, &test_f1, err,
		              errlen);
		if (rc == BBT_OK && strcmp(cfg->calibrate, "yes") == 0)
			rc = calibrate_scores(&r, r.best_dev_z, err, errlen);
	} else if (rc == BBT_OK && !r.tuned && !was_interrupted) {
		rc = run_baseline(&r, &test_metric, &test_acc, &test_f1, err, errlen);
	}
	double wall = bbt_now() - r.t0;
	if ((rc != BBT_OK || was_interrupted) && r.redoes_finished) {
		/* A rerun that did not finish replaces nothing: the finished
		 * result stays, and this one's partial trace beside it. */
		bbt_log(BBT_LOG_WARNING, NULL, "%s: the rerun did not finish; the earlier finished "
		        "result is kept (this rerun's trace: trace.csv.part)", r.run_dir);
		if (rc == BBT_OK) {
			fill_summary(&r, summary, "interrupted", NAN, NAN, wall);
			rc = bbt_error(err, errlen, BBT_EINTR, "interrupted after %zu calls", r.calls);
		}
	} else if (rc == BBT_OK) {
		progress(&r, 1);
		const char *status = was_interrupted ? "interrupted" : "finished";
		json_t *res = result_json(&r, status, test_metric, test_acc, test_f1, wall);
		rc = res ? bbt_rundir_finish(r.rd, res, err, errlen)
		         : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		json_decref(res);
		fill_summary(&r, summary, status, test_metric, test_acc, wall);
		if (rc == BBT_OK && was_interrupted)
			rc = bbt_error(err, errlen, BBT_EINTR,
			               "interrupted after %zu calls; partial results in %s", r.calls,
			               r.run_dir);
	} else {
		/* Say in the folder that this run failed, and why: its partial
		 * trace is kept, and a table never mistakes it for a result. The
		 * error reported is the first one, not a failure to record it. */
		json_t *res = result_json(&r, "failed", NAN, NAN, NAN, wall);
		if (res != NULL) {
			json_object_set_new(res, "error", json_string(err));
			bbt_rundir_finish(r.rd, res, NULL, 0);
		}
		json_decref(res);
	}
	if (rc < 0)   /* the caller reports it once the log is closed */
		bbt_log_copy_note("bbtbench: %s", err);
	run_release(&r);
	return rc;
}
