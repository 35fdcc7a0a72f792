/*
 * cma_common.c - the CMA-ES engine of the `cmaes` and `sepcmaes` plugins.
 *
 * Notation and formulas follow Hansen's tutorial (arXiv:1604.00772, 2016,
 * Table 1 and Appendix A); equation numbers below are that paper's. One
 * generation:
 *
 *     z_k ~ N(0, I)                 from the host's stream, k = 1..lambda
 *     y_k = B D z_k                 (sep: D z_k, B = I)
 *     x_k = m + sigma y_k           folded into [-b, b] when bounded
 *     rank by loss; <y>_w = sum_{i<=mu} w_i y_{i:lambda}
 *     m   += c_m sigma <y>_w                                        (41)
 *     p_s  = (1-c_s) p_s + sqrt(c_s(2-c_s)mu_eff) B <z>_w             (43)
 *     p_c  = (1-c_c) p_c + h_s sqrt(c_c(2-c_c)mu_eff) <y>_w           (45)
 *     C    = (1 + c_1 delta(h_s) - c_1 - c_mu sum w_j) C
 *            + c_1 p_c p_c' + c_mu sum_i w°_i y_i y_i'                (47)
 *     sigma *= exp(min(1, c_s/d_s (|p_s|/E|N(0,I)| - 1)))             (44)
 *
 * C^-1/2 y_k = B z_k, so p_s and the active weights w° (47, 46) need the
 * z's only. The eigendecomposition C = B D^2 B' is redone lazily, every
 * ceil(1/((c_1+c_mu) n 10)) generations (pycma, libcmaes): C changes by
 * at most a fraction c_1+c_mu per generation, so the old B, D sample well
 * enough in between, and at d = 1000 with lambda = 20 that is one O(n^3)
 * decomposition per ten O(lambda n^2) generations.
 *
 * Bounds are handled by reflection, smoothed as in pycma's BoundTransform:
 * the distribution lives in R^n, and each coordinate of a candidate is
 * mapped into [-b, b] by fold() (mirroring at the faces, with a quadratic
 * bend just inside them) before the host sees it. Since every sample is
 * mapped the same way, the points scored are exactly the points ranked -
 * the optimizer minimises f(fold(x)) over R^n - and no repair term or
 * penalty enters the update. The mean is mapped the same way when
 * recommended.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cma_common.h"

/* LAPACK's symmetric eigensolver, as OpenBLAS exports it (Fortran ABI,
 * 32-bit integers in Debian's libopenblas). Declared here rather than
 * through lapacke.h, which would add liblapacke-dev as a dependency; the
 * two trailing arguments are the hidden lengths of the character arguments
 * that gfortran-compiled LAPACK expects. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
                    const int *lda, double *w, double *work, const int *lwork,
                    int *iwork, const int *liwork, int *info,
                    size_t jobz_len, size_t uplo_len);

const struct bbt_option_spec bbt_cma_options[] = {
	{ "bounds", BBT_OPT_DOUBLE, "0", NULL, 0, DBL_MAX,
	  "b: fold candidates into [-b, b]^d by reflection; 0: unbounded (the "
	  "space's own bound, if any, still holds)" },
	{ "active", BBT_OPT_BOOL, "true", NULL, 0, 0,
	  "active CMA: negative weights for the worst lambda-mu candidates "
	  "(the tutorial's and pycma's default)" },
	{ "tolfun", BBT_OPT_DOUBLE, "1e-11", NULL, 0, DBL_MAX,
	  "stop when the losses of the last 10+30n/lambda generations span less" },
	{ "tolx", BBT_OPT_DOUBLE, "1e-11", NULL, 0, DBL_MAX,
	  "stop when sigma*p_c and sigma*sqrt(C_ii) are below it in every coordinate" },
	{ "tolupsigma", BBT_OPT_DOUBLE, "1e20", NULL, 0, DBL_MAX,
	  "stop when sigma/sigma0 exceeds it times the largest sqrt(eigenvalue) of C" },
	{ "tolconditioncov", BBT_OPT_DOUBLE, "1e14", NULL, 0, DBL_MAX,
	  "stop when the condition number of C exceeds it" },
	{ "tolstagnation", BBT_OPT_INT, "0", NULL, 0, 1e9,
	  "generations without progress of the best and median loss; "
	  "0: pycma's 100+100n^1.5/lambda" },
	{ "maxiter", BBT_OPT_INT, "0", NULL, 0, 1e12,
	  "stop after this many generations; 0: no limit (the host's budget ends the run)" },
	{ 0 },
};

struct bbt_cma {
	const bbt_host_t *host;
	const char *name;          /* plugin name, for messages */
	enum bbt_cma_model model;
	int active;
	size_t n, lambda, mu;

	/* Strategy parameters (tutorial Table 1, pycma defaults). */
	double *w;                 /* lambda weights; positive ones sum to 1 */
	double sum_w;              /* sum of all weights (1 without active) */
	double mueff, cs, ds, cc, c1, cmu, chin;
	size_t eigen_gap;          /* generations between eigendecompositions */

	/* Stop tolerances. */
	double tolfun, tolx, tolupsigma, tolcond;
	size_t tolstag;            /* stagnation window, generations */
	size_t maxiter;            /* 0: none */
	double bound;              /* 0: unbounded */

	/* Distribution. */
	double sigma, sigma0;
	double *m, *ps, *pc;       /* n */
	double *C;                 /* full: n x n (row-major); sep: n (the diagonal) */
	double *Bt;                /* full: eigenvectors, row j = j-th eigenvector */
	double *D;                 /* n: sqrt of the eigenvalues (sep: of C_ii) */
	double cond;               /* max/min eigenvalue */
	size_t last_eigen;         /* countiter of the last decomposition */

	/* One generation's samples and scratch. */
	double *Z, *Y;             /* lambda x n */
	double *Ys, *Yw;           /* lambda x n: ranked y's and weighted y's */
	double *zw, *yw, *tmp;     /* n */
	struct rank { double f; size_t i; } *rank; /* lambda */
	size_t asked;              /* lambda after an ask, 0 after tell */

	/* LAPACK workspace (full model). */
	double *work;
	int *iwork;
	int lwork, liwork;

	/* Bookkeeping, pycma names. */
	size_t countiter, countevals;
	double best_loss;
	double *best_x;            /* n */
	int flat_warned;

	/* Histories for the stop tests: ring buffers indexed by countiter. */
	double *hist_best;         /* tolfun: best loss per generation, hist_len */
	size_t hist_len;
	double *stag_best, *stag_med; /* stagnation: tolstag each */
	double *stag_tmp;             /* scratch for the medians */
	const char *stop;
};

