/*
 * nmsimplex.c - the `nmsimplex` optimizer: GSL's Nelder-Mead simplex
 * (gsl_multimin_fminimizer_nmsimplex2), a derivative-free local method that
 * needs no population and no step-size adaptation of its own.
 *
 * GSL's minimizer is callback-driven: gsl_multimin_fminimizer_set and
 * _iterate call f themselves, one point at a time, and the next point
 * depends on the value just returned; its state is private, so the steps
 * cannot be taken apart. The plugin contract is ask/tell. The two meet in a
 * coroutine: GSL runs on a stack of its own (ucontext), and f hands the
 * point it wants to the host side and switches back; `ask` returns that
 * point (a batch of 1), `tell` stores its loss and switches to GSL, which
 * returns it from f and runs until it wants the next point, converges or
 * fails. So GSL's own code takes every step, exactly as it would calling a
 * function, at no cost beyond two context switches per evaluation.
 * (Replaying GSL from the start against a cache of told values would do
 * the same at a cost quadratic in the evaluations.)
 *
 * The simplex starts at x0 (or the origin) with one step per coordinate,
 * `step` or the host's sigma; d + 1 evaluations build it before the first
 * iteration. A bounded space is searched through loss(clip(x)): the host
 * scores the clipped point. Stop: "tolx" when GSL's simplex size (the mean
 * distance of the vertices from their centre) falls below `tolx`; otherwise
 * the host's budget. The recommendation is the best point told so far,
 * which is always a vertex of the simplex (Nelder-Mead never drops its best).
 *
 * The state cannot be saved as such (GSL's minimizer is private and half
 * of it lives on the coroutine's stack), but it is a function of the
 * losses told: GSL is deterministic and draws no random numbers. So the
 * plugin keeps every loss it was told, save_state writes them, and
 * load_state replays them into a fresh coroutine, which takes GSL through
 * the same steps to the same point (linear in the evaluations).
 *
 * Freeing after any ask is safe: the suspended GSL stack holds no resource
 * of its own (its vectors belong to the minimizer, freed here), so it is
 * dropped without being resumed.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

#include <bbtbench/plugin.h>


/* GSL's iterate and our f need a few KiB; the margin is for sanitizer
 * builds, whose frames are larger. */
#define GSL_STACK_BYTES ((size_t)256 * 1024)

static const struct bbt_option_spec options[] = {
	{ "step", BBT_OPT_DOUBLE, "0", NULL, 0, DBL_MAX,
	  "initial simplex step per coordinate; 0: sigma" },
	{ "tolx", BBT_OPT_DOUBLE, "1e-11", NULL, 0, DBL_MAX,
	  "stop when the simplex size falls below this; 0: never" },
	{ 0 },
};

/* Where the GSL side stands after it switched back to the host. */
enum gsl_phase {
	GSL_WANTS_POINT,  /* f is waiting for the loss of `want` */
	GSL_CONVERGED,    /* the simplex size fell below tolx */
	GSL_FAILED,       /* set or iterate returned gsl_status */
};

struct nelder_mead {
	size_t dim;
	double bound;             /* 0: unbounded */
	double tolx;
	gsl_multimin_fminimizer *minimizer;
	gsl_multimin_function fn; /* nm_f, with this struct as params */
	gsl_vector *x0, *steps;
	ucontext_t host_ctx, gsl_ctx;
	void *stack;              /* GSL_STACK_BYTES for gsl_ctx */
	enum gsl_phase phase;
	int gsl_status;           /* GSL_FAILED: GSL's code */
	double *want;             /* dim: the point GSL waits on, clipped */
	double told;              /* its loss, for f to return */
	int asked;                /* 1 between an ask and its tell */
	double *best;             /* dim: the best point told */
	double best_loss;         /* +inf before the first finite loss */
	size_t countevals, countiter;
	double *history;          /* countevals losses told, for save_state */
	size_t history_cap;
};

static void nm_free(void *state)
{
	struct nelder_mead *nm = state;
	if (nm == NULL)
		return;
	gsl_multimin_fminimizer_free(nm->minimizer);
	gsl_vector_free(nm->x0);
	gsl_vector_free(nm->steps);
	free(nm->stack);
	free(nm->want);
	free(nm->best);
	free(nm->history);
	free(nm);
}

