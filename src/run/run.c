/*
 * run.c - one run, stage by stage: plan, setup, scorers and loop (or a
 * baseline), results. Signals and the task folders live here too.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "run/budget.h"
#include "run/checkpoint.h"
#include "run/loop.h"
#include "run/loss.h"
#include "run/plan.h"
#include "run/prompt_file.h"
#include "run/record.h"
#include "run/result_json.h"
#include "run/results.h"
#include "run/run.h"
#include "run/saved.h"
#include "run/score.h"
#include "run/setup.h"

struct run {
	struct bbt_plan plan;         /* stage 1: the settings, typed; the run id */
	struct bbt_setup setup;       /* stage 2: what the run reads, read-only after */
	struct bbt_budget budget;     /* every backend call counted */
	bbt_score_t *sc;              /* stage 3: the backend calls */
	bbt_tuner_t *tuner;           /* stage 4: a tuned run's optimizer and loop */
	struct bbt_selection base;    /* a baseline's losses and dev metric */
	struct bbt_eval test;         /* the selected prompt on test */
	struct bbt_calibration cal;
	int calibrated;               /* cal holds a calibration of the final scores */
	int redoes_finished;  /* --force over a finished run, kept unless this one finishes */
	bbt_rundir_t *rd;
	const struct bbt_run_flags *flags;
	double t0;
	FILE *trail;                  /* prompts.tsv, in memory until the run ends */
	char *trail_buf;
	size_t trail_len;
	char prompt_sha[65];          /* prompt.safetensors written: its sha256; else "" */
	double *init_z;               /* --init-prompt: the saved z, the optimizer's x0 */
	char *state_path;             /* state.bin, when the optimizer can save its state */
	struct bbt_checkpoint ck;     /* the checkpoint buffer, reused each generation */
	char *resumed_trail;          /* --resume: prompts.tsv as far as state.bin goes */
	size_t resumed_calls;         /* --resume: the API calls state.bin had spent; else 0 */
	size_t stop_after;            /* test hook: interrupt after this many calls; 0: never */
	double ck_at, ck_cost;        /* when the last checkpoint was written, its seconds */
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
/* Stages */

static const struct bbt_selection *selection(const struct run *r)
{
	return r->tuner ? bbt_tuner_selection(r->tuner) : &r->base;
}

static void progress(void *ctx, int final)
{
	const struct run *r = ctx;
	const struct bbt_selection *sel = selection(r);
	size_t calls = r->budget.calls, budget = r->plan.budget;
	double el = bbt_now() - r->t0;
	if (r->plan.tuned && r->flags->on_progress != NULL)
		r->flags->on_progress(r->flags->progress_ctx, calls, budget, el);
	double eta = calls ? el * (double)(budget - calls) / (double)calls : 0;
	char dev[32] = "-";
	if (!isnan(sel->best_dev))
		snprintf(dev, sizeof dev, "%.2f%%", 100 * sel->best_dev);
	const char *metric = bbt_metric_name(r->setup.task->metric);
	if (!r->plan.tuned) {   /* a baseline has no budget to count down */
		bbt_progress(final, "%s: baseline %s, %zu API calls | train loss %.4f | dev %s %s | %.1fs",
		             r->plan.run_id, bbt_method_name(r->plan.method), calls, sel->best_loss,
		             metric, dev, el);
		return;
	}
	bbt_progress(final, "%s: calls %zu/%zu | best loss %.4f | dev %s %s | %.1fs, ETA %.0fs%s",
	             r->plan.run_id, calls, budget, sel->best_loss, metric, dev, el,
	             final ? 0.0 : eta,
	             final && bbt_run_interrupted() ? " | interrupted (--resume goes on)" : "");
}

/* A deep --init-prompt: A_1 .. A_{L-1} scaled as this run's (their seeds
 * follow the projection seed checked with layer 0's). */
static int check_init_layers(const struct bbt_saved *sv, const struct bbt_setup *s,
                             const char *dir, char *err, size_t errlen)
{
	double *stds = malloc(sv->layers * sizeof *stds);
	if (stds == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_prompt_file_layer_values(&sv->pf, dir, "layer_stds", stds, err, errlen);
	for (size_t l = 1; rc == BBT_OK && l < sv->layers; l++)
		if (stds[l] != s->layer_std[l])
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "--init-prompt %s: layer %zu's projection std %.17g is not this "
			               "run's %.17g: the same z would be another prompt (the hidden "
			               "states' std differs: same model, task and split needed)", dir, l,
			               stds[l], s->layer_std[l]);
	free(stds);
	return rc;
}