void bbt_cma_free(void *state)
{
	struct bbt_cma *c = state;
	if (c == NULL)
		return;
	free(c->w);
	free(c->m);
	free(c->ps);
	free(c->pc);
	free(c->C);
	free(c->Bt);
	free(c->D);
	free(c->Z);
	free(c->Y);
	free(c->Ys);
	free(c->Yw);
	free(c->zw);
	free(c->yw);
	free(c->tmp);
	free(c->rank);
	free(c->work);
	free(c->iwork);
	free(c->best_x);
	free(c->hist_best);
	free(c->stag_best);
	free(c->stag_med);
	free(c->stag_tmp);
	free(c);
}

/* Width of the quadratic bend inside each face of [-b, b]: pycma's
 * BoundTransform uses min((u-l)/20, (1+|bound|)/20). */
static double bend_width(double b)
{
	return fmin(b / 10, (1 + b) / 20);
}

/* The map T from the unbounded search space into [-b, b] (b = 0: the
 * identity). T is the identity on [-b+a, b-a]; on [b-a, b+a] it bends
 * quadratically onto the face, T(x) = b - (x - b - a)^2 / (4a), so that T
 * is continuous with its slope (1 at b-a, 0 at b+a); beyond b+a it mirrors,
 * with period 2(2b + 2a); the lower face likewise. A plain mirror would put
 * a kink at the face, and a constrained optimum on a face would then be
 * the tip of a V that CMA-ES approaches slowly; with the bend f(T(x)) is
 * smooth there and its minimum quadratic. */
static double fold(double v, double b)
{
	if (b <= 0)
		return v;
	double a = bend_width(b);
	if (v >= -b + a && v <= b - a)
		return v;
	double w = 2 * b + 2 * a;                 /* [-b-a, b+a], shifted to [0, w] */
	double y = fmod(v + b + a, 2 * w);
	if (y < 0)
		y += 2 * w;
	if (y > w)
		y = 2 * w - y;
	double u = y - b - a;                     /* in [-b-a, b+a] */
	if (u > b - a)
		u = b - (u - b - a) * (u - b - a) / (4 * a);
	else if (u < -b + a)
		u = -b + (u + b + a) * (u + b + a) / (4 * a);
	return u > b ? b : u < -b ? -b : u;       /* rounding */
}

/* A preimage of v in [-b, b] under fold(), for x0: the identity inside,
 * the inverse of the bend near the faces. */
static double unfold(double v, double b)
{
	if (b <= 0)
		return v;
	double a = bend_width(b);
	if (v > b - a)
		return b + a - sqrt(4 * a * (b - v));
	if (v < -b + a)
		return -b - a + sqrt(4 * a * (v + b));
	return v;
}

