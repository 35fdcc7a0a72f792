/*
 * score.h - every backend call of a run: label logits of encoded sequences
 * under a prompt, one function per kind of prompt.
 *
 *     bbt_score_t *sc = bbt_score_alloc(&setup, &plan, &budget, &params, err, n);
 *     bbt_score_continuous(sc, enc, 0, n, z, nv, logits, ...)   p = A z + p0, nv variants
 *     bbt_score_discrete(sc, enc, 0, n, idx, nv, logits, ...)   L candidate indices each
 *     bbt_score_plain(sc, enc, 0, n, logits, ...)              no prompt (baselines)
 *     bbt_score_gradient(sc, z, nv, logits, grad_z, ...)       white-box, training batch
 *     struct bbt_prompt pr = { BBT_PROMPT_CONTINUOUS, z };
 *     bbt_score_eval(sc, BBT_RUN_TEST, &pr, &ev, ...)         a whole split's metrics
 *     bbt_score_free(sc);
 *
 * Logits come back [nv][n][L]. Every call counts the positions it asks the
 * backend to score in the budget, and fails on a non-finite logit (a model
 * with NaN weights) instead of letting the run "finish" at chance.
 * Scoring a split under a fixed prompt needs nothing of the loop, so a
 * saved prompt can be re-scored on any split.
 */
#ifndef BBT_SCORE_H
#define BBT_SCORE_H

#include <stddef.h>
#include "data/template.h"
#include "run/baseline.h"
#include "run/budget.h"
#include "run/plan.h"
#include "run/setup.h"

/* One prompt, or nv of them laid out one after another. */
struct bbt_prompt {
	enum bbt_prompt_kind kind;
	const double *z;     /* CONTINUOUS: d coordinates; DISCRETE: L candidate indices;
	                        NONE: NULL */
};

/* A whole split's metrics under one prompt. */
struct bbt_eval {
	double metric;       /* the task's metric */
	double acc;
	double f1;           /* the positive label's F1, or macro-F1 */
};

struct bbt_score_params {
	const char *run_id;  /* names the run in a long split's progress lines */
	double t0;           /* the run's start (bbt_now), for the same */
};

typedef struct bbt_score bbt_score_t;

/* setup, plan and budget must outlive the scorer. NULL and a message when
 * out of memory. */
bbt_score_t *bbt_score_alloc(const struct bbt_setup *s, const struct bbt_plan *p,
                             struct bbt_budget *b, const struct bbt_score_params *params,
                             char *err, size_t errlen);
void bbt_score_free(bbt_score_t *sc);

/* Sequences [first, first+n) of enc under nv continuous prompts z (nv x d). */
int bbt_score_continuous(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                         const double *z, size_t nv, float *logits, char *err, size_t errlen);
/* The same under nv discrete prompts (nv x L candidate indices), spliced
 * into every sequence as tokens; an index out of range is the optimizer's
 * bug (BBT_EINTERNAL naming it). */
int bbt_score_discrete(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                       const double *idx, size_t nv, float *logits, char *err, size_t errlen);
/* The same with no prompt. */
int bbt_score_plain(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                    float *logits, char *err, size_t errlen);
/* By the prompt's kind (NONE: nv must be 1). */
int bbt_score_prompts(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                      const struct bbt_prompt *pr, size_t nv, float *logits, char *err,
                      size_t errlen);

/* White-box: the training batch under nv continuous prompts z, its logits
 * (nv x n_train x L) and the gradient of the plan's loss with respect to
 * each z (nv x d): grad_z[v] = A^T dL/dp[v]. */
int bbt_score_gradient(bbt_score_t *sc, const double *z, size_t nv, float *logits,
                       double *grad_z, char *err, size_t errlen);

/* Logits [n_seq][L] of a whole encoded set under one prompt, in chunks that
 * bound the backend's memory (a long one shows its progress). */
int bbt_score_split(bbt_score_t *sc, const bbt_encoded_t *enc, const struct bbt_prompt *pr,
                    float *out, char *err, size_t errlen);

/* The metrics of one prompt over a whole split; counts a dev or test
 * evaluation in the budget. */
int bbt_score_eval(bbt_score_t *sc, enum bbt_run_split split, const struct bbt_prompt *pr,
                   struct bbt_eval *ev, char *err, size_t errlen);

/* The same over any encoded set (bbt_setup_encode), counting nothing. */
int bbt_score_eval_set(bbt_score_t *sc, const bbt_encoded_t *enc, const struct bbt_prompt *pr,
                       struct bbt_eval *ev, char *err, size_t errlen);

/* Calibrate the scores of one prompt: content-free inputs rendered exactly
 * like the examples, offsets chosen on dev (Zhao et al. 2021). */
int bbt_score_calibrate(bbt_score_t *sc, const struct bbt_prompt *pr,
                        struct bbt_calibration *cal, char *err, size_t errlen);

#endif /* BBT_SCORE_H */
