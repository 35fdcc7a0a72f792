/*
 * t/schedule.c - deep prompts (BBTv2) on the synthetic backend: the
 * clipped std, the per-layer projection scale against a direct computation
 * from the backend's hidden states, the layerwise schedule (which layer
 * each call tunes, rounds = budget / (popsize L), the exact budget), and
 * that every other layer stays fixed while one is tuned (a backend wrapper
 * records the prompts it is given).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plugin/registry.h"
#include "run/loop.h"
#include "run/results.h"
#include "run/schedule.h"
#include "run/setup.h"
#include "tap.h"

static bbt_registry_t *reg;

/* The direct computation: numpy's mean/std over the values kept, five
 * times keeping those within mean +- 3 std, then the std of the rest. */
static double direct_clipped_std(const float *x, size_t n)
{
	char *keep = malloc(n);
	memset(keep, 1, n);
	double mean = 0, std = 0;
	for (int r = 0; r <= 5; r++) {
		double s = 0, ss = 0;
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (keep[i]) {
				s += x[i];
				k++;
			}
		mean = s / (double)k;
		for (size_t i = 0; i < n; i++)
			if (keep[i])
				ss += (x[i] - mean) * (x[i] - mean);
		std = sqrt(ss / (double)k);
		if (r == 5)
			break;
		for (size_t i = 0; i < n; i++)
			keep[i] = x[i] >= mean - 3 * std && x[i] <= mean + 3 * std;
	}
	free(keep);
	return std;
}

/* The recording wrapper around synthetic's score. */
static const struct bbt_backend_ops *real;
static size_t rec_D, rec_L, rec_steps, rec_bad_fixed, rec_bad_moved, rec_bad_tuned;
static float *rec_prev;   /* the previous training call's first variant */
static size_t rec_prev_layer = SIZE_MAX;

static int rec_score(void *state, const struct bbt_batch *b, const float *prompts, size_t nv,
                     float *logits, char *err, size_t errlen)
{
	if (prompts != NULL && nv > 1) {   /* a training batch (dev and test: one prompt) */
		size_t PH = rec_D / rec_L, tuned = rec_steps % rec_L;
		for (size_t l = 0; l < rec_L; l++) {
			int differs = 0;
			for (size_t v = 1; v < nv; v++)
				differs |= memcmp(prompts + (v * rec_L + l) * PH, prompts + l * PH,
				                  PH * sizeof *prompts) != 0;
			if (l == tuned && !differs)
				rec_bad_tuned++;
			if (l != tuned && differs)
				rec_bad_fixed++;
			/* since the last step only the layer tuned then may move */
			if (rec_steps > 0 && l != tuned && l != rec_prev_layer &&
			    memcmp(prompts + l * PH, rec_prev + l * PH, PH * sizeof *prompts) != 0)
				rec_bad_moved++;
		}
		memcpy(rec_prev, prompts, rec_D * sizeof *prompts);
		rec_prev_layer = tuned;
		rec_steps++;
	}
	return real->score(state, b, prompts, nv, logits, err, errlen);
}

static void progress(void *ctx, int final)
{
	(void)ctx;
	(void)final;
}

static void config(struct bbt_config *cfg, const char *budget)
{
	char err[BBT_ERRLEN];
	bbt_config_init(cfg);
	const char *kv[][2] = { { "optimizer", "cmaes" }, { "backend", "synthetic" },
		                { "task", "toy" }, { "dim", "6" }, { "prompt-len", "3" },
		                { "prompt-layers", "all" }, { "budget", budget },
		                { "popsize", "8" }, { "eval-every", "16" }, { "alpha", "0.7" },
		                { "sigma", "0.5" } };
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (bbt_config_set(cfg, kv[i][0], kv[i][1], "test", err, sizeof err) < 0)
			diag("%s", err);
}