/* Weights, mu_eff and learning rates: tutorial eqs. (49)-(58), with c_1
 * and c_mu scaled by (n+2)/3 for the diagonal model (Ros & Hansen 2008,
 * "A simple modification in CMA-ES achieving linear time and space
 * complexity", PPSN X, sect. 3), before the active weights are sized by
 * them. */
static void set_strategy(struct bbt_cma *c)
{
	const double n = (double)c->n;
	const size_t lambda = c->lambda, mu = c->mu;
	double *w = c->w;
	double sp = 0, sp2 = 0, sn = 0, sn2 = 0;
	for (size_t i = 0; i < lambda; i++) {
		w[i] = log((lambda + 1) / 2.0) - log((double)(i + 1));
		if (i < mu) {
			sp += w[i];
			sp2 += w[i] * w[i];
		} else {
			sn += w[i];
			sn2 += w[i] * w[i];
		}
	}
	c->mueff = sp * sp / sp2;
	const double mueff = c->mueff, acov = 2.0;
	c->cs = (mueff + 2) / (n + mueff + 5);
	c->ds = 1 + 2 * fmax(0, sqrt((mueff - 1) / (n + 1)) - 1) + c->cs;
	c->cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
	c->c1 = acov / ((n + 1.3) * (n + 1.3) + mueff);
	c->cmu = fmin(1 - c->c1,
	              acov * (mueff - 2 + 1 / mueff) / ((n + 2) * (n + 2) + acov * mueff / 2));
	if (c->model == BBT_CMA_SEPARABLE) {
		c->c1 *= (n + 2) / 3;
		c->cmu = fmin(1 - c->c1, c->cmu * (n + 2) / 3);
	}
	c->chin = sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));

	/* Positive weights sum to 1; negative ones (active) are scaled to the
	 * smallest of alpha_mu-, alpha_mueff-, alpha_posdef- (eq. 53). */
	double neg_scale = 0;
	if (c->active && lambda > mu && sn2 > 0) {
		double mueff_neg = sn * sn / sn2;
		double a_mu = 1 + c->c1 / c->cmu;
		double a_mueff = 1 + 2 * mueff_neg / (mueff + 2);
		double a_posdef = (1 - c->c1 - c->cmu) / (n * c->cmu);
		neg_scale = fmin(a_mu, fmin(a_mueff, a_posdef)) / -sn;
	}
	c->sum_w = 0;
	for (size_t i = 0; i < lambda; i++) {
		w[i] = i < mu ? w[i] / sp : w[i] * neg_scale;
		c->sum_w += w[i];
	}

	size_t gap = 1;
	if (c->model == BBT_CMA_FULL) {
		double g = ceil(1.0 / ((c->c1 + c->cmu) * n * 10));
		gap = g > 1 ? (size_t)g : 1;
	}
	c->eigen_gap = gap;
}

static double *dalloc(size_t count)
{
	if (count == 0 || count > SIZE_MAX / sizeof(double))
		return NULL;
	return calloc(count, sizeof(double));
}

/* Ask LAPACK how much workspace dsyevd needs for n x n and allocate it
 * once, so the lazy updates never allocate. */
static int alloc_eigen_work(struct bbt_cma *c, char *err, size_t errlen)
{
	int n = (int)c->n, lwork = -1, liwork = -1, info = 0, iq = 0;
	double wq = 0, dummy_a = 0, dummy_w = 0;
	dsyevd_("V", "L", &n, &dummy_a, &n, &dummy_w, &wq, &lwork, &iq, &liwork, &info, 1, 1);
	if (info != 0)
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "%s: LAPACK dsyevd workspace query failed (info %d)", c->name, info);
	c->lwork = (int)wq + 1;
	c->liwork = iq + 1;
	c->work = dalloc((size_t)c->lwork);
	c->iwork = calloc((size_t)c->liwork, sizeof *c->iwork);
	if (c->work == NULL || c->iwork == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory for the eigensolver of a "
		                 "%zu x %zu covariance matrix", c->name, c->n, c->n);
	return BBT_OK;
}

