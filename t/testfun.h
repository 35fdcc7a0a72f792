/*
 * t/testfun.h - the standard test functions of the CMA-ES literature
 * (Hansen's tutorial, arXiv:1604.00772, Table 3; Hansen & Ostermeier 2001),
 * shifted so that the optimum is not the start, and a driver that runs an
 * optimizer plugin on one of them until a target loss, on the real host
 * services (plugin_host.h). Header-only; used by t/cmaes.c and
 * bench/cmaes.c, which link libbbthost.
 *
 *     f_sphere(x)    = sum y_i^2
 *     f_elli(x)      = sum 10^(6 (i-1)/(n-1)) y_i^2        condition 1e6
 *     f_rotelli(x)   = f_elli(R y), R a fixed random rotation
 *     f_rosen(x)     = sum 100 (u_i^2 - u_{i+1})^2 + (u_i - 1)^2, u = y + 1
 *
 * with y = x - s, s_i = sin(2.1 i + 0.7) in [-1, 1]: every optimum has
 * f = 0 at x = s, distance about sqrt(n/2) from the origin.
 */
#ifndef BBT_T_TESTFUN_H
#define BBT_T_TESTFUN_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "plugin_host.h"

enum tf_kind { TF_SPHERE, TF_ELLI, TF_ROTELLI, TF_ROSEN };

static const char *const tf_names[] = { "sphere", "ellipsoid", "rotated ellipsoid",
                                        "rosenbrock" };

struct tf_problem {
	enum tf_kind kind;
	size_t n;
	double *s;      /* shift, n */
	double *R;      /* rotation, n x n (TF_ROTELLI), else NULL */
	double *y;      /* scratch, 2n */
	int exp_of_f;   /* 1: return exp(f) instead of f (an order-preserving transform) */
};

static inline uint64_t tf_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random orthogonal matrix: Gram-Schmidt on a Gaussian one (rows). */
static inline void tf_rotation(double *R, size_t n, uint64_t seed)
{
	uint64_t s = seed;
	for (size_t i = 0; i < n * n; i++) {
		double u1 = ((double)(tf_splitmix(&s) >> 11) + 1) * 0x1.0p-53;
		double u2 = (double)(tf_splitmix(&s) >> 11) * 0x1.0p-53;
		R[i] = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
	}
	for (size_t i = 0; i < n; i++) {
		double *r = R + i * n;
		for (size_t k = 0; k < i; k++) {
			const double *q = R + k * n;
			double d = 0;
			for (size_t j = 0; j < n; j++)
				d += r[j] * q[j];
			for (size_t j = 0; j < n; j++)
				r[j] -= d * q[j];
		}
		double nr = 0;
		for (size_t j = 0; j < n; j++)
			nr += r[j] * r[j];
		nr = sqrt(nr);
		for (size_t j = 0; j < n; j++)
			r[j] /= nr;
	}
}

static inline int tf_init(struct tf_problem *p, enum tf_kind kind, size_t n)
{
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->n = n;
	p->s = calloc(n, sizeof *p->s);
	p->y = calloc(2 * n, sizeof *p->y);
	if (kind == TF_ROTELLI)
		p->R = calloc(n * n, sizeof *p->R);
	if (!p->s || !p->y || (kind == TF_ROTELLI && !p->R))
		return -1;
	for (size_t i = 0; i < n; i++)
		p->s[i] = sin(2.1 * (double)i + 0.7);
	if (p->R)
		tf_rotation(p->R, n, 12345 + n);
	return 0;
}

static inline void tf_release(struct tf_problem *p)
{
	free(p->s);
	free(p->R);
	free(p->y);
	memset(p, 0, sizeof *p);
}

static inline double tf_elli(const double *y, size_t n)
{
	double f = 0;
	for (size_t i = 0; i < n; i++) {
		double c = n > 1 ? pow(10.0, 6.0 * (double)i / (double)(n - 1)) : 1;
		f += c * y[i] * y[i];
	}
	return f;
}

static inline double tf_eval(const struct tf_problem *p, const double *x)
{
	const size_t n = p->n;
	double *y = p->y, f = 0;
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] - p->s[i];
	switch (p->kind) {
	case TF_SPHERE:
		for (size_t i = 0; i < n; i++)
			f += y[i] * y[i];
		break;
	case TF_ELLI:
		f = tf_elli(y, n);
		break;
	case TF_ROTELLI: {
		double *ry = p->y + n;
		for (size_t i = 0; i < n; i++) {
			double d = 0;
			for (size_t j = 0; j < n; j++)
				d += p->R[i * n + j] * y[j];
			ry[i] = d;
		}
		f = tf_elli(ry, n);
		break;
	}
	case TF_ROSEN:
		for (size_t i = 0; i + 1 < n; i++) {
			double u = y[i] + 1, v = y[i + 1] + 1;
			f += 100 * (u * u - v) * (u * u - v) + (u - 1) * (u - 1);
		}
		break;
	}
	return p->exp_of_f ? exp(f) : f;
}

