/*
 * run.h - one black-box tuning run, from settings to a results folder.
 *
 *   task YAML -> splits -> backend.open -> template/verbalizer -> tokens
 *   loop until the budget is spent or the optimizer stops:
 *       optimizer.ask -> z (n x d) -> p = A z + p0 (one sgemm)
 *       backend.score(train batch, n prompt variants) -> label logits
 *       loss per candidate -> trace -> optimizer.tell
 *       every --eval-every calls: best-so-far on dev; keep the best on dev
 *   best-on-dev prompt scored once on test -> result.json
 *
 * Everything that can be checked (task, data files, plugins, options,
 * label words) is checked before the results folder is touched, so a bad
 * setting never overwrites earlier results.
 */
#ifndef BBT_RUN_H
#define BBT_RUN_H

#include <stddef.h>
#include "plugin/registry.h"
#include "run/plan.h"
#include "run/runconfig.h"

struct bbt_run_summary {
	char run_dir[1024];
	char status[16];          /* "finished", "interrupted", "skipped" (already finished) */
	char metric[16];          /* the task metric's name */
	double train_loss;        /* best training loss seen */
	double dev_metric;        /* best dev metric */
	double test_metric;       /* test metric of the best-on-dev prompt */
	double test_acc;
	double test_metric_calibrated; /* --calibrate: the same prompt calibrated; else NaN */
	char method[16];          /* tune, manual, calibrated, icl */
	size_t api_calls;
	double wall;              /* seconds */
	char stop_reason[32];     /* "maxfevals" when the budget ran out */
};

struct bbt_run_flags {
	int force;                /* re-run a finished run */
	int resume;               /* go on from state.bin (its last finished generation) */
	/* Called with a tuning run's API calls so far, its budget and its
	 * seconds so far at each progress report (a grid's ETA); or NULL. */
	void (*on_progress)(void *ctx, size_t calls, size_t budget, double elapsed);
	void *progress_ctx;
};

/* Run (or, when the same settings already finished, report) one run.
 * Returns 0, BBT_EINTR when interrupted (results kept), BBT_RUNDIR_LOCKED
 * when another process is running it (nothing touched), or a negative
 * status: BBT_EINVAL/BBT_ENOTFOUND/BBT_EFORMAT for bad settings or input
 * (exit code 2), others for failures (exit code 1; a failure once the run
 * has started writes result.json with "status": "failed" and its "error"). */
int bbt_run(const struct bbt_config *cfg, bbt_registry_t *reg, const struct bbt_run_flags *flags,
            struct bbt_run_summary *summary, char *err, size_t errlen);

/* bbt_run_setting_matters() is in run/plan.h. */


/* Ctrl-C handling: the first SIGINT/SIGTERM asks the run to stop after the
 * current batch and save what it has; a second one kills the program. */
void bbt_run_install_signals(void);
int bbt_run_interrupted(void);

#endif /* BBT_RUN_H */
