/*
 * t/bdpl.c - the bdpl optimizer (black-box discrete prompt learning),
 * linked in directly and driven as the host drives it, on synthetic
 * categorical objectives whose best prompt is known.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "plugin_host.h"
#include "state_check.h"
#include "tap.h"

extern const struct bbt_plugin bbt_plugin;

/* One optimizer instance on the real host services. Zero-initialise; each
 * opt_host replaces the previous services (free the state first). */
struct opt {
	struct plugin_host ph;
	const bbt_host_t *host;
	void *state;
	struct bbt_optimizer_info info;
};

/* NULL, with the host's message in err, when it refuses the overrides. */
static const bbt_host_t *opt_host(struct opt *o, uint32_t seed, const char *const *over,
                                  char *err)
{
	plugin_host_release(&o->ph);
	o->host = plugin_host_init(&o->ph, &bbt_plugin, seed, over);
	snprintf(err, BBT_ERRLEN, "%s", o->ph.err);
	return o->host;
}

static int opt_create(struct opt *o, size_t L, size_t K, size_t popsize, uint32_t seed,
                      const char *const *over, char *err)
{
	struct bbt_optimizer_params p;
	memset(&p, 0, sizeof p);
	p.space.kind = BBT_SPACE_CATEGORICAL;
	p.space.dim = L;
	p.space.choices = K;
	p.popsize = popsize;
	o->state = (void *)o; /* must come back NULL on failure */
	o->info.batch = 0;
	if (opt_host(o, seed, over, err) == NULL) {
		o->state = NULL;
		return BBT_EINVAL;
	}
	return bbt_plugin.optimizer->create(o->host, &p, &o->state, &o->info, err, BBT_ERRLEN);
}

static double stat(struct opt *o, const char *name)
{
	struct bbt_optimizer_stat st[16];
	size_t n = bbt_plugin.optimizer->stats(o->state, st, 16);
	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	return NAN;
}

/* One best token per position: best(i) = (3 i + 1) mod K costs 0, every
 * other token 1 + (j mod 3) / 4, so the wrong choices are not all alike. */
static size_t best_token(size_t i, size_t K)
{
	return (3 * i + 1) % K;
}

static double objective(const double *x, size_t L, size_t K)
{
	double s = 0;
	for (size_t i = 0; i < L; i++) {
		size_t j = (size_t)x[i];
		s += j == best_token(i, K) ? 0.0 : 1.0 + (double)(j % 3) / 4.0;
	}
	return s / (double)L;
}

/* Runs `steps` ask/tell rounds on the objective; returns the evaluations. */
static size_t run(struct opt *o, size_t L, size_t K, size_t steps, double *x, double *loss)
{
	const struct bbt_optimizer_ops *ops = bbt_plugin.optimizer;
	char err[BBT_ERRLEN];
	size_t evals = 0;
	for (size_t s = 0; s < steps; s++) {
		size_t n = 0;
		if (ops->ask(o->state, x, &n, err, sizeof err) != 0)
			break;
		for (size_t k = 0; k < n; k++)
			loss[k] = objective(x + k * L, L, K);
		evals += n;
		if (ops->tell(o->state, x, n, loss, NULL, err, sizeof err) != 0)
			break;
	}
	return evals;
}