int bbt_cma_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
                   enum bbt_cma_model model, void **state,
                   struct bbt_optimizer_info *info, char *err, size_t errlen)
{
	const char *name = model == BBT_CMA_SEPARABLE ? "sepcmaes" : "cmaes";
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: create called with a NULL argument", name);
	const struct bbt_space *sp = &params->space;
	if (sp->kind != BBT_SPACE_BOX)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: searches real boxes only (search space kind %d)", name, (int)sp->kind);
	size_t n = sp->dim;
	if (n == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: the search space has dimension 0", name);
	/* The full model's n x n matrices and LAPACK's int dimensions. */
	if (model == BBT_CMA_FULL && n > 46340)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: dimension %zu is beyond a full covariance "
		                 "matrix (use sepcmaes)", name, n);
	if (!(sp->bound >= 0) || !isfinite(sp->bound))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: space bound %g is not a finite number >= 0",
		                 name, sp->bound);
	if (!(params->sigma > 0) || !isfinite(params->sigma))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: sigma0 %g is not a positive finite number",
		                 name, params->sigma);
	size_t lambda = params->popsize;
	if (lambda == 0)
		lambda = 4 + (size_t)floor(3 * log((double)n));
	if (lambda < 2)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: popsize %zu: CMA-ES needs at least 2 candidates per generation",
		                 name, lambda);
	if (lambda > SIZE_MAX / n / sizeof(double))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: popsize %zu is too large", name, lambda);

	/* The tighter of the space's bound and the `bounds` option. */
	double bound = host->opt_double(host->ctx, "bounds");
	if (!(bound >= 0) || !isfinite(bound))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: bounds %g is not a finite number >= 0",
		                 name, bound);
	if (sp->bound > 0 && (bound == 0 || sp->bound < bound))
		bound = sp->bound;
	if (params->x0 != NULL) {
		for (size_t i = 0; i < n; i++) {
			double v = params->x0[i];
			if (!isfinite(v) || (bound > 0 && (v > bound || v < -bound)))
				return bbt_error(err, errlen, BBT_EINVAL,
				                 "%s: x0[%zu] = %g is outside the search box", name, i, v);
		}
	}

	struct bbt_cma *c = calloc(1, sizeof *c);
	if (c == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", name);
	c->host = host;
	c->name = name;
	c->model = model;
	c->n = n;
	c->lambda = lambda;
	c->mu = lambda / 2;
	c->bound = bound;
	c->active = host->opt_bool(host->ctx, "active");
	c->tolfun = host->opt_double(host->ctx, "tolfun");
	c->tolx = host->opt_double(host->ctx, "tolx");
	c->tolupsigma = host->opt_double(host->ctx, "tolupsigma");
	c->tolcond = host->opt_double(host->ctx, "tolconditioncov");
	long ts = host->opt_int(host->ctx, "tolstagnation");
	long mi = host->opt_int(host->ctx, "maxiter");
	c->tolstag = ts > 0 ? (size_t)ts
	             : (size_t)(100 + 100 * pow((double)n, 1.5) / (double)lambda);
	c->maxiter = mi > 0 ? (size_t)mi : 0;
	/* pycma's history of best losses for tolfun: 10 + 30 n / lambda. */
	c->hist_len = 10 + (size_t)ceil(30.0 * (double)n / (double)lambda);

	size_t cn = model == BBT_CMA_FULL ? n * n : n;
	c->w = dalloc(lambda);
	c->m = dalloc(n);
	c->ps = dalloc(n);
	c->pc = dalloc(n);
	c->C = dalloc(cn);
	c->Bt = model == BBT_CMA_FULL ? dalloc(n * n) : NULL;
	c->D = dalloc(n);
	c->Z = dalloc(lambda * n);
	c->Y = dalloc(lambda * n);
	c->Ys = dalloc(lambda * n);
	c->Yw = dalloc(lambda * n);
	c->zw = dalloc(n);
	c->yw = dalloc(n);
	c->tmp = dalloc(n);
	c->rank = calloc(lambda, sizeof *c->rank);
	c->best_x = dalloc(n);
	c->hist_best = dalloc(c->hist_len);
	c->stag_best = dalloc(c->tolstag);
	c->stag_med = dalloc(c->tolstag);
	c->stag_tmp = dalloc(c->tolstag);
	if (!c->w || !c->m || !c->ps || !c->pc || !c->C || (model == BBT_CMA_FULL && !c->Bt) ||
	    !c->D || !c->Z || !c->Y || !c->Ys || !c->Yw || !c->zw || !c->yw || !c->tmp ||
	    !c->rank || !c->best_x || !c->hist_best || !c->stag_best || !c->stag_med ||
	    !c->stag_tmp) {
		bbt_cma_free(c);
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "%s: out of memory for dimension %zu, popsize %zu", name, n, lambda);
	}
	if (model == BBT_CMA_FULL) {
		int rc = alloc_eigen_work(c, err, errlen);
		if (rc < 0) {
			bbt_cma_free(c);
			return rc;
		}
	}

	set_strategy(c);
	c->sigma = c->sigma0 = params->sigma;
	for (size_t i = 0; i < n; i++) {
		c->D[i] = 1;
		if (model == BBT_CMA_FULL) {
			c->C[i * n + i] = 1;
			c->Bt[i * n + i] = 1;
		} else {
			c->C[i] = 1;
		}
	}
	c->cond = 1;
	if (params->x0 != NULL) {
		for (size_t i = 0; i < n; i++)
			c->m[i] = unfold(params->x0[i], bound);
		memcpy(c->best_x, params->x0, n * sizeof *c->best_x);
	}
	c->best_loss = HUGE_VAL;

	info->batch = lambda;
	*state = c;
	return BBT_OK;
}