/* --init-prompt RUN: that run's saved z, if it means the same prompt here:
 * a continuous prompt of the same layers and d under the same projections
 * (kind, seed and std), so that A z is the prompt the run saved. */
static int load_init_prompt(struct run *r, char *err, size_t errlen)
{
	struct bbt_plan *p = &r->plan;
	const struct bbt_setup *s = &r->setup;
	const char *dir = p->cfg->init_prompt;
	struct bbt_saved_params sp = bbt_saved_default_params();
	struct bbt_saved sv;
	sp.open_setup = 0;
	int rc = bbt_saved_open(&sv, dir, &sp, NULL, err, errlen);
	char seed[32], std[40];
	snprintf(seed, sizeof seed, "%lu", (unsigned long)p->seed_projection);
	snprintf(std, sizeof std, "%.17g", bbt_setup_projection_std(s, p));
	const char *proj = bbt_projection_name(p->projection);
	if (rc == BBT_OK && (p->prompt != BBT_PROMPT_CONTINUOUS || sv.kind != BBT_PROMPT_CONTINUOUS))
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "--init-prompt %s: only a continuous prompt starts a continuous run",
		               dir);
	if (rc == BBT_OK && sv.layers != s->layers)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "--init-prompt %s: its prompt has %zu layer%s; this run's has %zu", dir,
		               sv.layers, sv.layers == 1 ? "" : "s", s->layers);
	if (rc == BBT_OK && sv.d != s->d)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "--init-prompt %s: its z has d = %zu; this run's --dim is %zu", dir, sv.d,
		               s->d);
	const char *mp = bbt_prompt_file_meta(&sv.pf, "projection"),
	           *ms = bbt_prompt_file_meta(&sv.pf, "projection_seed"),
	           *md = bbt_prompt_file_meta(&sv.pf, "projection_std");
	if (rc == BBT_OK && (strcmp(mp, proj) != 0 || strcmp(ms, seed) != 0 || strcmp(md, std) != 0))
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "--init-prompt %s: its projection (%s, seed %s, std %s) is not this "
		               "run's (%s, seed %s, std %s): the same z would be another prompt (same "
		               "--seed, --alpha, --sigma and model needed)", dir, mp, ms, md, proj, seed,
		               std);
	if (rc == BBT_OK && sv.layers > 1)
		rc = check_init_layers(&sv, s, dir, err, errlen);
	if (rc == BBT_OK) {
		r->init_z = sv.z;   /* taken over */
		sv.z = NULL;
		p->init_z = r->init_z;
	}
	bbt_saved_release(&sv);
	return rc;
}

static struct bbt_checkpoint_id checkpoint_id(const struct run *r)
{
	const struct bbt_plugin *opt = r->setup.opt.entry->desc;
	return (struct bbt_checkpoint_id){ PACKAGE_VERSION, r->plan.run_id, opt->name,
		                           opt->version ? opt->version : "" };
}

/* After a generation: state.bin, the point --resume goes on from. Its
 * cost is held to about 1% of the run: it is written when 100 times what
 * the last one took has passed since (every generation when calls are
 * slow, as on a real model), and always at the generation an interrupt
 * stops the run after. A run killed outright resumes from the last one. */