int main(void)
{
	const struct bbt_optimizer_ops *ops = bbt_plugin.optimizer;
	char err[BBT_ERRLEN];
	struct opt o = { 0 }, o2 = { 0 };
	double x[64 * 40], y[64 * 40], loss[64], rec[64];
	size_t n;
	int rc;

	plan(30 + STATE_CHECK_TESTS);

	/* ABI 1.3 state */
	{
		struct bbt_optimizer_params sp = { .space = { BBT_SPACE_CATEGORICAL, 4, 0, 6 },
			                           .popsize = 5, .budget = 1000, .seed = 7 };
		check_state(&bbt_plugin, &sp, NULL, 4);
	}

	/* Descriptor */
	ok(bbt_plugin.abi_major == BBT_ABI_MAJOR && bbt_plugin.kind == BBT_PLUGIN_OPTIMIZER &&
	   strcmp(bbt_plugin.name, "bdpl") == 0, "descriptor: ABI, kind, name bdpl");
	ok(bbt_plugin.flags == BBT_OPTIMIZER_CATEGORICAL, "flag: categorical spaces");
	ops->free(NULL);
	ok(1, "free(NULL) is a no-op");

	/* Start: uniform, I from popsize or sample_size. */
	rc = opt_create(&o, 5, 8, 0, 1, NULL, err);
	ok(rc == 0 && o.info.batch == 20, "sample_size 0 and popsize 0: I = 20 (the paper's)");
	is_double(stat(&o, "mean_max_prob"), 1.0 / 8, 1e-15, "uniform at the start: max p = 1/K");
	is_double(stat(&o, "mean_entropy"), log(8.0), 1e-12, "entropy log K");
	ops->recommend(o.state, rec);
	ok(rec[0] == 0 && rec[4] == 0, "arg-max of a uniform row: the first choice");
	{
		size_t count[8] = { 0 }, bad = 0;
		for (int it = 0; it < 50; it++) {
			ops->ask(o.state, x, &n, err, sizeof err);
			for (size_t q = 0; q < n * 5; q++) {
				if (x[q] != floor(x[q]) || x[q] < 0 || x[q] > 7)
					bad++;
				else
					count[(size_t)x[q]]++;
			}
		}
		size_t lo = SIZE_MAX, hi = 0;
		for (int j = 0; j < 8; j++) {
			lo = count[j] < lo ? count[j] : lo;
			hi = count[j] > hi ? count[j] : hi;
		}
		ok(bad == 0 && lo > 550 && hi < 700,
		   "samples are choices 0..7, drawn evenly from the uniform start (%zu..%zu of 5000)",
		   lo, hi);
	}
	ops->free(o.state);
	const char *s7[] = { "sample_size=7", NULL };
	rc = opt_create(&o, 5, 8, 20, 1, s7, err);
	ok(rc == 0 && o.info.batch == 7, "sample_size=7 wins over popsize 20");
	ops->free(o.state);
	rc = opt_create(&o, 5, 8, 12, 1, NULL, err);
	ok(rc == 0 && o.info.batch == 12, "sample_size 0: I = popsize 12");
	ops->free(o.state);

	/* Equal losses: no gradient; weight decay alone is undone by the
	 * projection onto the simplex, so the rows stay uniform. */
	rc = opt_create(&o, 3, 4, 6, 2, NULL, err);
	ops->ask(o.state, x, &n, err, sizeof err);
	for (size_t k = 0; k < n; k++)
		loss[k] = 0.5;   /* exact in binary: the mean is exact, the gradient 0 */
	rc |= ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
	ok(rc == 0 && fabs(stat(&o, "mean_max_prob") - 0.25) < 1e-12 && stat(&o, "gradnorm") == 0,
	   "equal losses: zero gradient, rows stay uniform after decay and projection");
	ops->free(o.state);

	/* One step by hand: L = 1, K = 2, I = 2, prompt 0 loses 1, prompt 1
	 * loses 0. g = (+1/p0, -1/p1) * (0.5 / 1) = (1, -1); Adam's first step
	 * is lr * sign(g); the projection restores the sum: p1 - p0 = 2 lr. */
	{
		const char *lr[] = { "lr=0.01", "sample_size=2", NULL };
		rc = opt_create(&o, 1, 2, 0, 3, lr, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		x[0] = 0;
		x[1] = 1;
		loss[0] = 1;
		loss[1] = 0;
		rc |= ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && rec[0] == 1, "the lower-loss choice becomes the arg-max");
		is_double(stat(&o, "mean_max_prob"), 0.51, 1e-9,
		          "leave-one-out gradient, AdamW step and projection: p = (0.49, 0.51)");
		is_double(stat(&o, "gradnorm"), sqrt(2.0), 1e-12, "|g| = sqrt(2) before clipping");
		ops->free(o.state);
	}

	/* The synthetic objective: one best token per position (L = 6, K = 10).
	 * The paper's lr 1e-4 suits K = 200 and budgets of 8000 calls with
	 * real losses; lr 0.02 lets this 6000-evaluation test converge. */
	{
		size_t L = 6, K = 10;
		const char *over[] = { "lr=0.02", NULL };
		rc = opt_create(&o, L, K, 20, 42, over, err);
		double start_entropy = stat(&o, "mean_entropy");
		size_t evals = run(&o, L, K, 300, x, loss);
		ops->recommend(o.state, rec);
		int found = 1;
		for (size_t i = 0; i < L; i++)
			found &= rec[i] == (double)best_token(i, K);
		ok(rc == 0 && evals == 6000 && found,
		   "finds the best token at every position in %zu evaluations", evals);
		double mmp = stat(&o, "mean_max_prob"), minp = stat(&o, "min_max_prob");
		ok(minp > 0.9, "probabilities concentrate: every row's max above 0.9 (mean %.3f, "
		   "min %.3f)", mmp, minp);
		ok(stat(&o, "mean_entropy") < 0.2 * start_entropy,
		   "entropy from %.3f to %.3f", start_entropy, stat(&o, "mean_entropy"));
		ops->ask(o.state, x, &n, err, sizeof err);
		size_t hits = 0;
		for (size_t k = 0; k < n; k++)
			hits += objective(x + k * L, L, K) == 0;
		ok(hits >= n / 2, "most samples are now the best prompt (%zu of %zu)", hits, n);
		ok(stat(&o, "countevals") == 6000 && stat(&o, "countiter") == 300,
		   "stats: countevals 6000, countiter 300");
		ops->free(o.state);

		/* Default lr: the same direction, much slower. */
		rc = opt_create(&o, L, K, 20, 42, NULL, err);
		run(&o, L, K, 300, x, loss);
		mmp = stat(&o, "mean_max_prob");
		ok(rc == 0 && mmp > 0.1 + 1e-3 && mmp < 0.5,
		   "default lr 1e-4: moving off uniform, slowly (mean max p %.4f)", mmp);
		ops->free(o.state);
	}

	/* Same seed, same trajectory. */
	{
		const char *over[] = { "lr=0.01", NULL };
		rc = opt_create(&o, 4, 6, 10, 5, over, err);
		rc |= opt_create(&o2, 4, 6, 10, 5, over, err);
		int same = rc == 0;
		for (int it = 0; it < 40 && same; it++) {
			size_t n2;
			ops->ask(o.state, x, &n, err, sizeof err);
			ops->ask(o2.state, y, &n2, err, sizeof err);
			same = n == n2 && memcmp(x, y, n * 4 * sizeof *x) == 0;
			for (size_t k = 0; k < n; k++)
				loss[k] = objective(x + k * 4, 4, 6);
			ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
			ops->tell(o2.state, y, n, loss, NULL, err, sizeof err);
		}
		ok(same && stat(&o, "mean_entropy") == stat(&o2, "mean_entropy"),
		   "same seed: identical samples for 40 steps and the same distribution");
		ops->free(o.state);
		ops->free(o2.state);
	}

	/* Failures */
	{
		rc = opt_create(&o, 3, 4, 4, 1, NULL, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		for (size_t k = 0; k < n; k++)
			loss[k] = (double)k;
		rc = ops->tell(o.state, x, n - 1, loss, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL, "a partial batch is refused");
		like(err, "needs the whole batch", "message says why");
		x[2] = 4;
		rc = ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL, "a candidate outside 0..K-1 is refused");
		like(err, "not a choice in 0..3", "message");
		x[2] = 1;
		loss[1] = NAN;
		rc = ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
		ok(rc == 0 && stat(&o, "skipped_steps") == 1 && o.ph.warnings == 1 &&
		   stat(&o, "mean_max_prob") == 0.25, "a NaN loss skips the step, with a warning");
		ops->free(o.state);

		struct bbt_optimizer_params p;
		memset(&p, 0, sizeof p);
		p.space.kind = BBT_SPACE_BOX;
		p.space.dim = 3;
		opt_host(&o, 1, NULL, err);
		o.state = &o;
		rc = ops->create(o.host, &p, &o.state, &o.info, err, sizeof err);
		ok(rc == BBT_EINVAL && o.state == NULL, "a box space is refused");
		like(err, "categorical", "message");
		const char *one[] = { "sample_size=1", NULL };
		rc = opt_create(&o, 3, 4, 0, 1, one, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "one sample per step is refused");
		rc = opt_create(&o, 3, 0, 0, 1, NULL, err);
		ok(rc == BBT_EINVAL, "0 choices refused");
	}

	plugin_host_release(&o.ph);
	plugin_host_release(&o2.ph);
	return done_testing();
}
