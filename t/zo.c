/*
 * t/zo.c - the zo-sgd and zo-adam optimizers and their shared
 * finite-difference core, linked in directly (the two descriptors are
 * renamed apart at compile time) and driven as the host drives them.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "../plugins/optimizers/zo_common/zo.h"
#include "plugin_host.h"
#include "state_check.h"
#include "tap.h"

extern const struct bbt_plugin zo_sgd_plugin, zo_adam_plugin;

#define MAXD 40
#define MAXQ 5000

/* One optimizer instance on the real host services. Zero-initialise; each
 * opt_create replaces the previous services (free the state first). */
struct opt {
	struct plugin_host ph;
	const bbt_host_t *host;
	const struct bbt_plugin *pl;
	void *state;
	struct bbt_optimizer_info info;
};

/* The real services for `pl`; NULL, with the host's message in err, when
 * it refuses the overrides (as -O would be refused). */
static const bbt_host_t *opt_host(struct opt *o, const struct bbt_plugin *pl, uint32_t seed,
                                  const char *const *over, char *err)
{
	plugin_host_release(&o->ph);
	o->host = plugin_host_init(&o->ph, pl, seed, over);
	snprintf(err, BBT_ERRLEN, "%s", o->ph.err);
	return o->host;
}

static int opt_create(struct opt *o, const struct bbt_plugin *pl, size_t d, size_t popsize,
                      uint32_t seed, const char *const *over, char *err)
{
	struct bbt_optimizer_params p;
	memset(&p, 0, sizeof p);
	p.space.kind = BBT_SPACE_BOX;
	p.space.dim = d;
	p.popsize = popsize;
	p.sigma = 1;
	o->pl = pl;
	o->state = (void *)o; /* must come back NULL on failure */
	o->info.batch = 0;
	if (opt_host(o, pl, seed, over, err) == NULL) {
		o->state = NULL;
		return BBT_EINVAL;
	}
	return pl->optimizer->create(o->host, &p, &o->state, &o->info, err, BBT_ERRLEN);
}

/* Test objectives, all with the optimum away from the start (the origin). */
static double shift_of(size_t i)
{
	return 1.0 + 0.1 * (double)i;
}

static double sphere(const double *z, size_t d)
{
	double s = 0;
	for (size_t i = 0; i < d; i++)
		s += (z[i] - shift_of(i)) * (z[i] - shift_of(i));
	return s;
}

/* f = 1/2 sum a_i (z_i - c_i)^2 + sum_{i} b z_i z_{i+1}: a quadratic with
 * a known gradient and off-diagonal coupling. */
static double quad_a(size_t i)
{
	return 1.0 + (double)(i % 5);
}

static double quadratic(const double *z, size_t d)
{
	double s = 0;
	for (size_t i = 0; i < d; i++)
		s += 0.5 * quad_a(i) * (z[i] - shift_of(i)) * (z[i] - shift_of(i));
	for (size_t i = 0; i + 1 < d; i++)
		s += 0.3 * z[i] * z[i + 1];
	return s;
}

static void quadratic_grad(const double *z, size_t d, double *g)
{
	for (size_t i = 0; i < d; i++) {
		g[i] = quad_a(i) * (z[i] - shift_of(i));
		if (i > 0)
			g[i] += 0.3 * z[i - 1];
		if (i + 1 < d)
			g[i] += 0.3 * z[i + 1];
	}
}

static double cosine(const double *a, const double *b, size_t d)
{
	double ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < d; i++) {
		ab += a[i] * b[i];
		aa += a[i] * a[i];
		bb += b[i] * b[i];
	}
	return ab / sqrt(aa * bb);
}

static double *xbuf, *fbuf, *ubuf;

/* One estimate at z0 (the optimizer's start) through the plugin's own ask:
 * the directions are read back from the candidates. */
