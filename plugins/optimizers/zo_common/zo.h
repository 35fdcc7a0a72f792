/*
 * zo.h - the gradient-step machinery shared by the zo-sgd, zo-adam and adam
 * optimizer plugins (compiled into each module; not a plugin).
 *
 * Both plugins estimate the gradient of the loss at the iterate z from q
 * random directions u_1..u_q and differ only in the step they take with
 * the estimate. The core owns everything else: options common to both,
 * the ask/tell protocol, the budget-exact batches, the recommendation and
 * the stats. A plugin supplies a struct zo_rule and the option entries of
 * its step, and takes its ops table from the core:
 *
 *     static const struct zo_rule rule = { .name = "zo-adam", .n_moments = 2,
 *                                          .configure = zo_adam_configure,
 *                                          .step = zo_adam_step };
 *     ZO_OPTIMIZER_OPS(ops, rule, zo_gradient_estimate);
 *
 * Estimator (Nesterov & Spokoiny 2017, "Random gradient-free minimization
 * of convex functions"; Liu et al. 2020, "A primer on zeroth-order
 * optimization in signal processing and machine learning", IEEE SPM):
 *
 *   forward  g = (s/q) sum_k (f(z + mu u_k) - f(z)) / mu * u_k
 *   central  g = (s/q) sum_k (f(z + mu u_k) - f(z - mu u_k)) / (2 mu) * u_k
 *
 * with u_k ~ N(0, I) and s = 1 (directions=gaussian), or u_k uniform on the
 * unit sphere and s = d (directions=sphere), so that E[s u u^T] = I and the
 * estimate is unbiased for the gradient of the mu-smoothed loss.
 *
 * One ask is one batch: forward [z, z + mu u_1, ..., z + mu u_q] (q + 1
 * candidates, f(z) included), central [z + mu u_1, z - mu u_1, ...] (2q).
 *
 * A first-order rule (white-box `adam`) takes the host's true gradient
 * instead: one ask is the iterate z alone, and tell brings its gradient.
 */
#ifndef BBT_ZO_H
#define BBT_ZO_H

#include <stddef.h>
#include <bbtbench/plugin.h>

/* Options both plugins declare, first in their tables. Defaults: q = 0
 * takes the batch from the host's popsize (BBT's 20: the same calls per
 * step as one CMA-ES generation); mu is 1e-2 of the BBT subspace's unit
 * scale (sigma0 = 1), well above the float noise of backend logits. */
#define ZO_COMMON_OPTIONS                                                                  \
	{ "q", BBT_OPT_INT, "0", NULL, 0, 1e6,                                               \
	  "random directions per gradient; 0: from popsize (forward popsize-1, central "    \
	  "popsize/2; 20 when popsize is 0)" },                                              \
	{ "mu", BBT_OPT_DOUBLE, "0.01", NULL, 1e-12, 1e6, "finite-difference step" },        \
	{ "directions", BBT_OPT_CHOICE, "gaussian", "gaussian|sphere", 0, 0,                 \
	  "u ~ N(0, I), or uniform on the unit sphere (estimate scaled by d)" },             \
	{ "difference", BBT_OPT_CHOICE, "forward", "forward|central", 0, 0,                  \
	  "forward: q + 1 calls per step, f(z) included; central: 2q calls" }

#define ZO_MAX_HYPER 8
#define ZO_MAX_MOMENTS 2

/* The step a plugin takes with the gradient, and where the gradient comes
 * from. */
struct zo_rule {
	const char *name;    /* the plugin's name, for messages */
	int first_order;     /* 1: the host's true gradient (no ZO_COMMON_OPTIONS);
	                      * 0: the finite-difference estimate */
	size_t n_moments;    /* per-coordinate state vectors (<= ZO_MAX_MOMENTS), zeroed at start */
	/* Read the step's options into hyper[ZO_MAX_HYPER]; 0 or a negative status. */
	int (*configure)(const bbt_host_t *host, double *hyper, char *err, size_t errlen);
	/* One step from z with estimate g; t is the step number, 1-based. */
	void (*step)(const double *hyper, size_t t, size_t d, const double *g, double **moments,
	             double *z);
	/* Names of hyper[0..n) for the stats ("lr", ...), NULL-terminated; may be NULL. */
	const char *const *hyper_names;
};