/* GSL's f: hand the point to the host side, wait for its loss. */
static double nm_f(const gsl_vector *x, void *params)
{
	struct nelder_mead *nm = params;
	for (size_t i = 0; i < nm->dim; i++) {
		double v = gsl_vector_get(x, i);
		if (nm->bound > 0)
			v = v > nm->bound ? nm->bound : v < -nm->bound ? -nm->bound : v;
		nm->want[i] = v;
	}
	nm->phase = GSL_WANTS_POINT;
	swapcontext(&nm->gsl_ctx, &nm->host_ctx);
	return nm->told;
}

/* The GSL side: build the simplex, iterate until converged or failed.
 * makecontext passes only ints, so the state comes as two 32-bit halves. */
static void gsl_side(unsigned int hi, unsigned int lo)
{
	struct nelder_mead *nm = (struct nelder_mead *)(((uintptr_t)hi << 16 << 16) |
	                                                (uintptr_t)lo);
	int status = gsl_multimin_fminimizer_set(nm->minimizer, &nm->fn, nm->x0, nm->steps);
	while (status == GSL_SUCCESS) {
		status = gsl_multimin_fminimizer_iterate(nm->minimizer);
		if (status != GSL_SUCCESS)
			break;
		nm->countiter++;
		if (nm->tolx > 0 &&
		    gsl_multimin_test_size(gsl_multimin_fminimizer_size(nm->minimizer), nm->tolx) ==
		            GSL_SUCCESS) {
			nm->phase = GSL_CONVERGED;
			return; /* uc_link: back to the host */
		}
	}
	nm->phase = GSL_FAILED;
	nm->gsl_status = status;
}

/* Run the GSL side until it wants a point, converges or fails. */
static int resume_gsl(struct nelder_mead *nm, char *err, size_t errlen)
{
	if (swapcontext(&nm->host_ctx, &nm->gsl_ctx) != 0)
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "nmsimplex: cannot switch to GSL's stack (swapcontext failed)");
	return BBT_OK;
}

static int check_params(const struct bbt_optimizer_params *p, double step, char *err,
                        size_t errlen)
{
	const struct bbt_space *sp = &p->space;
	if (sp->kind != BBT_SPACE_BOX)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: needs a real (box) search space, not a categorical one");
	if (sp->dim == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: the search space has dimension 0");
	if (!(sp->bound >= 0) || !isfinite(sp->bound))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: space bound %g is not a finite number >= 0",
		                 sp->bound);
	if (!(step > 0) || !isfinite(step)) {
		return bbt_error(err, errlen, BBT_EINVAL,
		        "nmsimplex: initial step %g is not a positive number; set step=S or a "
		        "positive sigma", step);
	}
	if (p->x0 != NULL)
		for (size_t i = 0; i < sp->dim; i++)
			if (!isfinite(p->x0[i]))
				return bbt_error(err, errlen, BBT_EINVAL,
				                 "nmsimplex: x0[%zu] = %g is not a finite number",
				                 i, p->x0[i]);
	return BBT_OK;
}