int bbt_cma_ask(void *state, double *x, size_t *n_out, char *err, size_t errlen)
{
	struct bbt_cma *c = state;
	if (c == NULL || x == NULL || n_out == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "cma: ask called with a NULL argument");
	const bbt_host_t *h = c->host;
	const size_t n = c->n, lambda = c->lambda;
	for (size_t k = 0; k < lambda * n; k++)
		c->Z[k] = h->rng_normal(h->ctx);
	if (c->model == BBT_CMA_FULL) {
		/* Y = (Z diag(D)) B', row k is B D z_k: one O(lambda n^2) product. */
		for (size_t k = 0; k < lambda; k++)
			for (size_t j = 0; j < n; j++)
				c->Yw[k * n + j] = c->Z[k * n + j] * c->D[j];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)lambda, (int)n, (int)n,
		            1.0, c->Yw, (int)n, c->Bt, (int)n, 0.0, c->Y, (int)n);
	} else {
		for (size_t k = 0; k < lambda; k++)
			for (size_t j = 0; j < n; j++)
				c->Y[k * n + j] = c->Z[k * n + j] * c->D[j];
	}
	for (size_t k = 0; k < lambda; k++)
		for (size_t j = 0; j < n; j++)
			x[k * n + j] = fold(c->m[j] + c->sigma * c->Y[k * n + j], c->bound);
	c->asked = lambda;
	*n_out = lambda;
	return BBT_OK;
}

/* NaN losses (failed evaluations) rank after every number; ties keep the
 * order of the ask, so the ranking - and the run - is deterministic. */
static int rank_cmp(const void *a, const void *b)
{
	const struct rank *ra = a, *rb = b;
	int na = isnan(ra->f), nb = isnan(rb->f);
	if (na != nb)
		return na - nb;
	if (!na && ra->f != rb->f)
		return ra->f < rb->f ? -1 : 1;
	return ra->i < rb->i ? -1 : ra->i > rb->i;
}

/* Median of v[0..len) (len > 0), sorting v in place. */
static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t len)
{
	qsort(v, len, sizeof *v, dcmp);
	return len % 2 ? v[len / 2] : 0.5 * (v[len / 2 - 1] + v[len / 2]);
}

/* Eigendecomposition C = B diag(D^2) B'. dsyevd reads the lower triangle
 * of the column-major matrix, i.e. the upper triangle of our row-major C -
 * the two agree up to rounding, since every update is symmetric. */
static int decompose(struct bbt_cma *c, char *err, size_t errlen)
{
	const size_t n = c->n;
	int in = (int)n, info = 0;
	memcpy(c->Bt, c->C, n * n * sizeof *c->Bt);
	dsyevd_("V", "L", &in, c->Bt, &in, c->tmp, c->work, &c->lwork, c->iwork, &c->liwork,
	        &info, 1, 1);
	if (info != 0)
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "%s: LAPACK dsyevd failed on the covariance matrix (info %d) at "
		                 "generation %zu", c->name, info, c->countiter);
	/* Column-major output: column j (= our row j) is the j-th eigenvector.
	 * Rounding can leave the smallest eigenvalues at or below 0; floor
	 * them so that D stays invertible and conditioncov reports the
	 * ill-conditioning. */
	double emax = c->tmp[n - 1];
	if (!(emax > 0) || !isfinite(emax))
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "%s: covariance matrix lost positive definiteness (largest eigenvalue %g) "
		                 "at generation %zu", c->name, emax, c->countiter);
	double floor_ev = emax * DBL_EPSILON;
	double emin = HUGE_VAL;
	for (size_t i = 0; i < n; i++) {
		double e = c->tmp[i] > floor_ev ? c->tmp[i] : floor_ev;
		emin = e < emin ? e : emin;
		c->D[i] = sqrt(e);
	}
	c->cond = emax / emin;
	c->last_eigen = c->countiter;
	return BBT_OK;
}