static int checkpoint(void *ctx, char *err, size_t errlen)
{
	struct run *r = ctx;
	/* BBTBENCH_TEST_STOP_AFTER=N (tests only): the interrupt of a Ctrl-C
	 * after the generation that reaches N calls, at a known point. */
	if (r->stop_after > 0 && r->budget.calls >= r->stop_after)
		interrupted = 1;
	double now = bbt_now();
	if (r->state_path == NULL || (!interrupted && now - r->ck_at < 100 * r->ck_cost))
		return BBT_OK;
	struct bbt_checkpoint_id id = checkpoint_id(r);
	struct bbt_state_writer *w = bbt_checkpoint_begin(&r->ck, &id);
	double wall = now - r->t0;
	bbt_state_put_f64(w, "wall", &wall, 1);
	if (r->trail != NULL && fflush(r->trail) != 0)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	bbt_state_put_bytes(w, "dev_history", r->trail ? r->trail_buf : "",
	                    r->trail ? r->trail_len : 0);
	int rc = bbt_tuner_save(r->tuner, w, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_checkpoint_commit(&r->ck, r->state_path, err, errlen);
	r->ck_at = bbt_now();
	r->ck_cost = r->ck_at - now;
	bbt_log(BBT_LOG_DEBUG, NULL, "%s: %zu bytes at API call %zu in %.2f ms", r->state_path,
	        r->ck.len, r->budget.calls, 1e3 * r->ck_cost);
	return rc;
}

/* --resume: this run's state after its last finished generation, into the
 * fresh tuner, before the folder is touched. Without a state file, or
 * with an optimizer that cannot load one, the run starts from scratch and
 * says so. */
static int resume(struct run *r, char *err, size_t errlen)
{
	const struct bbt_plugin *opt = r->setup.opt.entry->desc;
	if (r->state_path == NULL) {
		if (bbt_rundir_state(r->plan.run_dir) == BBT_RUNDIR_INCOMPLETE)
			bbt_log(BBT_LOG_WARNING, NULL, "%s: optimizer %s (ABI %u.%u) cannot save its "
			        "state; --resume starts the run from scratch", r->plan.run_id, opt->name,
			        (unsigned)opt->abi_major, (unsigned)opt->abi_minor);
		return BBT_OK;
	}
	struct bbt_checkpoint_id id = checkpoint_id(r);
	struct bbt_checkpoint_file f;
	int rc = bbt_checkpoint_open(&f, r->state_path, &id, err, errlen);
	if (rc == BBT_ENOTFOUND) {
		bbt_checkpoint_file_release(&f);
		if (bbt_rundir_state(r->plan.run_dir) == BBT_RUNDIR_INCOMPLETE)
			bbt_log(BBT_LOG_WARNING, NULL, "%s: no %s to resume from; the run starts from "
			        "scratch", r->plan.run_id, r->state_path);
		return BBT_OK;
	}
	double wall = 0;
	const void *trail = NULL;
	size_t trail_len = 0;
	if (rc == BBT_OK) {
		bbt_state_get_f64(&f.r, "wall", &wall, 1);
		bbt_state_get_bytes(&f.r, "dev_history", &trail, &trail_len);
		rc = bbt_tuner_restore(r->tuner, &f.r, err, errlen);
	}
	if (rc == BBT_OK)
		rc = bbt_checkpoint_close(&f);
	if (rc == BBT_OK && (r->resumed_trail = malloc(trail_len + 1)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK) {
		memcpy(r->resumed_trail, trail, trail_len);
		r->resumed_trail[trail_len] = '\0';
		r->resumed_calls = r->budget.calls;
		r->t0 = bbt_now() - wall;
	}
	bbt_checkpoint_file_release(&f);
	return rc;
}

/* Everything that can be checked, before the results folder is touched.
 * Returns BBT_STOP when these settings already finished (nothing to do). */
static int prepare(struct run *r, bbt_registry_t *reg, char *err, size_t errlen)
{
	struct bbt_plan *p = &r->plan;
	struct bbt_setup *s = &r->setup;
	int rc = bbt_setup_resolve(s, p, reg, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_plan_run_id(p, s->task->name, p->tuned ? s->opt.entry->desc : NULL,
		                     s->opt.opts, s->be.entry->desc, s->be.opts, err, errlen);
	if (rc == BBT_OK) {
		r->redoes_finished = bbt_rundir_state(p->run_dir) == BBT_RUNDIR_FINISHED;
		if (r->redoes_finished && !r->flags->force)
			return BBT_STOP;
	}
	if (rc == BBT_OK)
		rc = bbt_setup_open(s, p, err, errlen);
	if (rc == BBT_OK && p->tuned && p->cfg->init_prompt[0] != '\0')
		rc = load_init_prompt(r, err, errlen);
	struct bbt_score_params sp = { .run_id = p->run_id, .t0 = r->t0 };
	if (rc == BBT_OK && (r->sc = bbt_score_alloc(s, p, &r->budget, &sp, err, errlen)) == NULL)
		rc = BBT_ENOMEM;
	if (rc == BBT_OK && p->tuned)
		rc = bbt_tuner_create(p, s, r->sc, &r->budget, &r->tuner, err, errlen);
	if (rc == BBT_OK && p->tuned && bbt_plugin_saves_state(s->opt.entry->desc) &&
	    (r->state_path = bbt_path_join(p->run_dir, BBT_CHECKPOINT_NAME)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK && p->tuned && r->flags->resume)
		rc = resume(r, err, errlen);
	return rc;
}

static int calibrate(struct run *r, const struct bbt_prompt *pr, char *err, size_t errlen)
{
	int rc = bbt_score_calibrate(r->sc, pr, &r->cal, err, errlen);
	r->calibrated = rc == BBT_OK;
	return rc;
}

/* A baseline: no optimizer and no prompt. Its API calls are the forward
 * passes over training data it needs to fit anything: calibration scores
 * the content-free inputs and the train shots (2); the manual prompt and
 * in-context learning fit nothing (0). */
static int run_baseline(struct run *r, char *err, size_t errlen)
{
	const struct bbt_setup *s = &r->setup;
	const bbt_encoded_t *train = s->enc[BBT_RUN_TRAIN];
	struct bbt_prompt none = { BBT_PROMPT_NONE, NULL };
	struct bbt_eval dev;
	float *lt = malloc((train->n_seq ? train->n_seq : 1) * s->L * sizeof *lt);
	if (lt == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_score_split(r->sc, train, &none, lt, err, errlen);
	if (rc == BBT_OK)
		r->base.best_loss = bbt_loss_eval(r->plan.loss, s->task->metric, s->task->positive,
		                                  lt, train->n_seq, s->L, train->labels);
	free(lt);
	r->base.stop_reason = "baseline";
	if (rc == BBT_OK && r->plan.method == BBT_METHOD_CALIBRATED) {
		rc = calibrate(r, &none, err, errlen);
		if (rc == BBT_OK) {
			enum bbt_calibration_variant v = r->cal.chosen;
			r->base.best_dev = r->cal.dev_metric[v];
			r->test = (struct bbt_eval){ r->cal.test_metric[v], r->cal.test_acc[v],
				                     r->cal.test_f1[v] };
			rc = bbt_budget_charge(&r->budget, BBT_CALL_TRAIN, 2, err, errlen);
		}
		return rc;
	}
	if (rc == BBT_OK)
		rc = bbt_score_eval(r->sc, BBT_RUN_DEV, &none, &dev, err, errlen);
	if (rc == BBT_OK)
		r->base.best_dev = dev.metric;
	if (rc == BBT_OK)
		rc = bbt_score_eval(r->sc, BBT_RUN_TEST, &none, &r->test, err, errlen);
	return rc;
}

/* A dev evaluation of a new best-so-far continuous point: prompts.tsv. */
static void on_dev(void *ctx, size_t call, double metric, const double *z, size_t d)
{
	struct run *r = ctx;
	if (r->trail != NULL)
		bbt_prompt_trail_row(r->trail, call, metric, z, d);
}

/* Tune, then score the best-on-dev prompt on test (and calibrated). */
static int run_tuned(struct run *r, char *err, size_t errlen)
{
	struct bbt_loop_hooks hooks = { progress, r, r->t0, on_dev, checkpoint };
	if (r->plan.prompt == BBT_PROMPT_CONTINUOUS) {   /* deep: layer 0's d, then layer 1's ... */
		if ((r->trail = open_memstream(&r->trail_buf, &r->trail_len)) == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		if (r->resumed_trail != NULL)
			fputs(r->resumed_trail, r->trail);
		else
			bbt_prompt_trail_header(r->trail, r->setup.layers * r->setup.d);
	}
	int rc = bbt_tuner_run(r->tuner, r->rd, &hooks, err, errlen);
	const struct bbt_selection *sel = bbt_tuner_selection(r->tuner);
	if (rc < 0 || r->budget.calls == 0 || (bbt_run_interrupted() && isnan(sel->best_dev)))
		return rc;
	/* Interrupted too: the prompt kept so far on test (one evaluation),
	 * so that the run reports what it has. */
	struct bbt_prompt best = { r->plan.prompt, sel->best_dev_z };
	rc = bbt_score_eval(r->sc, BBT_RUN_TEST, &best, &r->test, err, errlen);
	if (bbt_run_interrupted())
		return rc;
	if (rc == BBT_OK && r->plan.calibrate)
		rc = calibrate(r, &best, err, errlen);
	return rc;
}

/* run.log: what this run logs from here on, appended after the earlier
 * attempts' (a --force rerun keeps the finished run's log). */
static int open_run_log(const struct run *r, char *err, size_t errlen)
{
	char *path = bbt_path_join(r->plan.run_dir, "run.log");
	if (path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_log_copy_open(path) == 0
	             ? BBT_OK
	             : bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	free(path);
	return rc;
}

/* The folder's first files (the folder is open), and the run announced. */
static int start(struct run *r, char *err, size_t errlen)
{
	const struct bbt_plan *p = &r->plan;
	const struct bbt_setup *s = &r->setup;
	int discrete = p->prompt == BBT_PROMPT_DISCRETE;
	int rc = open_run_log(r, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_record_config(p, s, r->rd, err, errlen);
	if (rc == BBT_OK && discrete)
		rc = bbt_record_vocab(s, r->rd, err, errlen);
	if (discrete)
		bbt_log(BBT_LOG_INFO, NULL,
		        "%s: discrete prompt of %zu positions x %zu candidate n-grams (up to %zu "
		        "tokens each)", p->run_id, s->d, bbt_vocab_size(s->vocab),
		        bbt_vocab_max_tokens(s->vocab));
	bbt_log(BBT_LOG_INFO, NULL, "%s: %s on %s, %s backend, %zu train / %zu dev / %zu test examples",
	        p->run_id, p->tuned ? s->opt.entry->desc->name : p->cfg->method, s->task->name,
	        s->be.entry->desc->name, s->enc[BBT_RUN_TRAIN]->n_seq, s->enc[BBT_RUN_DEV]->n_seq,
	        s->enc[BBT_RUN_TEST]->n_seq);
	if (r->resumed_trail != NULL)
		bbt_log(BBT_LOG_INFO, NULL, "%s: resumed at API call %zu of %zu from %s", p->run_id,
		        r->budget.calls, r->budget.limit, r->state_path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Results */

/* result.json's numbers: the selection, the test scores, the budget. */
static void fill_result(const struct run *r, const char *status, double wall,
                        struct bbt_result *res)
{
	const struct bbt_selection *sel = selection(r);
	bbt_result_init(res);
	snprintf(res->status, sizeof res->status, "%s", status);
	snprintf(res->run_id, sizeof res->run_id, "%s", r->plan.run_id ? r->plan.run_id : "");
	snprintf(res->method, sizeof res->method, "%s", r->plan.cfg->method);
	snprintf(res->metric, sizeof res->metric, "%s", bbt_metric_name(r->setup.task->metric));
	snprintf(res->stop_reason, sizeof res->stop_reason, "%s",
	         sel->stop_reason ? sel->stop_reason : "");
	res->train_loss = sel->best_loss;
	res->dev_metric = sel->best_dev;
	res->best_dev_call = sel->best_dev_call;
	res->test_metric = r->test.metric;
	res->test_acc = r->test.acc;
	res->test_f1 = r->test.f1;
	res->calibrated = r->calibrated && r->plan.tuned;
	if (res->calibrated) {
		enum bbt_calibration_variant v = r->cal.chosen;
		res->dev_metric_calibrated = r->cal.dev_metric[v];
		res->test_metric_calibrated = r->cal.test_metric[v];
		res->test_acc_calibrated = r->cal.test_acc[v];
		res->test_f1_calibrated = r->cal.test_f1[v];
	}
	res->api_calls = r->budget.calls;
	res->batches = r->budget.batches;
	res->dev_evaluations = r->budget.dev;
	res->test_evaluations = r->budget.test;
	res->tokens_scored = r->budget.tokens;
	res->white_box = r->plan.white_box;
	res->grad_check = r->plan.grad_check;
	res->true_gradient_calls = r->budget.grad_checks;
	res->mean_cosine = sel->grad_cos_n ? sel->grad_cos_sum / (double)sel->grad_cos_n : NAN;
	res->wall_time_s = wall;
}

static json_t *result_json(const struct run *r, const struct bbt_result *res)
{
	struct bbt_result_parts parts;
	bbt_record_parts(&r->plan, &r->setup,
	                 r->tuner ? bbt_tuner_selection(r->tuner)->best_dev_z : NULL, &parts);
	if (r->prompt_sha[0] && parts.prompt != NULL) {
		json_object_set_new(parts.prompt, "file", json_string(BBT_PROMPT_FILE_NAME));
		json_object_set_new(parts.prompt, "sha256", json_string(r->prompt_sha));
	}
	parts.calibration = r->calibrated ? bbt_calibration_json(&r->cal) : NULL;
	parts.optimizer_state = r->tuner ? bbt_tuner_state_json(r->tuner) : json_object();
	parts.deep = r->tuner ? bbt_tuner_deep_json(r->tuner) : NULL;
	return bbt_result_json(res, &parts);
}

static void fill_summary(const struct bbt_result *res, const char *run_dir,
                         struct bbt_run_summary *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->run_dir, sizeof s->run_dir, "%s", run_dir ? run_dir : "");
	snprintf(s->status, sizeof s->status, "%s", res->status);
	snprintf(s->metric, sizeof s->metric, "%s", res->metric);
	snprintf(s->stop_reason, sizeof s->stop_reason, "%s", res->stop_reason);
	snprintf(s->method, sizeof s->method, "%s", res->method);
	s->train_loss = res->train_loss;
	s->dev_metric = res->dev_metric;
	s->test_metric = res->test_metric;
	s->test_acc = res->test_acc;
	s->test_metric_calibrated = res->calibrated ? res->test_metric_calibrated : NAN;
	s->api_calls = res->api_calls;
	s->wall = res->wall_time_s;
}

/* A finished run with these settings exists: report it instead. */
static int report_existing(const struct run *r, struct bbt_run_summary *s, char *err,
                           size_t errlen)
{
	char *path = bbt_path_join(r->plan.run_dir, "result.json");
	struct bbt_result res;
	int rc = path ? bbt_result_load(path, &res, err, errlen)
	              : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	free(path);
	if (rc == BBT_OK) {
		snprintf(res.status, sizeof res.status, "skipped");
		fill_summary(&res, r->plan.run_dir, s);
	}
	return rc;
}

/* A continuous run's best-on-dev prompt (the one scored on test) and the
 * best-so-far points dev scored, before result.json names the prompt. */
static int save_prompt(struct run *r, char *err, size_t errlen)
{
	const struct bbt_selection *sel = selection(r);
	if (r->trail == NULL || isnan(sel->best_dev))
		return BBT_OK;
	fclose(r->trail);
	r->trail = NULL;
	int rc = bbt_rundir_write(r->rd, BBT_PROMPT_TRAIL_NAME, r->trail_buf, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_prompt_file_save(&r->plan, &r->setup, sel->best_dev_z, sel->best_dev,
		                          sel->best_dev_call, r->plan.run_dir, r->prompt_sha, err,
		                          errlen);
	return rc;
}

/* The run's end in its folder: result.json (finished, interrupted or
 * failed), or, for a rerun that did not finish, the earlier result kept. */
static int finish(struct run *r, int rc, int was_interrupted, struct bbt_run_summary *summary,
                  char *err, size_t errlen)
{
	double wall = bbt_now() - r->t0;
	const char *run_dir = r->plan.run_dir;
	struct bbt_result res;
	if ((rc != BBT_OK || was_interrupted) && r->redoes_finished) {
		/* A rerun that did not finish replaces nothing: the finished
		 * result stays, and this one's partial trace beside it. */
		bbt_log(BBT_LOG_WARNING, NULL, "%s: the rerun did not finish; the earlier finished "
		        "result is kept (this rerun's trace: trace.csv.part)", run_dir);
		if (rc == BBT_OK) {
			fill_result(r, "interrupted", wall, &res);
			fill_summary(&res, run_dir, summary);
			rc = bbt_error(err, errlen, BBT_EINTR, "interrupted after %zu calls",
			               r->budget.calls);
		}
		return rc;
	}
	if (rc == BBT_OK)
		rc = save_prompt(r, err, errlen);
	if (rc != BBT_OK) {
		/* Say in the folder that this run failed, and why: its partial
		 * trace is kept, and a table never mistakes it for a result. The
		 * error reported is the first one, not a failure to record it. */
		r->test = (struct bbt_eval){ NAN, NAN, NAN };
		fill_result(r, "failed", wall, &res);
		json_t *j = result_json(r, &res);
		if (j != NULL) {
			json_object_set_new(j, "error", json_string(err));
			bbt_rundir_finish(r->rd, j, NULL, 0);
		}
		json_decref(j);
		return rc;
	}
	progress(r, 1);
	fill_result(r, was_interrupted ? "interrupted" : "finished", wall, &res);
	json_t *j = result_json(r, &res);
	rc = j ? bbt_rundir_finish(r->rd, j, err, errlen)
	       : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	json_decref(j);
	fill_summary(&res, run_dir, summary);
	/* A finished run has nothing to resume: its state would only take room
	 * (a full CMA-ES's is two d x d matrices). */
	if (rc == BBT_OK && !was_interrupted && r->state_path != NULL)
		unlink(r->state_path);
	if (rc == BBT_OK && was_interrupted)
		rc = bbt_error(err, errlen, BBT_EINTR, "interrupted after %zu calls; partial results in %s",
		               r->budget.calls, run_dir);
	return rc;
}

static void run_release(struct run *r)
{
	if (r->trail != NULL)
		fclose(r->trail);
	free(r->trail_buf);
	free(r->init_z);
	free(r->state_path);
	free(r->resumed_trail);
	bbt_checkpoint_release(&r->ck);
	bbt_tuner_free(r->tuner);
	bbt_score_free(r->sc);
	bbt_setup_release(&r->setup);
	if (r->rd != NULL)
		bbt_log_copy_close();
	bbt_rundir_free(r->rd);
	bbt_plan_release(&r->plan);
}

int bbt_run(const struct bbt_config *cfg, bbt_registry_t *reg, const struct bbt_run_flags *flags,
            struct bbt_run_summary *summary, char *err, size_t errlen)
{
	struct run r = { .flags = flags, .t0 = bbt_now() };
	const char *stop_after = getenv("BBTBENCH_TEST_STOP_AFTER");
	if (stop_after != NULL)
		r.stop_after = strtoul(stop_after, NULL, 10);
	r.base = (struct bbt_selection){ .best_loss = NAN, .best_dev = NAN };
	r.test = (struct bbt_eval){ NAN, NAN, NAN };
	memset(summary, 0, sizeof *summary);
	int rc = bbt_plan_init(&r.plan, cfg, err, errlen);
	r.budget = bbt_budget_init(r.plan.tuned ? r.plan.budget : BBT_BUDGET_UNLIMITED);
	if (rc == BBT_OK)
		rc = prepare(&r, reg, err, errlen);
	int done = rc == BBT_STOP;   /* already finished: nothing is written */
	if (done)
		rc = report_existing(&r, summary, err, errlen);
	if (rc != BBT_OK || done) {
		run_release(&r);
		return rc;
	}
	/* From here on the run folder is written. */
	int layer_col = r.plan.deep && r.plan.schedule == BBT_SCHEDULE_LAYERWISE;
	rc = bbt_rundir_reopen(r.plan.run_dir,
	                       (r.plan.grad_check ? BBT_TRACE_GRAD : 0) |
	                               (layer_col ? BBT_TRACE_LAYER : 0) |
	                               (bbt_plugin_backend_transport(r.setup.be.entry->desc)
	                                        ? BBT_TRACE_TRANSPORT : 0),
	                       r.resumed_calls, &r.rd, err, errlen);
	if (rc != BBT_OK) {   /* BBT_RUNDIR_LOCKED too: another process runs it */
		run_release(&r);
		return rc;
	}
	/* A fresh start's first checkpoint replaces an earlier attempt's. */
	if (r.state_path != NULL && r.resumed_trail == NULL)
		unlink(r.state_path);
	rc = start(&r, err, errlen);
	if (rc == BBT_OK && r.plan.tuned)
		rc = run_tuned(&r, err, errlen);
	int was_interrupted = bbt_run_interrupted();
	if (rc == BBT_OK && !r.plan.tuned && !was_interrupted)
		rc = run_baseline(&r, err, errlen);
	rc = finish(&r, rc, was_interrupted, summary, err, errlen);
	if (rc < 0)   /* the caller reports it once the log is closed */
		bbt_log_copy_note("bbtbench: %s", err);
	run_release(&r);
	return rc;
}
