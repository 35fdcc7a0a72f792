/*
 * random.c - the `random` optimizer: pure random search, the baseline that
 * every black-box prompt-tuning result should beat.
 *
 * Each ask draws a fresh batch of independent candidates; nothing is
 * learned from the losses except which candidate was best. Box spaces:
 * uniform in [-r, r]^d or N(0, r^2) per coordinate, centred on the origin
 * (the point that reproduces the unprompted model when p0 = 0), and kept
 * inside [-bound, bound] when the space is bounded. Categorical spaces:
 * every position a uniform choice in 0..K-1. The recommendation is the best
 * candidate seen so far (x0, or the origin, before the first tell).
 *
 * All randomness comes from the host's stream, so the same run seed gives
 * the same candidates. Random search never converges, so tell never returns
 * BBT_STOP: the host's budget ends the run.
 */
#include "config.h"

#include <float.h>
#include <math.h> /* isfinite, HUGE_VAL: macros only; the module needs no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>


/* Candidates per ask when the host leaves popsize at 0: CMA-ES's population
 * in BBT, so budgets compare call for call. */
#define DEFAULT_BATCH 20

static const struct bbt_option_spec options[] = {
	{ "distribution", BBT_OPT_CHOICE, "uniform", "uniform|normal", 0, 0,
	  "box spaces: uniform in [-r, r]^d, or N(0, r^2) per coordinate" },
	{ "radius", BBT_OPT_DOUBLE, "0", NULL, 0, DBL_MAX,
	  "r; 0: the space's bound if it has one, else sigma" },
	{ 0 },
};

struct random_search {
	const bbt_host_t *host;
	enum bbt_space_kind kind;
	size_t dim;
	size_t choices;     /* categorical: K */
	double bound;       /* box: 0 or the bound */
	double radius;      /* box: r, resolved */
	int normal;         /* box: 1 for N(0, r^2) */
	size_t batch;
	size_t asked;       /* candidates of the last ask not yet told; 0: none */
	double *best;       /* dim values */
	double best_loss;   /* +inf before the first finite loss */
	size_t countevals;
};

static void random_free(void *state)
{
	struct random_search *rs = state;
	if (rs == NULL)
		return;
	free(rs->best);
	free(rs);
}

/* Check the space and x0; resolve the radius. */
static int check_params(const bbt_host_t *host, const struct bbt_optimizer_params *p,
                        double *radius, char *err, size_t errlen)
{
	const struct bbt_space *sp = &p->space;
	*radius = 0;
	if (sp->dim == 0) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: the search space has dimension 0");
	}
	if (sp->kind == BBT_SPACE_CATEGORICAL) {
		if (sp->choices == 0) {
			return bbt_error(err, errlen, BBT_EINVAL, "random: categorical space with 0 choices per position");
		}
		if (p->x0 != NULL) {
			for (size_t i = 0; i < sp->dim; i++) {
				double v = p->x0[i];
				if (!(v >= 0 && v < (double)sp->choices) || v != (double)(size_t)v) {
					return bbt_error(err, errlen, BBT_EINVAL, 
         					        "random: x0[%zu] = %g is not a choice in 0..%zu",
         					        i, v, sp->choices - 1);
				}
			}
		}
		return BBT_OK;
	}
	if (sp->kind != BBT_SPACE_BOX) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: unknown search space kind %d", (int)sp->kind);
	}
	if (!(sp->bound >= 0) || !isfinite(sp->bound)) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: space bound %g is not a finite number >= 0", sp->bound);
	}
	double r = host->opt_double(host->ctx, "radius");
	if (!(r >= 0) || !isfinite(r)) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: radius %g is not a finite number >= 0", r);
	}
	if (r == 0)
		r = sp->bound > 0 ? sp->bound : p->sigma;
	if (!(r > 0) || !isfinite(r)) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "random: no search radius: radius is 0, the space is unbounded and "
         		        "sigma is %g; set radius=R or a positive sigma", p->sigma);
	}
	/* Uniform draws beyond the bound would only be clipped onto the faces
	 * of the box; shrink the box instead. */
	if (sp->bound > 0 && r > sp->bound)
		r = sp->bound;
	if (p->x0 != NULL) {
		for (size_t i = 0; i < sp->dim; i++) {
			double v = p->x0[i];
			if (!isfinite(v) || (sp->bound > 0 && (v > sp->bound || v < -sp->bound))) {
				return bbt_error(err, errlen, BBT_EINVAL, "random: x0[%zu] = %g is outside the search box",
         				        i, v);
			}
		}
	}
	*radius = r;
	return BBT_OK;
}