static double estimate_cosine(const char *dirs, const char *diff, size_t q, double mu,
                              size_t d, uint32_t seed)
{
	char err[BBT_ERRLEN], qs[32], mus[32], ds[32], fs[32];
	snprintf(qs, sizeof qs, "q=%zu", q);
	snprintf(mus, sizeof mus, "mu=%g", mu);
	snprintf(ds, sizeof ds, "directions=%s", dirs);
	snprintf(fs, sizeof fs, "difference=%s", diff);
	const char *over[] = { qs, mus, ds, fs, NULL };
	struct opt o = { 0 };
	if (opt_create(&o, &zo_sgd_plugin, d, 0, seed, over, err) != 0) {
		plugin_host_release(&o.ph);
		return NAN;
	}
	size_t n = 0;
	zo_sgd_plugin.optimizer->ask(o.state, xbuf, &n, err, sizeof err);
	int central = strcmp(diff, "central") == 0;
	for (size_t k = 0; k < q; k++)
		for (size_t i = 0; i < d; i++)
			ubuf[k * d + i] = central ? (xbuf[2 * k * d + i] - xbuf[(2 * k + 1) * d + i]) /
			                                (2 * mu)
			                          : (xbuf[(k + 1) * d + i] - xbuf[i]) / mu;
	for (size_t c = 0; c < n; c++)
		fbuf[c] = quadratic(xbuf + c * d, d);
	double g[MAXD], gt[MAXD], z0[MAXD] = { 0 };
	zo_estimate(d, q, ubuf, fbuf, mu, central, strcmp(dirs, "sphere") == 0, g);
	quadratic_grad(z0, d, gt);
	zo_sgd_plugin.optimizer->free(o.state);
	plugin_host_release(&o.ph);
	return cosine(g, gt, d);
}

/* Runs zo-adam on the shifted sphere until f <= target or the budget ends;
 * returns the evaluations used (every candidate of every batch). */
static size_t adam_on_sphere(size_t d, const char *const *over, uint32_t seed, double target,
                             size_t budget, double *f_end)
{
	char err[BBT_ERRLEN];
	struct opt o = { 0 };
	double z[MAXD];
	if (opt_create(&o, &zo_adam_plugin, d, 0, seed, over, err) != 0) {
		diag("create: %s", err);
		plugin_host_release(&o.ph);
		return SIZE_MAX;
	}
	const struct bbt_optimizer_ops *ops = zo_adam_plugin.optimizer;
	size_t evals = 0;
	double f = INFINITY;
	while (evals < budget) {
		size_t n = 0;
		ops->ask(o.state, xbuf, &n, err, sizeof err);
		for (size_t c = 0; c < n; c++)
			fbuf[c] = sphere(xbuf + c * d, d);
		evals += n;
		ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		ops->recommend(o.state, z);
		f = sphere(z, d);
		if (f <= target)
			break;
	}
	ops->free(o.state);
	plugin_host_release(&o.ph);
	*f_end = f;
	return evals;
}