static void unit(void)
{
	is_int((long long)bbt_schedule_rounds(8000, 20, 24), 16, "8000 calls, popsize 20, 24 layers: 16 rounds");
	is_int((long long)bbt_schedule_rounds(79, 20, 4), 0, "79 calls: no whole round of 4 x 20");
	is_int((long long)bbt_schedule_layer(9, 4), 1, "step 9 of 4 layers tunes layer 1");
	ok(bbt_schedule_parse("layerwise") == BBT_SCHEDULE_LAYERWISE &&
	   bbt_schedule_parse("joint") == BBT_SCHEDULE_JOINT && bbt_schedule_parse("all") == 0,
	   "schedule names: layerwise, joint; others unknown");
	is_string(bbt_schedule_name(BBT_SCHEDULE_JOINT), "joint", "and back");
	float x[1000];
	for (int i = 0; i < 1000; i++)
		x[i] = (float)((i % 7) - 3) + (i % 100 == 0 ? 400.0f : 0.0f);
	double mean, std;
	size_t kept;
	bbt_clipped_stats(x, 1000, 5, &mean, &std, &kept);
	is_double(std, direct_clipped_std(x, 1000), 1e-9, "clipped std = the direct computation");
	is_int((long long)kept, 990, "the 10 outliers clipped");
}