/* Adam (Kingma & Ba, ICLR 2015), the step of zo-adam and adam (adam_step.c):
 * its options after ZO_COMMON_OPTIONS (the learning rate's default is the
 * plugin's), and the rule's functions with n_moments = 2. */
#define ZO_ADAM_OPTIONS(lr_default)                                                  \
	{ "lr", BBT_OPT_DOUBLE, lr_default, NULL, 0, 1e6, "learning rate" },           \
	{ "beta1", BBT_OPT_DOUBLE, "0.9", NULL, 0, 1, "first-moment decay" },          \
	{ "beta2", BBT_OPT_DOUBLE, "0.999", NULL, 0, 1, "second-moment decay" },       \
	{ "eps", BBT_OPT_DOUBLE, "1e-8", NULL, 0, 1, "added to sqrt(v)" }
extern const char *const zo_adam_hyper_names[];
int zo_adam_configure(const bbt_host_t *host, double *hyper, char *err, size_t errlen);
void zo_adam_step(const double *hyper, size_t t, size_t d, const double *g, double **moments,
                  double *z);

/* The gradient estimate g (d values) from q directions u (q x d, row-major)
 * and the batch's losses f in ask order (forward: q + 1, central: 2q). */
void zo_estimate(size_t d, size_t q, const double *u, const double *f, double mu, int central,
                 int sphere, double *g);

/* A plugin's ops table NAME: create binds the plugin's rule (RULE, a
 * struct zo_rule), every other function is the core's. ESTIMATE is
 * zo_gradient_estimate for a finite-difference rule, NULL for a
 * first-order one (its gradient is the true one: nothing to check). */
#define ZO_OPTIMIZER_OPS(NAME, RULE, ESTIMATE)                                               \
	static int NAME##_create(const bbt_host_t *host, const struct bbt_optimizer_params *p,  \
	                         void **state, struct bbt_optimizer_info *info, char *err,      \
	                         size_t errlen)                                                 \
	{                                                                                       \
		return zo_create(host, p, &(RULE), state, info, err, errlen);                   \
	}                                                                                       \
	static const struct bbt_optimizer_ops NAME = {                                          \
		.create = NAME##_create, .ask = zo_ask, .tell = zo_tell,                        \
		.recommend = zo_recommend, .stop_reason = zo_stop_reason, .stats = zo_stats,    \
		.free = zo_free, .gradient_estimate = (ESTIMATE),                               \
		.save_state = zo_save_state, .load_state = zo_load_state,                       \
	}

/* The optimizer contract, for the plugins' ops tables. */
int zo_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
              const struct zo_rule *rule, void **state, struct bbt_optimizer_info *info,
              char *err, size_t errlen);
int zo_ask(void *state, double *x, size_t *n, char *err, size_t errlen);
int zo_tell(void *state, const double *x, size_t n, const double *loss, const double *grad,
            char *err, size_t errlen);
void zo_recommend(void *state, double *x);
const char *zo_stop_reason(void *state);
size_t zo_stats(void *state, struct bbt_optimizer_stat *out, size_t cap);
/* The estimate of the last step and the iterate it was taken at (ABI 1.1,
 * for --grad-check); BBT_ENOTSUP before the first step. */
int zo_gradient_estimate(void *state, double *at, double *grad);
void zo_free(void *state);
/* The iterate, the rule's moments, the last estimate and the counters as a
 * bbtbench/state.h blob, and back (ABI 1.3); the directions are not in
 * it: the next ask draws them anew. */
int zo_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err, size_t errlen);
int zo_load_state(void *state, const void *bytes, size_t len, char *err, size_t errlen);

#endif /* BBT_ZO_H */