static int random_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
                         void **state, struct bbt_optimizer_info *info,
                         char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: create called with a NULL argument");
	}
	double radius;
	int rc = check_params(host, params, &radius, err, errlen);
	if (rc < 0)
		return rc;

	struct random_search *rs = calloc(1, sizeof *rs);
	if (rs == NULL || params->space.dim > SIZE_MAX / sizeof(double) ||
	    (rs->best = calloc(params->space.dim, sizeof *rs->best)) == NULL) {
		random_free(rs);
		return bbt_error(err, errlen, BBT_ENOMEM, "random: out of memory for a %zu-dimensional space",
         		        params->space.dim);
	}
	rs->host = host;
	rs->kind = params->space.kind;
	rs->dim = params->space.dim;
	rs->choices = params->space.choices;
	rs->bound = params->space.bound;
	rs->radius = radius;
	if (rs->kind == BBT_SPACE_BOX) {
		const char *dist = host->opt_string(host->ctx, "distribution");
		if (dist != NULL && strcmp(dist, "normal") == 0) {
			rs->normal = 1;
		} else if (dist != NULL && dist[0] != '\0' && strcmp(dist, "uniform") != 0) {
			random_free(rs);
			return bbt_error(err, errlen, BBT_EINVAL, "random: distribution \"%s\" is not uniform or normal", dist);
		}
	}
	rs->batch = params->popsize > 0 ? params->popsize : DEFAULT_BATCH;
	rs->best_loss = HUGE_VAL;
	if (params->x0 != NULL)
		memcpy(rs->best, params->x0, rs->dim * sizeof *rs->best);

	info->batch = rs->batch;
	*state = rs;
	return BBT_OK;
}

static int random_ask(void *state, double *x, size_t *n, char *err, size_t errlen)
{
	struct random_search *rs = state;
	if (rs == NULL || x == NULL || n == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: ask called with a NULL argument");
	}
	const bbt_host_t *h = rs->host;
	size_t total = rs->batch * rs->dim;
	for (size_t i = 0; i < total; i++) {
		double v;
		if (rs->kind == BBT_SPACE_CATEGORICAL) {
			v = (double)h->rng_uint(h->ctx, rs->choices);
		} else if (rs->normal) {
			v = rs->radius * h->rng_normal(h->ctx);
			if (rs->bound > 0)
				v = v > rs->bound ? rs->bound : v < -rs->bound ? -rs->bound : v;
		} else {
			v = rs->radius * (2.0 * h->rng_uniform(h->ctx) - 1.0);
		}
		x[i] = v;
	}
	*n = rs->batch;
	rs->asked = rs->batch;
	return BBT_OK;
}

static int random_tell(void *state, const double *x, size_t n, const double *loss,
                       const double *grad, char *err, size_t errlen)
{
	struct random_search *rs = state;
	(void)grad; /* black-box: gradients are never asked for */
	if (rs == NULL || x == NULL || loss == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: tell called with a NULL argument");
	}
	if (n == 0 || n > rs->asked) {
		return bbt_error(err, errlen, BBT_EINVAL, "random: tell with %zu losses, but the last ask gave %zu candidates",
         		        n, rs->asked);
	}
	/* Strictly lower wins, so ties keep the earlier candidate; a NaN loss
	 * (a failed evaluation) is never best. */
	for (size_t i = 0; i < n; i++) {
		if (loss[i] < rs->best_loss) {
			rs->best_loss = loss[i];
			memcpy(rs->best, x + i * rs->dim, rs->dim * sizeof *rs->best);
		}
	}
	rs->countevals += n;
	rs->asked = 0;
	return BBT_OK;
}

static void random_recommend(void *state, double *x)
{
	const struct random_search *rs = state;
	if (rs == NULL || x == NULL)
		return;
	memcpy(x, rs->best, rs->dim * sizeof *x);
}

/* Random search has no convergence to detect; only the budget ends it. */
static const char *random_stop_reason(void *state)
{
	(void)state;
	return NULL;
}

static size_t random_stats(void *state, struct bbt_optimizer_stat *out, size_t cap)
{
	const struct random_search *rs = state;
	if (rs == NULL || out == NULL)
		return 0;
	const struct bbt_optimizer_stat all[] = {
		{ "countevals", (double)rs->countevals },
		{ "best_loss", rs->best_loss },
	};
	size_t n = sizeof all / sizeof all[0];
	if (n > cap)
		n = cap;
	memcpy(out, all, n * sizeof *out);
	return n;
}

static const struct bbt_optimizer_ops ops = {
	.create = random_create,
	.ask = random_ask,
	.tell = random_tell,
	.recommend = random_recommend,
	.stop_reason = random_stop_reason,
	.stats = random_stats,
	.free = random_free,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "random",
	.version = "1.0",
	.description = "pure random search around the origin (baseline; box or categorical)",
	.options = options,
	/* Not BBT_OPTIMIZER_CATEGORICAL: that flag means a categorical space
	 * only, and random search takes box spaces too. */
	.flags = 0,
	.optimizer = &ops,
	.backend = NULL,
};
