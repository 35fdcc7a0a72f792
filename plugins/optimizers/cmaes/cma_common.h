/*
 * cma_common.h - the CMA-ES engine shared by the `cmaes` (full covariance)
 * and `sepcmaes` (diagonal covariance, Ros & Hansen 2008) plugins.
 *
 * Both plugins are the same algorithm - Hansen's tutorial, "The CMA
 * Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016), with pycma's
 * defaults - and differ only in how the covariance matrix C is stored,
 * sampled from and updated. So the strategy parameters (weights, mu_eff,
 * learning rates), cumulative step-size adaptation, the bound handling and
 * the stop tests live here once; each plugin's source is its descriptor and
 * an ops table that says which covariance model it wants:
 *
 *     BBT_CMA_OPS(ops, BBT_CMA_FULL);
 *
 * The functions below have the signatures of struct bbt_optimizer_ops, so
 * the table (BBT_CMA_OPS, at the end) points straight at them. The symbols are not
 * exported from the modules (only bbt_plugin is).
 */
#ifndef BBT_CMA_COMMON_H
#define BBT_CMA_COMMON_H

#include <stddef.h>
#include <bbtbench/plugin.h>

enum bbt_cma_model {
	BBT_CMA_FULL = 0,      /* full C, lazy eigendecomposition (LAPACK dsyevd) */
	BBT_CMA_SEPARABLE = 1, /* diagonal C, learning rates scaled by (n+2)/3 */
};

/* The option table both plugins declare (the same options, the same
 * defaults). Ends in a zeroed entry. */
extern const struct bbt_option_spec bbt_cma_options[];

/* Allocate a run's state. Refuses non-box spaces, popsize 1, a sigma that
 * is not a positive finite number and an x0 outside the bounds. */
int bbt_cma_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
                   enum bbt_cma_model model, void **state,
                   struct bbt_optimizer_info *info, char *err, size_t errlen);

/* Sample lambda candidates. */
int bbt_cma_ask(void *state, double *x, size_t *n, char *err, size_t errlen);

/* Rank the lambda losses (NaN ranks last), update the distribution, run
 * the stop tests: 0, BBT_STOP, or a negative status. */
int bbt_cma_tell(void *state, const double *x, size_t n, const double *loss,
                 const double *grad, char *err, size_t errlen);

/* The mean (folded into the bounds, if any). */
void bbt_cma_recommend(void *state, double *x);

/* "tolfun", "tolx", "tolupsigma", "conditioncov", "stagnation",
 * "maxiter", or NULL while running. */
const char *bbt_cma_stop_reason(void *state);

/* sigma, countiter, countevals, condition, best_loss. */
size_t bbt_cma_stats(void *state, struct bbt_optimizer_stat *out, size_t cap);

/* The best candidate ever told (dim values; x0 or the origin before the
 * first tell) - the mean is the recommendation, this is the other answer. */
void bbt_cma_best(void *state, double *x);

/* The distribution, the counters, the best point and the stop tests'
 * histories as a bbtbench/state.h blob, and back (ABI 1.3). A generation's
 * samples are not in it: the next ask draws them anew. */
int bbt_cma_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err,
                       size_t errlen);
int bbt_cma_load_state(void *state, const void *bytes, size_t len, char *err, size_t errlen);

/* NULL is a no-op. */
void bbt_cma_free(void *state);

/* A plugin's ops table NAME for the VARIANT (BBT_CMA_FULL or
 * BBT_CMA_SEPARABLE): create binds the variant, every other function is
 * the engine's. */
#define BBT_CMA_OPS(NAME, VARIANT)                                                           \
	static int NAME##_create(const bbt_host_t *host, const struct bbt_optimizer_params *p,  \
	                         void **state, struct bbt_optimizer_info *info, char *err,      \
	                         size_t errlen)                                                 \
	{                                                                                       \
		return bbt_cma_create(host, p, (VARIANT), state, info, err, errlen);             \
	}                                                                                       \
	static const struct bbt_optimizer_ops NAME = {                                          \
		.create = NAME##_create, .ask = bbt_cma_ask, .tell = bbt_cma_tell,              \
		.recommend = bbt_cma_recommend, .stop_reason = bbt_cma_stop_reason,            \
		.stats = bbt_cma_stats, .free = bbt_cma_free,                                   \
		.save_state = bbt_cma_save_state, .load_state = bbt_cma_load_state,             \
	}

#endif /* BBT_CMA_COMMON_H */