static int nm_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
                     void **state, struct bbt_optimizer_info *info, char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: create called with a NULL argument");
	double step = host->opt_double(host->ctx, "step");
	if (step == 0)
		step = params->sigma;
	int rc = check_params(params, step, err, errlen);
	if (rc < 0)
		return rc;
	/* GSL's default error handler aborts the process (STYLE 6); a plugin
	 * must not, whichever host loads it. bbtbench's main does the same. */
	gsl_set_error_handler_off();

	size_t d = params->space.dim;
	struct nelder_mead *nm = calloc(1, sizeof *nm);
	if (nm == NULL || d > SIZE_MAX / sizeof(double) ||
	    (nm->want = calloc(d, sizeof *nm->want)) == NULL ||
	    (nm->best = calloc(d, sizeof *nm->best)) == NULL ||
	    (nm->stack = malloc(GSL_STACK_BYTES)) == NULL ||
	    (nm->x0 = gsl_vector_calloc(d)) == NULL || (nm->steps = gsl_vector_alloc(d)) == NULL ||
	    (nm->minimizer = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2,
	                                                   d)) == NULL) {
		nm_free(nm);
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "nmsimplex: out of memory for a %zu-dimensional simplex", d);
	}
	nm->dim = d;
	nm->bound = params->space.bound;
	nm->tolx = host->opt_double(host->ctx, "tolx");
	nm->best_loss = HUGE_VAL;
	gsl_vector_set_all(nm->steps, step);
	if (params->x0 != NULL) {
		for (size_t i = 0; i < d; i++)
			gsl_vector_set(nm->x0, i, params->x0[i]);
		memcpy(nm->best, params->x0, d * sizeof *nm->best);
	}
	nm->fn.f = nm_f;
	nm->fn.n = d;
	nm->fn.params = nm;

	if (getcontext(&nm->gsl_ctx) != 0) {
		nm_free(nm);
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "nmsimplex: cannot make GSL's context (getcontext failed)");
	}
	nm->gsl_ctx.uc_stack.ss_sp = nm->stack;
	nm->gsl_ctx.uc_stack.ss_size = GSL_STACK_BYTES;
	nm->gsl_ctx.uc_link = &nm->host_ctx;
	uintptr_t self = (uintptr_t)nm;
	makecontext(&nm->gsl_ctx, (void (*)(void))gsl_side, 2, (unsigned int)(self >> 16 >> 16),
	            (unsigned int)(self & 0xffffffffu));
	/* Up to GSL's first f call: the first vertex, x0. */
	rc = resume_gsl(nm, err, errlen);
	if (rc == BBT_OK && nm->phase != GSL_WANTS_POINT) {
		rc = bbt_error(err, errlen, BBT_EINTERNAL, "nmsimplex: GSL's set-up failed: %s",
		               gsl_strerror(nm->gsl_status));
	}
	if (rc < 0) {
		nm_free(nm);
		return rc;
	}
	info->batch = 1;
	*state = nm;
	return BBT_OK;
}

static int nm_ask(void *state, double *x, size_t *n, char *err, size_t errlen)
{
	struct nelder_mead *nm = state;
	if (nm == NULL || x == NULL || n == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: ask called with a NULL argument");
	if (nm->phase != GSL_WANTS_POINT)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: ask after the simplex has stopped");
	memcpy(x, nm->want, nm->dim * sizeof *x);
	*n = 1;
	nm->asked = 1;
	return BBT_OK;
}

/* Hand GSL the loss of the point it waits on, keep it in the history and
 * run GSL to its next point (or its end). */
static int feed(struct nelder_mead *nm, double loss, char *err, size_t errlen)
{
	if (nm->countevals == nm->history_cap) {
		size_t cap = nm->history_cap ? 2 * nm->history_cap : 256;
		double *h = cap < SIZE_MAX / sizeof *h ? realloc(nm->history, cap * sizeof *h) : NULL;
		if (h == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM,
			                 "nmsimplex: out of memory for %zu losses", cap);
		nm->history = h;
		nm->history_cap = cap;
	}
	nm->history[nm->countevals++] = loss;
	nm->told = loss;
	return resume_gsl(nm, err, errlen);
}

static int nm_tell(void *state, const double *x, size_t n, const double *loss,
                   const double *grad, char *err, size_t errlen)
{
	struct nelder_mead *nm = state;
	(void)grad; /* derivative-free: gradients are never asked for */
	if (nm == NULL || x == NULL || loss == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: tell called with a NULL argument");
	if (!nm->asked || n != 1)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: tell with %zu losses, but the last ask gave %d " "candidates",
		                 n, nm->asked);
	nm->asked = 0;
	/* Strictly lower wins; a NaN loss is never best. */
	if (loss[0] < nm->best_loss) {
		nm->best_loss = loss[0];
		memcpy(nm->best, x, nm->dim * sizeof *nm->best);
	}
	int rc = feed(nm, loss[0], err, errlen);
	if (rc < 0)
		return rc;
	if (nm->phase == GSL_CONVERGED)
		return BBT_STOP;
	if (nm->phase == GSL_FAILED)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "nmsimplex: GSL's simplex stopped after %zu evaluations: %s " "(a loss was not a finite number)",
		                 nm->countevals, gsl_strerror(nm->gsl_status));
	return BBT_OK;
}

