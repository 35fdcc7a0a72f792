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
 * With distribution=uniform-sobol, normal-sobol, uniform-reversehalton or
 * normal-reversehalton (box spaces) the candidates are quasi-random instead
 * (GSL's gsl_qrng): a low-discrepancy sequence in [0, 1)^d fills the
 * space more evenly than independent draws, so a baseline of N calls covers
 * it better. Each point is mapped to the same distribution as the
 * pseudo-random draws (u -> r (2u - 1), or r Phi^-1(u) for normal). The
 * sequence is randomised by one uniform shift per coordinate, drawn
 * from the host's stream at create and added modulo 1 (Cranley-Patterson),
 * so different seeds give different point sets of the same evenness. Sobol
 * has at most 40 dimensions in GSL, the reverse Halton sequence
 * (Vandewoestyne and Cools) 1229, which covers BBT's d = 500; plain Halton
 * is not offered because its high dimensions, built on large primes, are
 * strongly correlated over the first thousands of points. The sequence is
 * a suffix of `distribution`, not an option of its own, because a run id
 * hashes every option of its plugins: a new option would have renamed
 * every finished random run.
 *
 * All randomness comes from the host's stream, so the same run seed gives
 * the same candidates. Random search never converges, so tell never returns
 * BBT_STOP: the host's budget ends the run.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_qrng.h>

#include <bbtbench/plugin.h>


/* Candidates per ask when the host leaves popsize at 0: CMA-ES's population
 * in BBT, so budgets compare call for call. */
#define DEFAULT_BATCH 20

static const struct bbt_option_spec options[] = {
	{ "distribution", BBT_OPT_CHOICE, "uniform",
	  "uniform|normal|uniform-sobol|normal-sobol|uniform-reversehalton|normal-reversehalton",
	  0, 0,
	  "box spaces: uniform in [-r, r]^d, or N(0, r^2) per coordinate; -SEQUENCE: from "
	  "a shifted quasi-random sequence (sobol: d <= 40, reversehalton: d <= 1229)" },
	{ "radius", BBT_OPT_DOUBLE, "0", NULL, 0, DBL_MAX,
	  "r; 0: the space's bound if it has one, else sigma" },
	{ 0 },
};

/* The quasi-random sequences, by their suffix in `distribution`. */
static const struct {
	const char *name;
	const gsl_qrng_type *const *type;
} sequences[] = {
	{ "sobol", &gsl_qrng_sobol },
	{ "reversehalton", &gsl_qrng_reversehalton },
};

struct random_search {
	const bbt_host_t *host;
	enum bbt_space_kind kind;
	size_t dim;
	size_t choices;     /* categorical: K */
	double bound;       /* box: 0 or the bound */
	double radius;      /* box: r, resolved */
	int normal;         /* box: 1 for N(0, r^2) */
	gsl_qrng *qrng;     /* the quasi-random sequence, or NULL for random draws */
	double *shift;      /* qrng: dim values in [0, 1), added modulo 1 */
	double *u;          /* qrng: dim values, the current point */
	size_t drawn;       /* qrng: points taken from the sequence so far */
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
	gsl_qrng_free(rs->qrng);
	free(rs->shift);
	free(rs->u);
	free(rs->best);
	free(rs);
}

/* Set up the quasi-random sequence named by the option, if any. */
static int open_sequence(struct random_search *rs, const char *name, char *err, size_t errlen)
{
	if (name == NULL)
		return BBT_OK;
	const gsl_qrng_type *type = NULL;
	for (size_t i = 0; i < sizeof sequences / sizeof sequences[0]; i++)
		if (strcmp(name, sequences[i].name) == 0)
			type = *sequences[i].type;
	if (type == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: sequence \"%s\" is not sobol or reversehalton", name);
	if (rs->dim > type->max_dimension) {
		char hint[64] = "";
		if (rs->dim <= gsl_qrng_reversehalton->max_dimension)
			snprintf(hint, sizeof hint, "; reversehalton goes up to %u",
			         gsl_qrng_reversehalton->max_dimension);
		return bbt_error(err, errlen, BBT_EINVAL,
		        "random: the %s sequence has at most %u dimensions (GSL's gsl_qrng_%s), the "
		        "space has %zu%s", name, type->max_dimension, type->name, rs->dim, hint);
	}
	/* GSL's default error handler aborts the process (STYLE 6); a plugin
	 * must not, whichever host loads it. bbtbench's main does the same. */
	gsl_set_error_handler_off();
	if ((rs->qrng = gsl_qrng_alloc(type, (unsigned int)rs->dim)) == NULL ||
	    (rs->shift = malloc(rs->dim * sizeof *rs->shift)) == NULL ||
	    (rs->u = malloc(rs->dim * sizeof *rs->u)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "random: out of memory for a %zu-dimensional %s sequence",
		                 rs->dim, name);
	for (size_t i = 0; i < rs->dim; i++)
		rs->shift[i] = rs->host->rng_uniform(rs->host->ctx);
	return BBT_OK;
}

/* The sequence's next point, shifted, in rs->u. */
static int next_point(struct random_search *rs, char *err, size_t errlen)
{
	int status = gsl_qrng_get(rs->qrng, rs->u);
	rs->drawn++;
	if (status != GSL_SUCCESS)
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "random: GSL's %s sequence failed: %s", gsl_qrng_name(rs->qrng),
		                 gsl_strerror(status));
	for (size_t i = 0; i < rs->dim; i++) {
		double u = rs->u[i] + rs->shift[i];
		rs->u[i] = u >= 1 ? u - 1 : u;
	}
	return BBT_OK;
}

/* One coordinate: a random draw, or a quasi-random u in [0, 1) mapped to
 * the same distribution. Normal draws are clipped to the bound. */
static double coordinate(const struct random_search *rs, const double *u)
{
	const bbt_host_t *h = rs->host;
	double v;
	if (rs->kind == BBT_SPACE_CATEGORICAL)
		return (double)h->rng_uint(h->ctx, rs->choices);
	if (rs->normal) {
		/* u = 0 exactly (a shift landing on a lattice point, chance
		 * about 2^-53) would be -inf: take the smallest positive u. */
		v = rs->radius * (u == NULL ? h->rng_normal(h->ctx)
		                            : gsl_cdf_ugaussian_Pinv(*u > 0 ? *u : DBL_MIN));
		if (rs->bound > 0)
			v = v > rs->bound ? rs->bound : v < -rs->bound ? -rs->bound : v;
		return v;
	}
	return rs->radius * (2.0 * (u == NULL ? h->rng_uniform(h->ctx) : *u) - 1.0);
}

/* Check the space and x0; resolve the radius. */
static int check_params(const bbt_host_t *host, const struct bbt_optimizer_params *p,
                        double *radius, char *err, size_t errlen)
{
	const struct bbt_space *sp = &p->space;
	*radius = 0;
	if (sp->dim == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: the search space has dimension 0");
	if (sp->kind == BBT_SPACE_CATEGORICAL) {
		if (sp->choices == 0)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "random: categorical space with 0 choices per position");
		if (p->x0 != NULL) {
			for (size_t i = 0; i < sp->dim; i++) {
				double v = p->x0[i];
				if (!(v >= 0 && v < (double)sp->choices) || v != (double)(size_t)v)
					return bbt_error(err, errlen, BBT_EINVAL,
					                  "random: x0[%zu] = %g is not a choice in 0..%zu",
					                 i, v, sp->choices - 1);
			}
		}
		return BBT_OK;
	}
	if (sp->kind != BBT_SPACE_BOX)
		return bbt_error(err, errlen, BBT_EINVAL, "random: unknown search space kind %d",
		                 (int)sp->kind);
	if (!(sp->bound >= 0) || !isfinite(sp->bound))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: space bound %g is not a finite number >= 0", sp->bound);
	double r = host->opt_double(host->ctx, "radius");
	if (!(r >= 0) || !isfinite(r))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: radius %g is not a finite number >= 0", r);
	if (r == 0)
		r = sp->bound > 0 ? sp->bound : p->sigma;
	if (!(r > 0) || !isfinite(r)) {
		return bbt_error(err, errlen, BBT_EINVAL,
		                  "random: no search radius: radius is 0, the space is unbounded and " "sigma is %g; set radius=R or a positive sigma",
		                 p->sigma);
	}
	/* Uniform draws beyond the bound would only be clipped onto the faces
	 * of the box; shrink the box instead. */
	if (sp->bound > 0 && r > sp->bound)
		r = sp->bound;
	if (p->x0 != NULL) {
		for (size_t i = 0; i < sp->dim; i++) {
			double v = p->x0[i];
			if (!isfinite(v) || (sp->bound > 0 && (v > sp->bound || v < -sp->bound)))
				return bbt_error(err, errlen, BBT_EINVAL,
				                 "random: x0[%zu] = %g is outside the search box",
				                 i, v);
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
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: create called with a NULL argument");
	double radius;
	int rc = check_params(host, params, &radius, err, errlen);
	if (rc < 0)
		return rc;

	struct random_search *rs = calloc(1, sizeof *rs);
	if (rs == NULL || params->space.dim > SIZE_MAX / sizeof(double) ||
	    (rs->best = calloc(params->space.dim, sizeof *rs->best)) == NULL) {
		random_free(rs);
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "random: out of memory for a %zu-dimensional space",
		                 params->space.dim);
	}
	rs->host = host;
	rs->kind = params->space.kind;
	rs->dim = params->space.dim;
	rs->choices = params->space.choices;
	rs->bound = params->space.bound;
	rs->radius = radius;
	if (rs->kind == BBT_SPACE_BOX) {
		/* "uniform" or "normal", then "-SEQUENCE" for a quasi-random one */
		const char *dist = host->opt_string(host->ctx, "distribution");
		if (dist == NULL || dist[0] == '\0')
			dist = "uniform";
		const char *dash = strchr(dist, '-');
		size_t base = dash != NULL ? (size_t)(dash - dist) : strlen(dist);
		rs->normal = base == 6 && strncmp(dist, "normal", 6) == 0;
		if (!rs->normal && !(base == 7 && strncmp(dist, "uniform", 7) == 0)) {
			random_free(rs);
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "random: distribution \"%s\" is not uniform or normal " "(or either with -sobol or -reversehalton)",
			                 dist);
		}
		rc = open_sequence(rs, dash != NULL ? dash + 1 : NULL, err, errlen);
		if (rc < 0) {
			random_free(rs);
			return rc;
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
	if (rs == NULL || x == NULL || n == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: ask called with a NULL argument");
	for (size_t c = 0; c < rs->batch; c++) {
		if (rs->qrng != NULL) {
			int rc = next_point(rs, err, errlen);
			if (rc < 0)
				return rc;
		}
		for (size_t i = 0; i < rs->dim; i++)
			x[c * rs->dim + i] = coordinate(rs, rs->qrng != NULL ? &rs->u[i] : NULL);
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
	if (rs == NULL || x == NULL || loss == NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: tell called with a NULL argument");
	if (n == 0 || n > rs->asked)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "random: tell with %zu losses, but the last ask gave %zu candidates",
		                 n, rs->asked);
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

/* The blob's layout; bump when fields change. */
#define RANDOM_STATE_FORMAT 1

/* The best point, the counters and the sequence's position (GSL's state
 * is private; the position replays it). */
static int random_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err,
                             size_t errlen)
{
	const struct random_search *rs = state;
	uint64_t counters[2] = { rs->countevals, rs->drawn };
	struct bbt_state_writer w = bbt_state_writer(write, ctx);
	bbt_state_begin(&w, "random", RANDOM_STATE_FORMAT);
	bbt_state_put_f64(&w, "best", rs->best, rs->dim);
	bbt_state_put_f64(&w, "best_loss", &rs->best_loss, 1);
	bbt_state_put_u64(&w, "counters", counters, 2);
	return bbt_state_end(&w, "random", err, errlen);
}

static int random_load_state(void *state, const void *bytes, size_t len, char *err,
                             size_t errlen)
{
	struct random_search *rs = state;
	uint64_t counters[2] = { 0, 0 };
	struct bbt_state_reader r = bbt_state_reader(bytes, len, "random state", err, errlen);
	bbt_state_expect(&r, "random", RANDOM_STATE_FORMAT);
	bbt_state_get_f64(&r, "best", rs->best, rs->dim);
	bbt_state_get_f64(&r, "best_loss", &rs->best_loss, 1);
	bbt_state_get_u64(&r, "counters", counters, 2);
	int rc = bbt_state_done(&r);
	if (rc < 0)
		return rc;
	if (rs->qrng == NULL && counters[1] > 0)
		return bbt_error(err, errlen, BBT_EFORMAT, "random state: %llu quasi-random points "
		                 "drawn, but this run has no sequence", (unsigned long long)counters[1]);
	rs->countevals = (size_t)counters[0];
	for (uint64_t i = 0; i < counters[1]; i++)
		if (gsl_qrng_get(rs->qrng, rs->u) != GSL_SUCCESS)
			return bbt_error(err, errlen, BBT_EINTERNAL, "random state: GSL's %s sequence "
			                 "failed at point %llu", gsl_qrng_name(rs->qrng),
			                 (unsigned long long)i);
	rs->drawn = (size_t)counters[1];
	rs->asked = 0;
	return BBT_OK;
}

static const struct bbt_optimizer_ops ops = {
	.create = random_create,
	.ask = random_ask,
	.tell = random_tell,
	.recommend = random_recommend,
	.stop_reason = random_stop_reason,
	.stats = random_stats,
	.free = random_free,
	.save_state = random_save_state,
	.load_state = random_load_state,
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