int main(void)
{
	if (getenv("top_srcdir") == NULL)
		skip_all("top_srcdir is not set (run through make check)");
	plan(22);
	unit();
	char err[BBT_ERRLEN];
	unsetenv("BBTBENCH_PLUGIN_PATH");
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);

	struct bbt_config cfg;
	struct bbt_plan p;
	struct bbt_setup s = { 0 };
	config(&cfg, "100");
	int rc = bbt_plan_init(&p, &cfg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_resolve(&s, &p, reg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_open(&s, &p, err, sizeof err);
	if (rc != BBT_OK)
		diag("%s", err);
	is_int(rc, BBT_OK, "a deep setup on synthetic");
	is_int((long long)s.layers, 4, "one prompt per layer of the model");
	is_int((long long)s.D, (long long)(4 * 3 * s.info.hidden), "D = layers x P x H");

	/* sigma-hat and std of every layer, computed directly */
	const bbt_encoded_t *train = s.enc[BBT_RUN_TRAIN];
	struct bbt_batch b;
	bbt_encoded_batch(train, 0, train->n_seq, &b);
	b.n_labels = s.L;
	b.label_ids = s.label_ids;
	b.prompt_len = 3;
	b.prompt_layers = 4;
	size_t n = (train->offset[train->n_seq] + train->n_seq * 3) * s.info.hidden;
	float *h = malloc(n * sizeof *h);
	int hat_ok = s.layer_sigma_hat[0] == s.info.embed_std, std_ok = 1, mat_ok = 1;
	for (size_t l = 1; l < 4; l++) {
		s.be.entry->desc->backend->hidden_states(s.be.state, &b, l, h, err, sizeof err);
		double want = direct_clipped_std(h, n);
		if (fabs(s.layer_sigma_hat[l] - want) > 1e-9 * want) {
			hat_ok = 0;
			diag("layer %zu: sigma-hat %g, direct %g", l, s.layer_sigma_hat[l], want);
		}
	}
	for (size_t l = 0; l < 4; l++) {
		double want = 0.7 * s.layer_sigma_hat[l] / (sqrt(6.0) * 0.5);
		std_ok &= fabs(s.layer_std[l] - want) <= 1e-12 * want;
		const float *A = bbt_subspace_matrix(s.subs[l]);
		size_t na = bbt_subspace_out_dim(s.subs[l]) * 6;
		double ss = 0;
		for (size_t i = 0; i < na; i++)
			ss += (double)A[i] * A[i];
		if (fabs(sqrt(ss / (double)na) / want - 1) >= 0.1) {
			mat_ok = 0;
			diag("A_%zu: std %g, want %g", l, sqrt(ss / (double)na), want);
		}
	}
	free(h);
	ok(hat_ok, "sigma-hat: layer 0 the embeddings' std, layers 1-3 the clipped hidden std");
	ok(std_ok, "each layer's std = alpha sigma-hat / (sqrt(d) sigma)");
	ok(mat_ok, "each A_l drawn at its layer's std (within 10%%)");
	ok(s.layer_sigma_hat[3] > s.layer_sigma_hat[1], "the hidden states grow with depth here");
	ok(memcmp(bbt_subspace_matrix(s.subs[0]), bbt_subspace_matrix(s.subs[1]),
	          6 * sizeof(float)) != 0, "A_1 has its own seed");

	/* The loop, through a backend that records its prompts. */
	struct bbt_plugin desc = *s.be.entry->desc;
	struct bbt_backend_ops ops = *desc.backend;
	struct bbt_plugin_entry entry = *s.be.entry;
	const struct bbt_plugin_entry *saved = s.be.entry;
	real = desc.backend;
	ops.score = rec_score;
	desc.backend = &ops;
	entry.desc = &desc;
	s.be.entry = &entry;
	rec_D = s.D;
	rec_L = 4;
	rec_prev = calloc(s.D, sizeof *rec_prev);

	char dir[] = "/tmp/bbt-schedule-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		diag("mkdtemp: cannot make %s", dir);
		return 1;
	}
	struct bbt_budget budget = bbt_budget_init(p.budget);
	struct bbt_score_params sp = { "test", bbt_now() };
	bbt_score_t *sc = bbt_score_alloc(&s, &p, &budget, &sp, err, sizeof err);
	bbt_tuner_t *t = NULL;
	bbt_rundir_t *rd = NULL;
	rc = bbt_tuner_create(&p, &s, sc, &budget, &t, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_rundir_open(dir, BBT_TRACE_LAYER, &rd, err, sizeof err);
	struct bbt_loop_hooks hooks = { progress, NULL, bbt_now(), NULL, NULL };
	if (rc == BBT_OK)
		rc = bbt_tuner_run(t, rd, &hooks, err, sizeof err);
	if (rc != BBT_OK)
		diag("%s", err);
	is_int(rc, BBT_OK, "100 calls of 4 layers x 8 candidates run");
	is_int((long long)budget.calls, 96, "3 whole rounds: 96 API calls, the budget exactly");
	is_int((long long)rec_steps, 12, "12 generations scored");
	is_int((long long)(rec_bad_tuned + rec_bad_fixed + rec_bad_moved), 0,
	       "each generation varies its layer only; the others stay where they were");
	json_t *dj = bbt_tuner_deep_json(t);
	is_int(json_integer_value(json_object_get(dj, "rounds")), 3, "result.json's deep.rounds");
	json_decref(dj);
	json_t *res = json_object();
	bbt_rundir_finish(rd, res, err, sizeof err);
	json_decref(res);

	/* The trace: layer (batch - 1) mod 4 on every row. */
	char path[64];
	snprintf(path, sizeof path, "%s/trace.csv", dir);
	FILE *f = fopen(path, "r");
	char line[256];
	size_t rows = 0, bad = 0;
	int header = f && fgets(line, sizeof line, f) &&
	             strcmp(line, "call,batch,loss,best_loss,dev_metric,wall_s,layer\n") == 0;
	while (f && fgets(line, sizeof line, f)) {
		size_t call, batch, layer;
		char *last = strrchr(line, ',');
		if (sscanf(line, "%zu,%zu,", &call, &batch) != 2 || last == NULL ||
		    sscanf(last + 1, "%zu", &layer) != 1 || layer != (batch - 1) % 4 ||
		    call != ++rows)
			bad++;
	}
	if (f)
		fclose(f);
	ok(header, "the trace has a layer column");
	ok(rows == 96 && bad == 0, "96 rows, each naming the layer its batch tuned (%zu bad)", bad);
	bbt_tuner_free(t);
	bbt_score_free(sc);
	bbt_rundir_free(rd);
	free(rec_prev);
	s.be.entry = saved;
	bbt_setup_release(&s);
	bbt_plan_release(&p);
	bbt_config_release(&cfg);
	bbt_registry_free(reg);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