static void update_covariance(struct bbt_cma *c, double hsig)
{
	const size_t n = c->n, lambda = c->lambda;
	/* Rows that carry weight: the mu best, or all lambda with active. */
	size_t k = c->active ? lambda : c->mu;
	double delta = (1 - hsig) * c->cc * (2 - c->cc);
	double decay = 1 + c->c1 * delta - c->c1 - c->cmu * c->sum_w;
	for (size_t r = 0; r < k; r++) {
		size_t idx = c->rank[r].i;
		double wr = c->w[r];
		if (wr < 0) {
			/* Eq. (46): w° = w n / |C^-1/2 y|^2, and C^-1/2 y = B z. */
			double z2 = 0;
			for (size_t j = 0; j < n; j++)
				z2 += c->Z[idx * n + j] * c->Z[idx * n + j];
			wr *= z2 > 0 ? (double)n / z2 : 0;
		}
		const double *y = c->Y + idx * n;
		for (size_t j = 0; j < n; j++) {
			c->Ys[r * n + j] = y[j];
			c->Yw[r * n + j] = wr * y[j];
		}
	}
	if (c->model == BBT_CMA_FULL) {
		for (size_t i = 0; i < n * n; i++)
			c->C[i] *= decay;
		cblas_dger(CblasRowMajor, (int)n, (int)n, c->c1, c->pc, 1, c->pc, 1, c->C, (int)n);
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)k,
		            c->cmu, c->Ys, (int)n, c->Yw, (int)n, 1.0, c->C, (int)n);
	} else {
		for (size_t j = 0; j < n; j++) {
			double s = 0;
			for (size_t r = 0; r < k; r++)
				s += c->Yw[r * n + j] * c->Ys[r * n + j];
			c->C[j] = decay * c->C[j] + c->c1 * c->pc[j] * c->pc[j] + c->cmu * s;
		}
	}
}

/* pycma's termination tests, in its order of precedence; NULL: go on. */
static const char *stop_tests(struct bbt_cma *c)
{
	const size_t n = c->n, g = c->countiter;
	if (c->maxiter > 0 && g >= c->maxiter)
		return "maxiter";
	/* tolfun: this generation's losses and the best losses of the last
	 * 10 + 30n/lambda generations span less than tolfun. */
	if (g >= c->hist_len) {
		double lo = HUGE_VAL, hi = -HUGE_VAL;
		for (size_t i = 0; i < c->hist_len; i++) {
			lo = fmin(lo, c->hist_best[i]);
			hi = fmax(hi, c->hist_best[i]);
		}
		double span = c->rank[c->lambda - 1].f - c->rank[0].f;
		if (hi - lo < c->tolfun && span < c->tolfun)
			return "tolfun";
	}
	/* tolx: every coordinate's step and its evolution path are tiny. */
	int small = 1;
	for (size_t i = 0; i < n && small; i++) {
		double cii = c->model == BBT_CMA_FULL ? c->C[i * n + i] : c->C[i];
		small = c->sigma * fabs(c->pc[i]) < c->tolx && c->sigma * sqrt(cii) < c->tolx;
	}
	if (small)
		return "tolx";
	/* tolupsigma: sigma grew far beyond sigma0 along every axis of C -
	 * the mark of a divergent run, or of a loss without a minimum. */
	double dmax = 0;
	for (size_t i = 0; i < n; i++)
		dmax = fmax(dmax, c->D[i]);
	if (c->sigma / c->sigma0 > c->tolupsigma * dmax)
		return "tolupsigma";
	if (c->cond > c->tolcond)
		return "conditioncov";
	/* stagnation (tutorial, Appendix B.3): over the last tolstagnation
	 * generations, neither the median of the best nor that of the median
	 * losses of the most recent 30% improved on the oldest 30%. */
	if (g >= c->tolstag) {
		size_t W = c->tolstag, part = (size_t)ceil(0.3 * (double)W);
		/* Ring slot of generation t (1-based) is (t - 1) % W; the oldest of
		 * the window is generation g - W + 1. */
		size_t oldest = g % W;
		for (int h = 0; h < 2; h++) {
			const double *ring = h == 0 ? c->stag_best : c->stag_med;
			double *t = c->stag_tmp;
			for (size_t i = 0; i < part; i++)
				t[i] = ring[(oldest + i) % W];
			double m_old = median(t, part);
			for (size_t i = 0; i < part; i++)
				t[i] = ring[(oldest + W - part + i) % W];
			if (median(t, part) < m_old)
				return NULL;
		}
		return "stagnation";
	}
	return NULL;
}

