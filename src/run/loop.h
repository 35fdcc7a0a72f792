/*
 * loop.h - a tuned run's optimizer and its ask/score/tell loop:
 *
 *     until the budget is spent, the optimizer stops or Ctrl-C:
 *         optimizer.ask -> n candidates; the budget grants m <= n
 *         score m on the training batch (or their true gradients)
 *         loss per candidate, one API call each; every eval-every calls
 *             the best-so-far on dev, the best on dev kept
 *         optimizer.tell (unless the budget ended inside the batch)
 *         --grad-check: the estimate against the true gradient
 *         the batch's trace rows, flushed
 *
 *     bbt_tuner_t *t;
 *     bbt_tuner_create(&plan, &setup, sc, &budget, &t, err, n);   before the folder
 *     bbt_tuner_run(t, rundir, &hooks, err, n);
 *     bbt_tuner_selection(t)->best_dev_z ... the prompt to test
 *     bbt_tuner_free(t);
 *
 * A tuner holds one optimizer over the whole prompt (a deep prompt's
 * joint schedule: over every layer's z); with deep prompts' layerwise
 * schedule (schedule.h) one per layer, the schedule picking the one to ask
 * each step: its candidates are scored with the other layers at their
 * best points (a white-box step on its layer's part of the gradient), and
 * the budget is whole rounds of the schedule.
 */
#ifndef BBT_LOOP_H
#define BBT_LOOP_H

#include <stddef.h>
#include <jansson.h>
#include <bbtbench/state.h>
#include "run/budget.h"
#include "run/plan.h"
#include "run/results.h"
#include "run/score.h"
#include "run/setup.h"

/* What a run selected: the loop's (or a baseline's) best losses and dev
 * metrics. */
struct bbt_selection {
	double best_loss;          /* lowest training loss seen; NaN: none */
	double best_dev;           /* best dev metric seen; NaN: none */
	size_t best_dev_call;      /* the API call at which it was reached */
	const double *best_dev_z;  /* its point (layers x d values), owned by the tuner; or NULL */
	const char *stop_reason;   /* pycma's names: maxfevals, tolx, ...; "interrupted" */
	size_t grad_cos_n;         /* --grad-check: steps with a cosine */
	double grad_cos_sum;       /* and their sum */
};

/* The rule by which a run keeps its best-on-dev point: a dev metric
 * replaces the best when there is none yet or it is strictly higher, so a
 * tie keeps the earlier point. bbt_trail_eval replays it on prompts.tsv. */
int bbt_selection_improves(double best_dev, double dev_metric);

/* Called after each batch (final 0) to report progress. */
struct bbt_loop_hooks {
	void (*progress)(void *ctx, int final);
	void *ctx;
	double t0;                 /* the run's start (bbt_now): the trace's wall_s */
	/* Called when dev scores a new best-so-far point z (d: layers x d values) at an
	 * API call; or NULL. */
	void (*dev)(void *ctx, size_t call, double metric, const double *z, size_t d);
	/* Called after each generation the optimizer was told (its trace
	 * rows flushed): the point a checkpoint resumes from; or NULL. A
	 * negative status ends the run with that error. */
	int (*generation)(void *ctx, char *err, size_t errlen);
};

typedef struct bbt_tuner bbt_tuner_t;

/* Check that the plugins can do what the plan asks (gradients), create the
 * optimizer over the setup's search space, and the batch buffers. */
int bbt_tuner_create(const struct bbt_plan *p, const struct bbt_setup *s, bbt_score_t *sc,
                     struct bbt_budget *b, bbt_tuner_t **out, char *err, size_t errlen);
void bbt_tuner_free(bbt_tuner_t *t);

/* The loop, writing the trace to rd. 0 when the budget ran out, the
 * optimizer stopped or the run was interrupted (bbt_run_interrupted). */
int bbt_tuner_run(bbt_tuner_t *t, bbt_rundir_t *rd, const struct bbt_loop_hooks *hooks,
                  char *err, size_t errlen);

const struct bbt_selection *bbt_tuner_selection(const bbt_tuner_t *t);

/* Checkpoints (checkpoint.h): the loop's part of a run's state after a
 * generation - the budget spent, the selection, the optimizer's random
 * stream and each optimizer's own blob - and back into a tuner fresh from
 * bbt_tuner_create with the same plan. Restoring needs an optimizer that
 * saves its state (bbt_plugin_saves_state). */
int bbt_tuner_save(bbt_tuner_t *t, struct bbt_state_writer *w, char *err, size_t errlen);
int bbt_tuner_restore(bbt_tuner_t *t, struct bbt_state_reader *r, char *err, size_t errlen);

/* Deep runs: result.json's "deep" section (bbt_deep_json at the prompt
 * kept on dev); NULL for a BBT run. */
json_t *bbt_tuner_deep_json(const bbt_tuner_t *t);

/* The optimizer's state in pycma's names (result.json's "optimizer_state";
 * deep runs: the optimizer of the layer tuned last). */
json_t *bbt_tuner_state_json(const bbt_tuner_t *t);

#endif /* BBT_LOOP_H */