int main(void)
{
	char err[BBT_ERRLEN];
	struct opt o = { 0 }, o2 = { 0 };
	size_t n;
	int rc;

	xbuf = malloc(2 * MAXQ * MAXD * sizeof *xbuf);
	fbuf = malloc(2 * MAXQ * sizeof *fbuf);
	ubuf = malloc(MAXQ * MAXD * sizeof *ubuf);
	if (!xbuf || !fbuf || !ubuf)
		skip_all("out of memory");

	plan(47 + 3 * STATE_CHECK_TESTS);

	/* ABI 1.3 state: both rules, forward and central differences. */
	{
		struct bbt_optimizer_params sp = (struct bbt_optimizer_params){ .space = { BBT_SPACE_BOX, 5, 2, 0 }, .popsize = 6, .sigma = 0.5, .budget = 1000, .seed = 7 };
		const char *const central[] = { "difference=central", "directions=sphere", NULL };
		check_state(&zo_sgd_plugin, &sp, NULL, 4);
		check_state(&zo_sgd_plugin, &sp, central, 4);
		check_state(&zo_adam_plugin, &sp, NULL, 4);
	}

	/* Descriptors */
	const struct bbt_plugin *pls[2] = { &zo_sgd_plugin, &zo_adam_plugin };
	const char *names[2] = { "zo-sgd", "zo-adam" };
	for (int k = 0; k < 2; k++) {
		const struct bbt_plugin *pl = pls[k];
		ok(pl->abi_major == BBT_ABI_MAJOR && pl->kind == BBT_PLUGIN_OPTIMIZER &&
		   strcmp(pl->name, names[k]) == 0 && pl->flags == 0,
		   "%s: descriptor (ABI, kind, name, box spaces)", names[k]);
		int has[5] = { 0 };
		const char *want[5] = { "q", "mu", "directions", "difference", "lr" };
		for (const struct bbt_option_spec *s = pl->options; s->name; s++)
			for (int w = 0; w < 5; w++)
				has[w] |= strcmp(s->name, want[w]) == 0;
		ok(has[0] && has[1] && has[2] && has[3] && has[4],
		   "%s: options q, mu, directions, difference, lr", names[k]);
		pl->optimizer->free(NULL);
	}

	/* Batches: f(z) and the perturbations in one ask. */
	{
		const char *q5[] = { "q=5", NULL };
		rc = opt_create(&o, &zo_sgd_plugin, 8, 0, 1, q5, err);
		ok(rc == 0 && o.info.batch == 6, "forward, q=5: batches of q+1 = 6");
		n = 0;
		zo_sgd_plugin.optimizer->ask(o.state, xbuf, &n, err, sizeof err);
		double zero[8] = { 0 };
		ok(n == 6 && memcmp(xbuf, zero, sizeof zero) == 0,
		   "the first candidate is the iterate itself (the origin)");
		double maxdev = 0;
		for (size_t i = 8; i < 6 * 8; i++)
			maxdev = fabs(xbuf[i]) > maxdev ? fabs(xbuf[i]) : maxdev;
		ok(maxdev > 0 && maxdev < 0.01 * 6, "the others are within a few mu of it (%g)", maxdev);
		zo_sgd_plugin.optimizer->free(o.state);

		const char *c5[] = { "q=5", "difference=central", NULL };
		rc = opt_create(&o, &zo_adam_plugin, 8, 0, 1, c5, err);
		ok(rc == 0 && o.info.batch == 10, "central, q=5: batches of 2q = 10");
		zo_adam_plugin.optimizer->ask(o.state, xbuf, &n, err, sizeof err);
		int mirrored = n == 10;
		for (size_t k = 0; k < 5 && mirrored; k++)
			for (size_t i = 0; i < 8; i++)
				mirrored &= xbuf[2 * k * 8 + i] == -xbuf[(2 * k + 1) * 8 + i];
		ok(mirrored, "central pairs are z + mu u and z - mu u");
		zo_adam_plugin.optimizer->free(o.state);

		rc = opt_create(&o, &zo_adam_plugin, 8, 20, 1, NULL, err);
		ok(rc == 0 && o.info.batch == 20, "q=0, popsize 20, forward: q = 19, batch 20");
		zo_adam_plugin.optimizer->free(o.state);
		const char *cen[] = { "difference=central", NULL };
		rc = opt_create(&o, &zo_adam_plugin, 8, 0, 1, cen, err);
		ok(rc == 0 && o.info.batch == 20, "q=0, popsize 0 (20), central: q = 10, batch 20");
		zo_adam_plugin.optimizer->free(o.state);
	}

	/* The estimate against the true gradient of a quadratic (d = 10). */
	{
		size_t d = 10;
		const char *dirs[2] = { "gaussian", "sphere" };
		const char *diffs[2] = { "forward", "central" };
		for (int a = 0; a < 2; a++) {
			for (int b = 0; b < 2; b++) {
				double small = 0;
				for (uint64_t s = 1; s <= 20; s++)
					small += estimate_cosine(dirs[a], diffs[b], 2, 1e-6, d, s) / 20;
				double big = estimate_cosine(dirs[a], diffs[b], MAXQ, 1e-6, d, 7);
				ok(big > 0.995, "%s/%s: cosine with the true gradient at q=%d, mu=1e-6: %.5f",
				   dirs[a], diffs[b], MAXQ, big);
				ok(small < 0.8 && small < big,
				   "%s/%s: far lower at q=2 (mean over 20 seeds %.3f)", dirs[a], diffs[b],
				   small);
			}
		}
		/* A large mu: the central difference is exact on a quadratic, the
		 * forward one is biased by mu/2 u'Hu. One draw: the gap is about
		 * 0.03 at this q, under 0.02 for about 1 seed in 5; seed 8 is a
		 * typical one. */
		double cf = estimate_cosine("gaussian", "forward", MAXQ, 5.0, d, 8);
		double cc = estimate_cosine("gaussian", "central", MAXQ, 5.0, d, 8);
		ok(cc > 0.995 && cf < cc - 0.02,
		   "mu=5: central stays exact (%.4f), forward is biased (%.4f)", cc, cf);
	}

	/* tell steps with the estimate: zo-sgd's z1 = z0 - lr g, then
	 * momentum: z2 = z1 - lr (g2 + m g1). */
	{
		size_t d = 6, q = 4;
		const char *over[] = { "q=4", "mu=1e-3", "lr=0.1", "momentum=0.5", NULL };
		rc = opt_create(&o, &zo_sgd_plugin, d, 0, 3, over, err);
		const struct bbt_optimizer_ops *ops = zo_sgd_plugin.optimizer;
		double z0[6], z1[6], z2[6], g1[6], g2[6];
		ops->recommend(o.state, z0);
		double *gs[2] = { g1, g2 }, *zs[2] = { z1, z2 };
		for (int step = 0; step < 2; step++) {
			ops->ask(o.state, xbuf, &n, err, sizeof err);
			for (size_t k = 0; k < q; k++)
				for (size_t i = 0; i < d; i++)
					ubuf[k * d + i] = (xbuf[(k + 1) * d + i] - xbuf[i]) / 1e-3;
			for (size_t c = 0; c < n; c++)
				fbuf[c] = quadratic(xbuf + c * d, d);
			zo_estimate(d, q, ubuf, fbuf, 1e-3, 0, 0, gs[step]);
			rc |= ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
			ops->recommend(o.state, zs[step]);
		}
		double e1 = 0, e2 = 0;
		for (size_t i = 0; i < d; i++) {
			e1 = fmax(e1, fabs(z1[i] - (z0[i] - 0.1 * g1[i])));
			e2 = fmax(e2, fabs(z2[i] - (z1[i] - 0.1 * (g2[i] + 0.5 * g1[i]))));
		}
		ok(rc == 0 && e1 < 1e-6, "zo-sgd step: z1 = z0 - lr g1 (error %g)", e1);
		ok(e2 < 1e-6, "momentum: z2 = z1 - lr (g2 + 0.5 g1) (error %g)", e2);
		struct bbt_optimizer_stat st[16];
		size_t ns = ops->stats(o.state, st, 16);
		int found = 0;
		for (size_t i = 0; i < ns; i++)
			found += strcmp(st[i].name, "countevals") == 0 && st[i].value == 10;
		ok(found == 1, "stats: countevals 10 after two batches of q+1 = 5");
		ops->free(o.state);
	}

	/* ZO-Adam on the shifted sphere, d = 10, from the origin (f = 21.85):
	 * six orders of magnitude within 3000 evaluations, f(z) included
	 * (q = 10: 11 per step). These settings need about 1600 (see the
	 * diag): the budget leaves room for another seed or libm, not for a
	 * broken estimator or step. */
	{
		size_t d = 10;
		double f0 = sphere((double[MAXD]){ 0 }, d), f_end;
		const char *over[] = { "q=10", "mu=1e-6", "lr=0.1", NULL };
		size_t used = adam_on_sphere(d, over, 11, 1e-6 * f0, 3000, &f_end);
		diag("zo-adam, sphere d=10: f %.3g -> %.3g in %zu evaluations", f0, f_end, used);
		ok(f_end <= 1e-6 * f0 && used <= 3000,
		   "zo-adam: sphere (d=10) from %.2f down 6 orders of magnitude within 3000 "
		   "evaluations (%zu used, f = %.2g)", f0, used, f_end);
		const char *cen[] = { "q=5", "mu=1e-6", "lr=0.1", "difference=central",
		                      "directions=sphere", NULL };
		used = adam_on_sphere(d, cen, 11, 1e-6 * f0, 3000, &f_end);
		diag("zo-adam, central/sphere, d=10: f -> %.3g in %zu evaluations", f_end, used);
		ok(f_end <= 1e-6 * f0, "zo-adam, central differences along sphere directions: "
		   "also 6 orders within 3000 (%zu used)", used);
	}

	/* The estimate behind a step, for --grad-check: where it was taken and
	 * what it was, before the iterate moved. */
	{
		size_t d = 6;
		const char *over[] = { "q=4", "mu=1e-3", NULL };
		rc = opt_create(&o, &zo_sgd_plugin, d, 0, 9, over, err);
		const struct bbt_optimizer_ops *ops = zo_sgd_plugin.optimizer;
		double at[MAXD], g[MAXD], want[MAXD], z[MAXD];
		ok(rc == 0 && ops->gradient_estimate(o.state, at, g) == BBT_ENOTSUP,
		   "no estimate before the first step");
		for (int it = 0; it < 3; it++) {
			ops->ask(o.state, xbuf, &n, err, sizeof err);
			for (size_t c = 0; c < n; c++)
				fbuf[c] = sphere(xbuf + c * d, d);
			ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		}
		/* forward differences: candidate 0 is the iterate, and candidate
		 * k + 1 = z + mu u_k gives back u_k */
		for (size_t k = 0; k < 4; k++)
			for (size_t i = 0; i < d; i++)
				ubuf[k * d + i] = (xbuf[(k + 1) * d + i] - xbuf[i]) / 1e-3;
		zo_estimate(d, 4, ubuf, fbuf, 1e-3, 0, 0, want);
		rc = ops->gradient_estimate(o.state, at, g);
		double eg = 0;
		for (size_t i = 0; i < d; i++)
			eg = fmax(eg, fabs(g[i] - want[i]) / (fabs(want[i]) + 1e-9));
		ok(rc == 0 && memcmp(at, xbuf, d * sizeof *at) == 0,
		   "the estimate's point is the iterate of the last ask");
		ops->recommend(o.state, z);
		ok(eg < 1e-6 && memcmp(z, at, d * sizeof *z) != 0,
		   "the estimate is the last step's (rel. error %.1g), and the iterate moved on", eg);
		ops->free(o.state);
	}

	/* zo-sgd makes progress on the sphere too (a weaker claim: no schedule). */
	{
		size_t d = 10;
		const char *over[] = { "q=10", "mu=1e-6", "lr=0.05", NULL };
		rc = opt_create(&o, &zo_sgd_plugin, d, 0, 5, over, err);
		const struct bbt_optimizer_ops *ops = zo_sgd_plugin.optimizer;
		double z[MAXD];
		for (int it = 0; it < 300; it++) {
			ops->ask(o.state, xbuf, &n, err, sizeof err);
			for (size_t c = 0; c < n; c++)
				fbuf[c] = sphere(xbuf + c * d, d);
			ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		}
		ops->recommend(o.state, z);
		ok(rc == 0 && sphere(z, d) < 1e-6, "zo-sgd: sphere d=10 below 1e-6 in 3300 evaluations "
		   "(%.2g)", sphere(z, d));
		ops->free(o.state);
	}

	/* Budget accounting: every evaluation is a candidate of some batch. */
	{
		size_t d = 5, evals = 0, asks = 0;
		const char *over[] = { "q=3", NULL };
		rc = opt_create(&o, &zo_adam_plugin, d, 0, 9, over, err);
		const struct bbt_optimizer_ops *ops = zo_adam_plugin.optimizer;
		double before[5];
		int base_first = 1;
		for (int it = 0; it < 25; it++) {
			ops->recommend(o.state, before);
			ops->ask(o.state, xbuf, &n, err, sizeof err);
			base_first &= memcmp(xbuf, before, sizeof before) == 0;
			for (size_t c = 0; c < n; c++)
				fbuf[c] = sphere(xbuf + c * d, d);
			evals += n;
			asks++;
			ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		}
		struct bbt_optimizer_stat st[16];
		size_t ns = ops->stats(o.state, st, 16);
		double ce = -1, ci = -1;
		for (size_t i = 0; i < ns; i++) {
			if (strcmp(st[i].name, "countevals") == 0)
				ce = st[i].value;
			if (strcmp(st[i].name, "countiter") == 0)
				ci = st[i].value;
		}
		ok(base_first, "every forward batch starts with f(z) at the current iterate");
		ok(ce == (double)evals && evals == 25 * 4 && ci == 25,
		   "countevals %.0f = the %zu evaluations of 25 batches of q+1 = 4", ce, evals);
		ok(ops->stats(o.state, st, 2) == 2, "stats honours cap");
		ops->free(o.state);
	}

	/* Same seed, same trajectory; another seed, another one. */
	{
		size_t d = 7;
		const char *over[] = { "q=4", "directions=sphere", NULL };
		double za[7], zb[7];
		int same = 1;
		rc = opt_create(&o, &zo_adam_plugin, d, 0, 77, over, err);
		rc |= opt_create(&o2, &zo_adam_plugin, d, 0, 77, over, err);
		for (int it = 0; it < 30 && same; it++) {
			size_t n2;
			zo_adam_plugin.optimizer->ask(o.state, xbuf, &n, err, sizeof err);
			zo_adam_plugin.optimizer->ask(o2.state, xbuf + n * d, &n2, err, sizeof err);
			same = n == n2 && memcmp(xbuf, xbuf + n * d, n * d * sizeof *xbuf) == 0;
			for (size_t c = 0; c < n; c++)
				fbuf[c] = sphere(xbuf + c * d, d);
			zo_adam_plugin.optimizer->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
			zo_adam_plugin.optimizer->tell(o2.state, xbuf, n, fbuf, NULL, err, sizeof err);
		}
		zo_adam_plugin.optimizer->recommend(o.state, za);
		zo_adam_plugin.optimizer->recommend(o2.state, zb);
		ok(rc == 0 && same && memcmp(za, zb, sizeof za) == 0,
		   "same seed: identical candidates for 30 steps and the same iterate");
		zo_adam_plugin.optimizer->free(o.state);
		zo_adam_plugin.optimizer->free(o2.state);
		rc = opt_create(&o, &zo_adam_plugin, d, 0, 77, over, err);
		rc |= opt_create(&o2, &zo_adam_plugin, d, 0, 78, over, err);
		zo_adam_plugin.optimizer->ask(o.state, xbuf, &n, err, sizeof err);
		zo_adam_plugin.optimizer->ask(o2.state, xbuf + n * d, &n, err, sizeof err);
		ok(rc == 0 && memcmp(xbuf, xbuf + n * d, n * d * sizeof *xbuf) != 0 &&
		   memcmp(xbuf, xbuf + n * d, d * sizeof *xbuf) == 0,
		   "another seed: same iterate first, other directions");
		zo_adam_plugin.optimizer->free(o.state);
		zo_adam_plugin.optimizer->free(o2.state);
	}

	/* Direction norms: sphere directions have unit length. */
	{
		const char *over[] = { "q=6", "directions=sphere", "mu=0.5", NULL };
		rc = opt_create(&o, &zo_sgd_plugin, 9, 0, 2, over, err);
		zo_sgd_plugin.optimizer->ask(o.state, xbuf, &n, err, sizeof err);
		double worst = 0;
		for (size_t k = 1; k < n; k++) {
			double n2 = 0;
			for (size_t i = 0; i < 9; i++)
				n2 += xbuf[k * 9 + i] * xbuf[k * 9 + i];
			worst = fmax(worst, fabs(sqrt(n2) - 0.5));
		}
		ok(rc == 0 && worst < 1e-12, "sphere: every perturbation has length mu exactly");
		zo_sgd_plugin.optimizer->free(o.state);
	}

	/* Failures and edge cases */
	{
		const struct bbt_optimizer_ops *ops = zo_adam_plugin.optimizer;
		const char *over[] = { "q=3", NULL };
		rc = opt_create(&o, &zo_adam_plugin, 4, 0, 1, over, err);
		ops->ask(o.state, xbuf, &n, err, sizeof err);
		for (size_t c = 0; c < n; c++)
			fbuf[c] = 1;
		rc = ops->tell(o.state, xbuf, 2, fbuf, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL, "a partial batch is refused");
		like(err, "needs the whole batch", "message says why");
		fbuf[2] = NAN;
		double z[4];
		rc = ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		ops->recommend(o.state, z);
		ok(rc == 0 && z[0] == 0 && z[3] == 0 && o.ph.warnings == 1,
		   "a NaN loss skips the step (z unchanged, one warning)");
		rc = ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL, "tell twice for one ask refused");
		ops->free(o.state);

		struct bbt_optimizer_params p;
		memset(&p, 0, sizeof p);
		p.space.kind = BBT_SPACE_CATEGORICAL;
		p.space.dim = 3;
		p.space.choices = 4;
		opt_host(&o, &zo_adam_plugin, 1, NULL, err);
		o.state = &o;
		rc = ops->create(o.host, &p, &o.state, &o.info, err, sizeof err);
		ok(rc == BBT_EINVAL && o.state == NULL, "a categorical space is refused");
		like(err, "box", "message");

		const char *bad[] = { "mu=0", NULL };
		rc = opt_create(&o, &zo_adam_plugin, 4, 0, 1, bad, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "mu = 0 refused");
		const char *badlr[] = { "lr=-1", NULL };
		rc = opt_create(&o, &zo_sgd_plugin, 4, 0, 1, badlr, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "a negative lr refused");
		like(err, "zo-sgd", "message names the plugin");
		const char *badb[] = { "beta2=1", NULL };
		rc = opt_create(&o, &zo_adam_plugin, 4, 0, 1, badb, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "beta2 = 1 refused");
		rc = opt_create(&o, &zo_adam_plugin, 0, 0, 1, NULL, err);
		ok(rc == BBT_EINVAL, "dimension 0 refused");

		/* A bounded space keeps the iterate inside. */
		memset(&p, 0, sizeof p);
		p.space.kind = BBT_SPACE_BOX;
		p.space.dim = 4;
		p.space.bound = 0.5;
		const char *fast[] = { "q=3", "lr=1", NULL };
		opt_host(&o, &zo_adam_plugin, 1, fast, err);
		rc = ops->create(o.host, &p, &o.state, &o.info, err, sizeof err);
		double worst = 0;
		for (int it = 0; it < 20; it++) {
			ops->ask(o.state, xbuf, &n, err, sizeof err);
			for (size_t c = 0; c < n * 4; c++)
				worst = fmax(worst, fabs(xbuf[c]));
			for (size_t c = 0; c < n; c++)
				fbuf[c] = sphere(xbuf + c * 4, 4);   /* optimum outside the box */
			ops->tell(o.state, xbuf, n, fbuf, NULL, err, sizeof err);
		}
		ops->recommend(o.state, z);
		ok(rc == 0 && worst <= 0.5 && fabs(z[0] - 0.5) < 1e-12,
		   "bound 0.5: candidates stay inside, the iterate ends on the face");
		ops->free(o.state);
	}

	plugin_host_release(&o.ph);
	plugin_host_release(&o2.ph);
	free(xbuf);
	free(fbuf);
	free(ubuf);
	return done_testing();
}