int bbt_cma_tell(void *state, const double *x, size_t n_told, const double *loss,
                 const double *grad, char *err, size_t errlen)
{
	struct bbt_cma *c = state;
	(void)grad; /* black-box */
	if (c == NULL || x == NULL || loss == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "cma: tell called with a NULL argument");
	if (c->asked == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: tell without a preceding ask", c->name);
	if (n_told != c->lambda)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: tell with %zu losses; CMA-ES needs the whole population of %zu",
		                 c->name, n_told, c->lambda);
	const size_t n = c->n, lambda = c->lambda, mu = c->mu;
	c->asked = 0;
	c->countiter++;
	c->countevals += lambda;

	for (size_t k = 0; k < lambda; k++) {
		c->rank[k].f = loss[k];
		c->rank[k].i = k;
		if (loss[k] < c->best_loss) {
			c->best_loss = loss[k];
			memcpy(c->best_x, x + k * n, n * sizeof *x);
		}
	}
	qsort(c->rank, lambda, sizeof *c->rank, rank_cmp);

	/* <y>_w and <z>_w over the mu best; the mean moves by sigma <y>_w
	 * (c_m = 1). */
	memset(c->yw, 0, n * sizeof *c->yw);
	memset(c->zw, 0, n * sizeof *c->zw);
	for (size_t r = 0; r < mu; r++) {
		size_t idx = c->rank[r].i;
		cblas_daxpy((int)n, c->w[r], c->Y + idx * n, 1, c->yw, 1);
		cblas_daxpy((int)n, c->w[r], c->Z + idx * n, 1, c->zw, 1);
	}
	for (size_t j = 0; j < n; j++)
		c->m[j] += c->sigma * c->yw[j];

	/* p_s with C^-1/2 <y>_w = B <z>_w. */
	if (c->model == BBT_CMA_FULL)
		cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)n, 1.0, c->Bt, (int)n,
		            c->zw, 1, 0.0, c->tmp, 1);
	else
		memcpy(c->tmp, c->zw, n * sizeof *c->tmp);
	double a_s = sqrt(c->cs * (2 - c->cs) * c->mueff), ps2 = 0;
	for (size_t j = 0; j < n; j++) {
		c->ps[j] = (1 - c->cs) * c->ps[j] + a_s * c->tmp[j];
		ps2 += c->ps[j] * c->ps[j];
	}
	double psn = sqrt(ps2);
	/* h_sigma stalls p_c while |p_s| is large, i.e. while sigma is still
	 * growing (tutorial, eq. 45 and the text after it). */
	double corr = sqrt(1 - pow(1 - c->cs, 2.0 * (double)c->countiter));
	double hsig = psn / corr < (1.4 + 2 / ((double)n + 1)) * c->chin ? 1 : 0;
	double a_c = hsig * sqrt(c->cc * (2 - c->cc) * c->mueff);
	for (size_t j = 0; j < n; j++)
		c->pc[j] = (1 - c->cc) * c->pc[j] + a_c * c->yw[j];

	update_covariance(c, hsig);

	/* Cumulative step-size adaptation, capped at a factor e per
	 * generation as pycma does. */
	c->sigma *= exp(fmin(1.0, c->cs / c->ds * (psn / c->chin - 1)));
	/* Flat fitness: the best and the ceil(0.7 lambda)-th loss are equal,
	 * so the ranking carries no information; widen the search instead of
	 * letting it shrink (tutorial, remark after the algorithm). */
	size_t q = (size_t)ceil(0.7 * (double)lambda);
	if (q > 0 && c->rank[0].f == c->rank[q - 1].f) {
		c->sigma *= exp(0.2 + c->cs / c->ds);
		if (!c->flat_warned) {
			c->host->log(c->host->ctx, BBT_LOG_WARNING,
			             "flat fitness at generation %zu: the best %zu of %zu losses are "
			             "equal; sigma increased", c->countiter, q, lambda);
			c->flat_warned = 1;
		}
	}

	if (c->model == BBT_CMA_FULL) {
		if (c->countiter - c->last_eigen >= c->eigen_gap) {
			int rc = decompose(c, err, errlen);
			if (rc < 0)
				return rc;
		}
	} else {
		double emax = 0, emin = HUGE_VAL;
		for (size_t j = 0; j < n; j++) {
			double e = c->C[j];
			emax = fmax(emax, e);
			emin = fmin(emin, e);
		}
		if (!(emin > 0) || !isfinite(emax))
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "%s: diagonal covariance left (0, inf) (min %g, max %g) at "
			                 "generation %zu", c->name, emin, emax, c->countiter);
		for (size_t j = 0; j < n; j++)
			c->D[j] = sqrt(c->C[j]);
		c->cond = emax / emin;
	}
	if (!isfinite(c->sigma) || !(c->sigma > 0))
		return bbt_error(err, errlen, BBT_EINTERNAL, "%s: sigma became %g at generation %zu",
		                 c->name, c->sigma, c->countiter);

	/* Histories of the stop tests. */
	size_t g = c->countiter;
	c->hist_best[(g - 1) % c->hist_len] = c->rank[0].f;
	c->stag_best[(g - 1) % c->tolstag] = c->rank[0].f;
	c->stag_med[(g - 1) % c->tolstag] = c->rank[lambda / 2].f;

	c->stop = stop_tests(c);
	return c->stop != NULL ? BBT_STOP : BBT_OK;
}

void bbt_cma_recommend(void *state, double *x)
{
	const struct bbt_cma *c = state;
	if (c == NULL || x == NULL)
		return;
	for (size_t j = 0; j < c->n; j++)
		x[j] = fold(c->m[j], c->bound);
}