struct tf_result {
	size_t evals;       /* evaluations until best f < target (or all spent) */
	size_t iters;       /* generations told */
	double best;        /* best f seen */
	int reached;        /* 1: best < target */
	const char *stop;   /* the plugin's stop reason, or NULL */
};

/* Run `pl` from the origin with sigma0 = 1 on problem p until the best
 * f < target, a stop, or maxevals evaluations. popsize 0: the plugin's
 * default. over: option overrides. Returns 0, or the failing status. */
static inline int tf_run(const struct bbt_plugin *pl, struct tf_problem *p, uint64_t seed,
                         size_t popsize, double target, size_t maxevals,
                         const char *const *over, struct tf_result *res)
{
	const struct bbt_optimizer_ops *ops = pl->optimizer;
	struct plugin_host ph;
	const bbt_host_t *host;
	struct bbt_optimizer_params prm;
	struct bbt_optimizer_info info = { 0 };
	char err[BBT_ERRLEN];
	void *st = NULL;
	memset(res, 0, sizeof *res);
	res->best = HUGE_VAL;
	memset(&prm, 0, sizeof prm);
	prm.space.kind = BBT_SPACE_BOX;
	prm.space.dim = p->n;
	prm.popsize = popsize;
	prm.sigma = 1.0;
	prm.seed = seed;
	if ((host = plugin_host_init(&ph, pl, (uint32_t)seed, over)) == NULL)
		return BBT_EINVAL;
	ph.quiet = 1;
	int rc = ops->create(host, &prm, &st, &info, err, sizeof err);
	if (rc < 0) {
		plugin_host_release(&ph);
		return rc;
	}
	double *x = calloc(info.batch * p->n, sizeof *x);
	double *f = calloc(info.batch, sizeof *f);
	if (!x || !f) {
		free(x);
		free(f);
		ops->free(st);
		plugin_host_release(&ph);
		return BBT_ENOMEM;
	}
	while (res->evals < maxevals) {
		size_t m = 0;
		if ((rc = ops->ask(st, x, &m, err, sizeof err)) < 0)
			break;
		for (size_t k = 0; k < m; k++) {
			f[k] = tf_eval(p, x + k * p->n);
			double raw = p->exp_of_f ? log(f[k]) : f[k];
			res->evals++;
			if (raw < res->best)
				res->best = raw;
			if (res->best < target && !res->reached) {
				res->reached = 1;
				break;
			}
		}
		if (res->reached)
			break;
		rc = ops->tell(st, x, m, f, NULL, err, sizeof err);
		res->iters++;
		if (rc != 0) {
			res->stop = ops->stop_reason(st);
			break;
		}
	}
	free(x);
	free(f);
	ops->free(st);
	plugin_host_release(&ph);
	return rc < 0 ? rc : 0;
}

static inline int tf_cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Median of the evaluations to target over `runs` seeds (1, 2, ...), a run
 * that misses counting as maxevals + 1; *hits gets how many reached it. */
static inline size_t tf_median_evals(const struct bbt_plugin *pl, enum tf_kind kind, size_t n,
                                     size_t runs, size_t popsize, double target,
                                     size_t maxevals, const char *const *over, size_t *hits)
{
	struct tf_problem p;
	size_t *ev = calloc(runs, sizeof *ev), med;
	memset(&p, 0, sizeof p);
	if (ev == NULL || tf_init(&p, kind, n) < 0) {
		free(ev);
		tf_release(&p);
		return (size_t)-1;
	}
	if (hits)
		*hits = 0;
	for (size_t r = 0; r < runs; r++) {
		struct tf_result res;
		int rc = tf_run(pl, &p, r + 1, popsize, target, maxevals, over, &res);
		ev[r] = rc == 0 && res.reached ? res.evals : maxevals + 1;
		if (hits && rc == 0 && res.reached)
			(*hits)++;
	}
	qsort(ev, runs, sizeof *ev, tf_cmp_size);
	med = ev[runs / 2];
	free(ev);
	tf_release(&p);
	return med;
}

#endif /* BBT_T_TESTFUN_H */
