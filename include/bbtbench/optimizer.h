/*
 * bbtbench/optimizer.h - the optimizer plugin contract (ask/tell).
 *
 * An optimizer minimises a loss over a declared search space without ever
 * seeing the model. The host drives it:
 *
 *     create(host, &params, &state, &info, err, errlen)
 *     loop:
 *         ask(state, x, &n, ...)          n <= info.batch candidates, row-major n x dim
 *         host scores all n in one backend call, counts n API calls
 *         tell(state, x, n, loss, NULL, ...)   BBT_STOP when a stop criterion holds
 *     recommend(state, xbest)             the point the optimizer stands for
 *     free(state)
 *
 * With ABI 1.3 the host also checkpoints the state after each tell
 * (save_state) and, on --resume, loads it into a fresh one (load_state).
 *
 * Search spaces:
 *   BBT_SPACE_BOX          z in R^dim, optionally bounded to [-bound, bound]^dim;
 *                          candidates are the real coordinates.
 *   BBT_SPACE_CATEGORICAL  dim = L positions, each one of `choices` = K values;
 *                          a candidate holds L integers 0..K-1 stored as doubles.
 *
 * The budget is the host's: when fewer evaluations remain than asked for, the
 * host scores only the first ones, does not call tell, and ends the run. An
 * optimizer may therefore be freed after any ask.
 *
 * White-box optimizers (flag BBT_OPTIMIZER_WANTS_GRADIENT) receive, in tell,
 * the gradient of the loss with respect to each candidate (n x dim); the
 * others get grad == NULL.
 *
 * Stop reasons use pycma's names: "maxfevals", "tolfun", "tolx",
 * "tolupsigma", "conditioncov", "stagnation", so results line up with
 * pycma-based references.
 */
#ifndef BBTBENCH_OPTIMIZER_H
#define BBTBENCH_OPTIMIZER_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/host.h>
#include <bbtbench/state.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bbt_space_kind {
	BBT_SPACE_BOX = 1,
	BBT_SPACE_CATEGORICAL = 2,
};

struct bbt_space {
	enum bbt_space_kind kind;
	size_t dim;      /* box: dimension d; categorical: positions L */
	double bound;    /* box: |z_i| <= bound, or 0 for unbounded */
	size_t choices;  /* categorical: K choices per position; box: 0 */
};

struct bbt_optimizer_params {
	struct bbt_space space;
	size_t popsize;    /* candidates per generation; 0: the optimizer's default */
	double sigma;      /* initial step size sigma0 (box spaces) */
	const double *x0;  /* start point, dim values; NULL: the origin */
	size_t budget;     /* evaluations the host will allow (for schedules); 0: unknown */
	uint64_t seed;     /* the run seed (the host's rng stream is already seeded from it) */
};

struct bbt_optimizer_info {
	size_t batch;      /* most candidates one ask returns; set by create */
};

/* One named number of the optimizer's state, for result.json and the trace
 * (pycma's names where they exist: "sigma", "countiter", "countevals"). */
struct bbt_optimizer_stat {
	const char *name;
	double value;
};

struct bbt_optimizer_ops {
	/* Allocate the state for one run. Returns 0, or a negative status with
	 * a message in err. On failure *state is left NULL. */
	int (*create)(const bbt_host_t *host, const struct bbt_optimizer_params *params,
	              void **state, struct bbt_optimizer_info *info,
	              char *err, size_t errlen);

	/* Write candidates into x (room for info.batch x dim values) and set
	 * *n to how many (1 <= n <= info.batch); the optimizer alone decides n. */
	int (*ask)(void *state, double *x, size_t *n, char *err, size_t errlen);

	/* Losses of the n candidates of the last ask, in the same order (x is
	 * the same buffer ask filled). grad: n x dim, or NULL. Returns 0, BBT_STOP
	 * when a stop criterion holds (see stop_reason), or a negative status. */
	int (*tell)(void *state, const double *x, size_t n, const double *loss,
	            const double *grad, char *err, size_t errlen);

	/* The point the optimizer currently recommends (dim values): the mean
	 * for evolution strategies, the current iterate for gradient methods,
	 * the arg-max for distributions over categories. */
	void (*recommend)(void *state, double *x);

	/* Why the last tell returned BBT_STOP (a pycma name), or NULL. */
	const char *(*stop_reason)(void *state);

	/* Optional (may be NULL): up to `cap` named numbers of the current
	 * state; returns how many were written. A value not known yet may be
	 * +-inf or NaN (result.json writes null). */
	size_t (*stats)(void *state, struct bbt_optimizer_stat *out, size_t cap);

	/* Release the state; NULL is a no-op. */
	void (*free)(void *state);

	/* ABI 1.1, optional (may be NULL; the host reads it only when the
	 * descriptor's abi_minor >= 1): the gradient estimate behind the last
	 * update and the point it was estimated at, dim values each, for
	 * `--grad-check`. Returns 0, or BBT_ENOTSUP when no estimate exists
	 * yet. Zeroth-order methods offer it. */
	int (*gradient_estimate)(void *state, double *at, double *grad);

	/* ABI 1.3, optional (both or neither; the host reads them only when
	 * abi_minor >= 3): the optimizer's whole state as a bbtbench/state.h
	 * blob, for the host's checkpoint after each generation (`--resume`).
	 * save_state is called between a tell and the next ask; it hands the
	 * blob to write(ctx, ...) in as many pieces as it likes. load_state is
	 * called on a state fresh from create, with the same params and
	 * options, before any ask; from it the optimizer must go on exactly as
	 * the saved one would have (the host restores the plugin's random
	 * stream beside it). Both return 0, or a negative status with one line
	 * in err (BBT_EFORMAT: a blob it does not accept); the host frees a
	 * state whose load failed. An optimizer without them restarts from
	 * scratch on --resume. */
	int (*save_state)(void *state, bbt_state_write_fn write, void *ctx, char *err,
	                  size_t errlen);
	int (*load_state)(void *state, const void *bytes, size_t len, char *err, size_t errlen);
};

/* Flags in the descriptor's `flags` field for optimizers. */
#define BBT_OPTIMIZER_WANTS_GRADIENT 0x1u  /* tell needs grad (white-box) */
#define BBT_OPTIMIZER_CATEGORICAL    0x2u  /* searches a categorical space */

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_OPTIMIZER_H */