void bbt_cma_best(void *state, double *x)
{
	const struct bbt_cma *c = state;
	if (c == NULL || x == NULL)
		return;
	memcpy(x, c->best_x, c->n * sizeof *x);
}

const char *bbt_cma_stop_reason(void *state)
{
	const struct bbt_cma *c = state;
	return c != NULL ? c->stop : NULL;
}

/* The blob's layout; bump when fields change. */
#define CMA_STATE_FORMAT 1

/* The fields in their order, for save and load alike: one list, so the two
 * cannot drift apart. The sizes are the ones create fixed from the same
 * params and options. */
#define CMA_FIELDS(F64, U64)                                                            \
	F64("sigma", &c->sigma, 1)                                                      \
	F64("mean", c->m, n)                                                            \
	F64("ps", c->ps, n)                                                             \
	F64("pc", c->pc, n)                                                             \
	F64("C", c->C, cn)                                                              \
	F64("D", c->D, n)                                                               \
	F64("condition", &c->cond, 1)                                                   \
	U64("counters", counters, 4)                                                    \
	F64("best_loss", &c->best_loss, 1)                                              \
	F64("best_x", c->best_x, n)                                                     \
	F64("hist_best", c->hist_best, c->hist_len)                                     \
	F64("stag_best", c->stag_best, c->tolstag)                                      \
	F64("stag_med", c->stag_med, c->tolstag)

int bbt_cma_save_state(void *state, bbt_state_write_fn write, void *ctx, char *err,
                       size_t errlen)
{
	struct bbt_cma *c = state;
	const size_t n = c->n, cn = c->model == BBT_CMA_FULL ? n * n : n;
	uint64_t counters[4] = { c->countiter, c->countevals, c->last_eigen,
		                 (uint64_t)c->flat_warned };
	struct bbt_state_writer w = bbt_state_writer(write, ctx);
	if (c->asked)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: state saved between an ask and its "
		                 "tell", c->name);
	bbt_state_begin(&w, c->name, CMA_STATE_FORMAT);
#define PUT_F64(name, v, k) bbt_state_put_f64(&w, name, v, k);
#define PUT_U64(name, v, k) bbt_state_put_u64(&w, name, v, k);
	CMA_FIELDS(PUT_F64, PUT_U64)
	/* The eigenvectors of the last decomposition: C has moved since. */
	if (c->model == BBT_CMA_FULL)
		bbt_state_put_f64(&w, "Bt", c->Bt, n * n);
	return bbt_state_end(&w, c->name, err, errlen);
}

int bbt_cma_load_state(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
	struct bbt_cma *c = state;
	const size_t n = c->n, cn = c->model == BBT_CMA_FULL ? n * n : n;
	uint64_t counters[4] = { 0 };
	char who[32];
	snprintf(who, sizeof who, "%s state", c->name);
	struct bbt_state_reader r = bbt_state_reader(bytes, len, who, err, errlen);
	bbt_state_expect(&r, c->name, CMA_STATE_FORMAT);
#define GET_F64(name, v, k) bbt_state_get_f64(&r, name, v, k);
#define GET_U64(name, v, k) bbt_state_get_u64(&r, name, v, k);
	CMA_FIELDS(GET_F64, GET_U64)
	if (c->model == BBT_CMA_FULL)
		bbt_state_get_f64(&r, "Bt", c->Bt, n * n);
	int rc = bbt_state_done(&r);
	if (rc < 0)
		return rc;
	if (!(c->sigma > 0) || !isfinite(c->sigma) || counters[2] > counters[0])
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: sigma %g or generation counters "
		                 "(%llu, last decomposition %llu) out of range", who, c->sigma,
		                 (unsigned long long)counters[0], (unsigned long long)counters[2]);
	c->countiter = (size_t)counters[0];
	c->countevals = (size_t)counters[1];
	c->last_eigen = (size_t)counters[2];
	c->flat_warned = counters[3] != 0;
	c->asked = 0;
	c->stop = NULL;
	return BBT_OK;
}

size_t bbt_cma_stats(void *state, struct bbt_optimizer_stat *out, size_t cap)
{
	const struct bbt_cma *c = state;
	if (c == NULL || out == NULL)
		return 0;
	const struct bbt_optimizer_stat all[] = {
		{ "sigma", c->sigma },
		{ "countiter", (double)c->countiter },
		{ "countevals", (double)c->countevals },
		{ "condition", c->cond },
		{ "best_loss", c->best_loss },
	};
	size_t k = sizeof all / sizeof all[0];
	if (k > cap)
		k = cap;
	memcpy(out, all, k * sizeof *out);
	return k;
}
