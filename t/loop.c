/*
 * t/loop.c - the loop stage on its own: config, plan, setup, budget, then
 * bbt_tuner_create/bbt_tuner_run on the synthetic backend and the random
 * optimizer into a scratch run folder. The budget is spent exactly, the
 * trace has one row per call, and the selection agrees with what the dev
 * hook saw and with the trace's losses.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plugin/registry.h"
#include "run/loop.h"
#include "tap.h"
#include "tmptree.h"

#define BUDGET 60   /* a multiple of the popsize below */

struct seen {
	size_t n;          /* dev hook calls */
	double max;        /* the best metric it was given */
	size_t last_call;  /* the API call of the last one */
};

static void progress(void *ctx, int final)
{
	(void)ctx;
	(void)final;
}

static void on_dev(void *ctx, size_t call, double metric, const double *z, size_t d)
{
	struct seen *sn = ctx;
	(void)z;
	(void)d;
	if (sn->n++ == 0 || metric > sn->max)
		sn->max = metric;
	sn->last_call = call;
}

static void loop(bbt_registry_t *reg)
{
	char err[BBT_ERRLEN];
	struct bbt_config cfg;
	struct bbt_plan p;
	struct bbt_setup s;
	bbt_config_init(&cfg);
	const char *kv[][2] = { { "optimizer", "random" }, { "backend", "synthetic" },
		                { "task", "toy" }, { "dim", "8" }, { "prompt-len", "3" },
		                { "search-space", "20" }, { "popsize", "10" },
		                { "budget", "60" }, { "eval-every", "20" } };
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (bbt_config_set(&cfg, kv[i][0], kv[i][1], "test", err, sizeof err) < 0)
			diag("%s", err);
	memset(&s, 0, sizeof s);
	memset(&p, 0, sizeof p);
	int rc = bbt_plan_init(&p, &cfg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_resolve(&s, &p, reg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_open(&s, &p, err, sizeof err);
	struct bbt_budget b = bbt_budget_init(p.budget);
	bbt_score_t *sc = NULL;
	bbt_tuner_t *t = NULL;
	bbt_rundir_t *rd = NULL;
	if (rc == BBT_OK) {
		struct bbt_score_params sp = { "test", bbt_now() };
		sc = bbt_score_alloc(&s, &p, &b, &sp, err, sizeof err);
		rc = sc == NULL ? BBT_EINTERNAL : BBT_OK;
	}
	if (rc == BBT_OK)
		rc = bbt_tuner_create(&p, &s, sc, &b, &t, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_rundir_open(tree_path("run"), 0, &rd, err, sizeof err);
	is_int(rc, BBT_OK, "config, plan, setup, scorer, tuner and run folder");
	if (rc != BBT_OK) {
		diag("%s", err);
		skip(7, "no tuner");
		goto out;
	}

	struct seen sn = { 0, NAN, 0 };
	struct bbt_loop_hooks hooks = { progress, &sn, bbt_now(), on_dev, NULL };
	is_int(bbt_tuner_run(t, rd, &hooks, err, sizeof err), BBT_OK, "the loop runs");
	is_int((long long)b.calls, BUDGET, "the budget of %d calls is spent exactly", BUDGET);

	/* trace.csv.part, flushed after every batch: one row per call. */
	char *trace = tree_slurp("run/trace.csv.part");
	size_t rows = 0;
	double min_loss = NAN;
	char *line = trace ? strchr(trace, '\n') : NULL;   /* past the header */
	while (line != NULL && line[1] != '\0') {
		size_t call, batch;
		double loss;
		if (sscanf(line + 1, "%zu,%zu,%lf", &call, &batch, &loss) == 3) {
			rows++;
			if (isnan(min_loss) || loss < min_loss)
				min_loss = loss;
		}
		line = strchr(line + 1, '\n');
	}
	is_int((long long)rows, BUDGET, "the trace has one row per call");

	const struct bbt_selection *sel = bbt_tuner_selection(t);
	ok(sn.n > 0 && sn.last_call <= BUDGET, "the dev hook was called (%zu times)", sn.n);
	is_double(sel->best_dev, sn.max, 0, "best_dev is the best metric the dev hook saw");
	is_double(sel->best_loss, min_loss, 1e-6 * fabs(min_loss),
	          "best_loss is the lowest loss in the trace");
	is_string(sel->stop_reason, "maxfevals", "stopped by the budget");
	free(trace);
out:
	bbt_rundir_free(rd);
	bbt_tuner_free(t);
	bbt_score_free(sc);
	bbt_setup_release(&s);
	bbt_plan_release(&p);
	bbt_config_release(&cfg);
}

int main(void)
{
	if (getenv("top_srcdir") == NULL)
		skip_all("top_srcdir is not set (run through make check)");
	plan(8);
	unsetenv("BBTBENCH_PLUGIN_PATH");
	tree_init("bbt-loop");
	bbt_registry_t *reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);
	loop(reg);
	bbt_registry_free(reg);
	tree_remove();
	return done_testing();
}