static void nm_recommend(void *state, double *x)
{
	const struct nelder_mead *nm = state;
	if (nm == NULL || x == NULL)
		return;
	memcpy(x, nm->best, nm->dim * sizeof *x);
}

static const char *nm_stop_reason(void *state)
{
	const struct nelder_mead *nm = state;
	return nm != NULL && nm->phase == GSL_CONVERGED ? "tolx" : NULL;
}

static size_t nm_stats(void *state, struct bbt_optimizer_stat *out, size_t cap)
{
	const struct nelder_mead *nm = state;
	if (nm == NULL || out == NULL)
		return 0;
	/* GSL's size is set by set (d + 1 evaluations) and each iterate;
	 * before that there is none. */
	double size = nm->countiter > 0 || nm->countevals > nm->dim
		? gsl_multimin_fminimizer_size(nm->minimizer) : NAN;
	const struct bbt_optimizer_stat all[] = {
		{ "countevals", (double)nm->countevals },
		{ "countiter", (double)nm->countiter },
		{ "size", size },
		{ "best_loss", nm->best_loss },
	};
	size_t k = sizeof all / sizeof all[0];
	if (k > cap)
		k = cap;
	memcpy(out, all, k * sizeof *out);
	return k;
}

/* The blob's layout; bump when fields change. */
#define NM_STATE_FORMAT 1

static int nm_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err,
                         size_t errlen)
{
	const struct nelder_mead *nm = state;
	struct bbt_state_writer w = bbt_state_writer(write, ctx);
	bbt_state_begin(&w, "nmsimplex", NM_STATE_FORMAT);
	bbt_state_put_f64(&w, "losses", nm->history, nm->countevals);
	bbt_state_put_f64(&w, "best", nm->best, nm->dim);
	bbt_state_put_f64(&w, "best_loss", &nm->best_loss, 1);
	return bbt_state_end(&w, "nmsimplex", err, errlen);
}

/* Replay the saved losses through the fresh coroutine: GSL asks for the
 * same points in the same order, so it ends where the saved one stood. */
static int nm_load_state(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
	struct nelder_mead *nm = state;
	struct bbt_state_reader r = bbt_state_reader(bytes, len, "nmsimplex state", err, errlen);
	bbt_state_expect(&r, "nmsimplex", NM_STATE_FORMAT);
	size_t n = bbt_state_peek(&r, "losses", 'f');
	double *losses = malloc((n ? n : 1) * sizeof *losses);
	if (losses == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "nmsimplex: out of memory for %zu losses",
		                 n);
	bbt_state_get_f64(&r, "losses", losses, n);
	bbt_state_get_f64(&r, "best", nm->best, nm->dim);
	bbt_state_get_f64(&r, "best_loss", &nm->best_loss, 1);
	int rc = bbt_state_done(&r);
	if (rc == BBT_OK && nm->countevals != 0)
		rc = bbt_error(err, errlen, BBT_EINTERNAL,
		               "nmsimplex: load_state on a state that has been told losses");
	for (size_t i = 0; rc == BBT_OK && i < n; i++) {
		if (nm->phase != GSL_WANTS_POINT)
			rc = bbt_error(err, errlen, BBT_EFORMAT, "nmsimplex state: GSL's simplex "
			               "stopped at loss %zu of the %zu replayed (another run's losses?)",
			               i + 1, n);
		else
			rc = feed(nm, losses[i], err, errlen);
	}
	free(losses);
	nm->asked = 0;
	return rc;
}

static const struct bbt_optimizer_ops ops = {
	.create = nm_create,
	.ask = nm_ask,
	.tell = nm_tell,
	.recommend = nm_recommend,
	.stop_reason = nm_stop_reason,
	.stats = nm_stats,
	.free = nm_free,
	.save_state = nm_save_state,
	.load_state = nm_load_state,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "nmsimplex",
	.version = "1.0",
	.description = "Nelder-Mead simplex, GSL's nmsimplex2 (derivative-free, one candidate a call)",
	.options = options,
	.flags = 0,
	.optimizer = &ops,
	.backend = NULL,
};
