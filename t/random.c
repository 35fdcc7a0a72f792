/*
 * t/random.c - the random-search optimizer, linked in directly and driven
 * through its descriptor, as the host would drive the loaded module.
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
 * opt_create replaces the previous services (free the state first). */
struct opt {
	struct plugin_host ph;
	const bbt_host_t *host;
	void *state;
	struct bbt_optimizer_info info;
};

static struct bbt_optimizer_params box_params(size_t dim, double bound, double sigma)
{
	struct bbt_optimizer_params p;
	memset(&p, 0, sizeof p);
	p.space.kind = BBT_SPACE_BOX;
	p.space.dim = dim;
	p.space.bound = bound;
	p.sigma = sigma;
	p.seed = 42;
	return p;
}

static const bbt_host_t *opt_host(struct opt *o, uint32_t seed, const char *const *over)
{
	plugin_host_release(&o->ph);
	o->host = plugin_host_init(&o->ph, &bbt_plugin, seed, over);
	return o->host;
}

static int opt_create(struct opt *o, const struct bbt_optimizer_params *p, uint32_t seed,
                      const char *const *over, char *err)
{
	o->state = (void *)o; /* must come back NULL on failure */
	o->info.batch = 0;
	err[0] = '\0';
	if (opt_host(o, seed, over) == NULL) {
		o->state = NULL;
		snprintf(err, BBT_ERRLEN, "test host: bad options");
		return BBT_EINVAL;
	}
	return bbt_plugin.optimizer->create(o->host, p, &o->state, &o->info, err, BBT_ERRLEN);
}

/* Hickernell's wrap-around L2 discrepancy (squared) of n points in
 * [0, 1)^d: 0 for a perfectly even set, smaller is more even. It does not
 * change when every point is shifted modulo 1, as the quasi-random
 * sequences are. */
static double wrap_discrepancy(const double *u, size_t n, size_t d)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double prod = 1;
			for (size_t k = 0; k < d; k++) {
				double t = fabs(u[i * d + k] - u[j * d + k]);
				prod *= 1.5 - t * (1 - t);
			}
			sum += prod;
		}
	return -pow(4.0 / 3.0, (double)d) + sum / ((double)n * (double)n);
}

/* 256 candidates of optimizer `o` on [-1, 1]^d, mapped back to [0, 1)^d,
 * and their wrap-around discrepancy; -1 if the optimizer failed. */
static double discrepancy_of(struct opt *o, size_t d, const char *dist, uint32_t seed)
{
	enum { N = 256 };
	char err[BBT_ERRLEN], opt[64];
	static double u[N * 8], x[16 * 8];
	struct bbt_optimizer_params p = box_params(d, 1, 1);
	const char *over[] = { opt, NULL };
	snprintf(opt, sizeof opt, "distribution=%s", dist);
	p.popsize = 16;
	if (opt_create(o, &p, seed, over, err) != 0)
		return -1;
	for (size_t k = 0; k < N / 16; k++) {
		size_t n = 0;
		if (bbt_plugin.optimizer->ask(o->state, x, &n, err, sizeof err) != 0 || n != 16)
			break;
		for (size_t i = 0; i < 16 * d; i++)
			u[k * 16 * d + i] = (x[i] + 1) / 2;
	}
	bbt_plugin.optimizer->free(o->state);
	return wrap_discrepancy(u, N, d);
}

static double max_abs(const double *x, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fabs(x[i]) > m ? fabs(x[i]) : m;
	return m;
}

int main(void)
{
	const struct bbt_optimizer_ops *ops = bbt_plugin.optimizer;
	char err[BBT_ERRLEN];
	struct opt o = { 0 }, o2 = { 0 };
	double x[64 * 20], y[64 * 20], rec[64];
	size_t n;
	int rc;

	plan(75 + 3 * STATE_CHECK_TESTS);

	/* ABI 1.3 state: random draws, a quasi-random sequence, categorical. */
	{
		struct bbt_optimizer_params sp = (struct bbt_optimizer_params){ .space = { BBT_SPACE_BOX, 5, 0, 0 }, .popsize = 6, .sigma = 0.5, .budget = 1000, .seed = 7 };
		const char *const sobol[] = { "distribution=normal-sobol", NULL };
		check_state(&bbt_plugin, &sp, NULL, 4);
		check_state(&bbt_plugin, &sp, sobol, 4);
		sp.space = (struct bbt_space){ BBT_SPACE_CATEGORICAL, 4, 0, 6 };
		check_state(&bbt_plugin, &sp, NULL, 4);
	}

	/* Descriptor */
	is_int(bbt_plugin.abi_major, BBT_ABI_MAJOR, "ABI major");
	is_int(bbt_plugin.kind, BBT_PLUGIN_OPTIMIZER, "kind optimizer");
	is_string(bbt_plugin.name, "random", "name");
	is_int(bbt_plugin.flags, 0, "no flags: box and categorical both supported");
	ok(ops && ops->create && ops->ask && ops->tell && ops->recommend && ops->stop_reason &&
	   ops->stats && ops->free, "all optimizer ops present");
	ok(bbt_plugin.options && strcmp(bbt_plugin.options[0].name, "distribution") == 0 &&
	   strstr(bbt_plugin.options[0].choices, "uniform-sobol") != NULL &&
	   strcmp(bbt_plugin.options[1].name, "radius") == 0 && bbt_plugin.options[2].name == NULL,
	   "options: distribution, radius");
	ops->free(NULL);
	ok(1, "free(NULL) is a no-op");

	/* Default batch, the box [-sigma, sigma] of an unbounded space. */
	struct bbt_optimizer_params p = box_params(10, 0, 0.5);
	rc = opt_create(&o, &p, 1, NULL, err);
	ok(rc == 0 && o.state != NULL, "create on a 10-dimensional box");
	is_int((long long)o.info.batch, 20, "batch 20 when popsize is 0");
	{
		double lo = 1, hi = -1, sum = 0;
		size_t cnt = 0;
		for (int it = 0; it < 50; it++) {
			n = 0;
			rc = ops->ask(o.state, x, &n, err, sizeof err);
			if (rc != 0 || n != 20)
				break;
			for (size_t i = 0; i < 200; i++) {
				lo = x[i] < lo ? x[i] : lo;
				hi = x[i] > hi ? x[i] : hi;
				sum += x[i];
				cnt++;
			}
			double loss[20];
			for (size_t i = 0; i < 20; i++)
				loss[i] = 1;
			ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
		}
		is_int((long long)cnt, 50 * 200, "50 asks of 20 candidates");
		ok(lo >= -0.5 && hi <= 0.5, "uniform: inside [-sigma, sigma] (%.4f .. %.4f)", lo, hi);
		ok(lo < -0.49 && hi > 0.49, "uniform: fills the box");
		is_double(sum / (double)cnt, 0, 0.02, "uniform: centred on the origin");
	}
	ops->free(o.state);

	p.popsize = 7;
	rc = opt_create(&o, &p, 1, NULL, err);
	ok(rc == 0 && o.info.batch == 7, "popsize 7: batch 7");
	n = 0;
	rc = ops->ask(o.state, x, &n, err, sizeof err);
	ok(rc == 0 && n == 7, "ask gives 7");
	ops->free(o.state);
	p.popsize = 0;

	/* Radius: the bound by default; the option; never beyond the bound. */
	p = box_params(10, 2.0, 0.5);
	rc = opt_create(&o, &p, 1, NULL, err);
	ops->ask(o.state, x, &n, err, sizeof err);
	ok(rc == 0 && max_abs(x, 200) <= 2.0 && max_abs(x, 200) > 1.8,
	   "bounded space: radius is the bound (max |x| %.3f)", max_abs(x, 200));
	ops->free(o.state);
	{
		const char *r01[] = { "radius=0.1", NULL };
		rc = opt_create(&o, &p, 1, r01, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		ok(rc == 0 && max_abs(x, 200) <= 0.1 && max_abs(x, 200) > 0.09,
		   "radius=0.1 inside a bound of 2");
		ops->free(o.state);
		const char *r5[] = { "radius=5", NULL };
		rc = opt_create(&o, &p, 1, r5, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		ok(rc == 0 && max_abs(x, 200) <= 2.0, "radius=5: still inside the bound of 2");
		ops->free(o.state);
		p.space.bound = 0;
		p.sigma = 0;
		const char *r3[] = { "radius=3", NULL };
		rc = opt_create(&o, &p, 1, r3, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		ok(rc == 0 && max_abs(x, 200) <= 3.0 && max_abs(x, 200) > 2.7,
		   "radius=3 with no bound and no sigma");
		ops->free(o.state);
	}

	/* Normal distribution */
	{
		const char *nrm[] = { "distribution=normal", NULL };
		p = box_params(10, 0, 0.5);
		rc = opt_create(&o, &p, 3, nrm, err);
		ok(rc == 0, "create with distribution=normal");
		double s1 = 0, s2 = 0;
		size_t outside = 0, cnt = 0;
		for (int it = 0; it < 50; it++) {
			ops->ask(o.state, x, &n, err, sizeof err);
			for (size_t i = 0; i < 200; i++) {
				s1 += x[i];
				s2 += x[i] * x[i];
				outside += fabs(x[i]) > 0.5;
				cnt++;
			}
		}
		double mean = s1 / (double)cnt, sd = sqrt(s2 / (double)cnt - mean * mean);
		is_double(mean, 0, 0.02, "normal: mean 0");
		is_double(sd, 0.5, 0.02, "normal: std is the radius");
		ok(outside > cnt / 4 && outside < cnt * 4 / 10,
		   "normal: about 32%% beyond one radius (%zu of %zu)", outside, cnt);
		ops->free(o.state);

		p = box_params(10, 0.6, 0.5);
		const char *nrm5[] = { "distribution=normal", "radius=0.5", NULL };
		rc = opt_create(&o, &p, 3, nrm5, err);
		size_t at_bound = 0;
		double m = 0;
		for (int it = 0; it < 20; it++) {
			ops->ask(o.state, x, &n, err, sizeof err);
			for (size_t i = 0; i < 200; i++)
				at_bound += fabs(x[i]) == 0.6;
			m = max_abs(x, 200) > m ? max_abs(x, 200) : m;
		}
		ok(rc == 0 && m <= 0.6 && at_bound > 0,
		   "normal in a bounded box: clipped to the bound (%zu at it)", at_bound);
		ops->free(o.state);
	}

	/* Recommendation: best so far */
	{
		p = box_params(4, 1, 1);
		p.popsize = 5;
		rc = opt_create(&o, &p, 9, NULL, err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && max_abs(rec, 4) == 0, "before any tell: the origin");
		size_t ns = 0;
		struct bbt_optimizer_stat st[4];
		ns = ops->stats(o.state, st, 4);
		ok(ns == 2 && strcmp(st[0].name, "countevals") == 0 && st[0].value == 0 &&
		   strcmp(st[1].name, "best_loss") == 0 && isinf(st[1].value),
		   "stats before tell: countevals 0, best_loss inf");

		double loss[5] = { 3, 1, 2, NAN, 5 };
		ops->ask(o.state, x, &n, err, sizeof err);
		rc = ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && memcmp(rec, x + 4, 4 * sizeof *rec) == 0, "recommend: the best candidate");
		memcpy(y, x + 4, 4 * sizeof *y);

		double worse[5] = { 4, 1, 9, 1.5, 2 };
		ops->ask(o.state, x, &n, err, sizeof err);
		rc = ops->tell(o.state, x, n, worse, NULL, err, sizeof err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && memcmp(rec, y, 4 * sizeof *rec) == 0,
		   "an equal or worse batch keeps it (ties keep the earlier)");

		double better[5] = { 4, 7, 0.5, 0.25, NAN };
		ops->ask(o.state, x, &n, err, sizeof err);
		rc = ops->tell(o.state, x, n, better, NULL, err, sizeof err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && memcmp(rec, x + 12, 4 * sizeof *rec) == 0, "a better one replaces it");
		ns = ops->stats(o.state, st, 4);
		ok(ns == 2 && st[0].value == 15 && st[1].value == 0.25, "stats: countevals 15, best_loss 0.25");
		ok(ops->stats(o.state, st, 1) == 1, "stats honours cap");

		double nans[5] = { NAN, NAN, NAN, NAN, NAN };
		ops->ask(o.state, x, &n, err, sizeof err);
		ops->tell(o.state, x, n, nans, NULL, err, sizeof err);
		ops->recommend(o.state, y);
		ok(memcmp(rec, y, 4 * sizeof *rec) == 0, "NaN losses are never best");

		int stops = 0;
		double l[5] = { 1, 1, 1, 1, 1 };
		for (int it = 0; it < 1000; it++) {
			ops->ask(o.state, x, &n, err, sizeof err);
			stops += ops->tell(o.state, x, n, l, NULL, err, sizeof err) != 0;
		}
		ok(stops == 0 && ops->stop_reason(o.state) == NULL, "never stops; stop_reason NULL");

		/* Partial tell: the host had budget for only 2 of 5. */
		ops->ask(o.state, x, &n, err, sizeof err);
		rc = ops->tell(o.state, x, 2, l, NULL, err, sizeof err);
		ok(rc == 0, "tell with fewer losses than asked");
		rc = ops->tell(o.state, x, 2, l, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL, "tell twice for one ask refused");
		like(err, "last ask gave 0", "message");
		ops->ask(o.state, x, &n, err, sizeof err);
		rc = ops->tell(o.state, x, 6, l, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL, "tell with more losses than asked refused");
		ops->free(o.state);

		double x0[4] = { 0.5, -0.25, 0, 1 };
		p.x0 = x0;
		rc = opt_create(&o, &p, 9, NULL, err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && memcmp(rec, x0, sizeof x0) == 0, "before any tell: x0");
		ops->free(o.state);
		x0[3] = 1.5;
		rc = opt_create(&o, &p, 9, NULL, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "x0 outside the box refused");
		like(err, "x0[3]", "message names the coordinate");
		p.x0 = NULL;
	}

	/* Reproducibility */
	{
		p = box_params(8, 0, 1);
		const char *nrm[] = { "distribution=normal", NULL };
		rc = opt_create(&o, &p, 77, nrm, err);
		rc |= opt_create(&o2, &p, 77, nrm, err);
		int same = rc == 0;
		for (int it = 0; it < 5 && same; it++) {
			ops->ask(o.state, x, &n, err, sizeof err);
			ops->ask(o2.state, y, &n, err, sizeof err);
			same = memcmp(x, y, 160 * sizeof *x) == 0;
		}
		ok(same, "the same seed: the same candidates");
		ops->free(o2.state);
		rc = opt_create(&o2, &p, 78, nrm, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		ops->ask(o2.state, y, &n, err, sizeof err);
		ok(rc == 0 && memcmp(x, y, 160 * sizeof *x) != 0, "another seed: other candidates");
		ops->free(o.state);
		ops->free(o2.state);
	}

	/* Categorical spaces */
	{
		struct bbt_optimizer_params c;
		memset(&c, 0, sizeof c);
		c.space.kind = BBT_SPACE_CATEGORICAL;
		c.space.dim = 5;
		c.space.choices = 3;
		rc = opt_create(&o, &c, 5, NULL, err);
		ok(rc == 0 && o.info.batch == 20, "categorical space: 5 positions x 3 choices");
		size_t count[3] = { 0, 0, 0 }, bad = 0;
		for (int it = 0; it < 10; it++) {
			ops->ask(o.state, x, &n, err, sizeof err);
			for (size_t i = 0; i < n * 5; i++) {
				if (x[i] != floor(x[i]) || x[i] < 0 || x[i] > 2)
					bad++;
				else
					count[(int)x[i]]++;
			}
		}
		is_int((long long)bad, 0, "values are integers in 0..2");
		ok(count[0] > 250 && count[1] > 250 && count[2] > 250, "every choice drawn, evenly "
		   "(%zu %zu %zu)", count[0], count[1], count[2]);
		double loss[20];
		for (size_t i = 0; i < 20; i++)
			loss[i] = 10.0 - (double)i;
		rc = ops->tell(o.state, x, n, loss, NULL, err, sizeof err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && memcmp(rec, x + 19 * 5, 5 * sizeof *rec) == 0,
		   "categorical recommendation: the best candidate");
		ops->free(o.state);

		const char *nrm[] = { "distribution=normal", NULL };
		c.space.choices = 1;
		rc = opt_create(&o, &c, 5, nrm, err);
		ops->ask(o.state, x, &n, err, sizeof err);
		ok(rc == 0 && max_abs(x, n * 5) == 0, "one choice: always 0 (distribution ignored)");
		ops->free(o.state);

		double x0[5] = { 0, 1, 2, 1, 0 };
		c.space.choices = 3;
		c.x0 = x0;
		rc = opt_create(&o, &c, 5, NULL, err);
		ops->recommend(o.state, rec);
		ok(rc == 0 && memcmp(rec, x0, sizeof x0) == 0, "categorical x0 is the first recommendation");
		ops->free(o.state);
		x0[2] = 3;
		rc = opt_create(&o, &c, 5, NULL, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "categorical x0 out of range refused");
		x0[2] = 0.5;
		rc = opt_create(&o, &c, 5, NULL, err);
		ok(rc == BBT_EINVAL, "categorical x0 not an integer refused");
		like(err, "x0[2] = 0.5 is not a choice in 0..2", "message");
		c.x0 = NULL;

		c.space.choices = 0;
		rc = opt_create(&o, &c, 5, NULL, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "0 choices refused");
		like(err, "0 choices", "message");
	}

	/* Bad parameters */
	{
		p = box_params(0, 0, 1);
		rc = opt_create(&o, &p, 1, NULL, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "dimension 0 refused");
		like(err, "dimension 0", "message");
		p = box_params(3, 0, 0);
		rc = opt_create(&o, &p, 1, NULL, err);
		ok(rc == BBT_EINVAL, "no radius, no bound, no sigma refused");
		like(err, "no search radius", "message");
		p = box_params(3, -1, 1);
		rc = opt_create(&o, &p, 1, NULL, err);
		ok(rc == BBT_EINVAL, "negative bound refused");
		p = box_params(3, 0, NAN);
		rc = opt_create(&o, &p, 1, NULL, err);
		ok(rc == BBT_EINVAL, "NaN sigma (and no radius) refused");
		p = box_params(3, 0, 1);
		p.space.kind = (enum bbt_space_kind)7;
		rc = opt_create(&o, &p, 1, NULL, err);
		ok(rc == BBT_EINVAL, "unknown space kind refused");
		like(err, "unknown search space kind 7", "message");
		p = box_params(3, 0, 1);
		opt_host(&o, 1, NULL);
		rc = ops->create(o.host, NULL, &o.state, &o.info, err, sizeof err);
		ok(rc == BBT_EINVAL, "NULL params refused");
		rc = ops->create(o.host, &p, &o.state, &o.info, NULL, 0);
		ok(rc == 0, "a NULL message buffer is allowed");
		rc = ops->ask(o.state, NULL, &n, err, sizeof err);
		ok(rc == BBT_EINVAL, "ask into NULL refused");
		ops->free(o.state);
	}

	/* Quasi-random sequences: more even than random draws, the same box. */
	{
		double rnd = discrepancy_of(&o, 5, "uniform", 7);
		double sob = discrepancy_of(&o, 5, "uniform-sobol", 7);
		double rh = discrepancy_of(&o, 5, "uniform-reversehalton", 7);
		ok(rnd > 0 && sob >= 0 && sob < rnd / 4,
		   "uniform-sobol: 256 points in 5 dimensions 4 times more even than random "
		   "(wrap-around L2 discrepancy %.3g vs %.3g)", sob, rnd);
		ok(rh >= 0 && rh < rnd / 4, "uniform-reversehalton: too (%.3g)", rh);
		double sob2 = discrepancy_of(&o, 5, "uniform-sobol", 8);
		ok(sob2 >= 0 && sob2 < rnd / 4, "another seed: as even (%.3g)", sob2);

		const char *nrm[] = { "distribution=normal-reversehalton", NULL };
		p = box_params(500, 0, 1);
		rc = opt_create(&o, &p, 3, nrm, err);
		ok(rc == 0, "normal-reversehalton on BBT's d = 500");
		static double big[20 * 500];
		double sum = 0, sq = 0, first[500] = { 0 };
		int finite = 1;
		for (int k = 0; k < 10 && rc == 0; k++) {
			rc = ops->ask(o.state, big, &n, err, sizeof err);
			if (k == 0)
				memcpy(first, big, sizeof first);
			for (size_t i = 0; i < n * 500; i++) {
				finite &= isfinite(big[i]);
				sum += big[i];
				sq += big[i] * big[i];
			}
		}
		is_double(sum / 1e5, 0, 0.01, "normal-reversehalton: mean 0");
		is_double(sqrt(sq / 1e5), 1, 0.02, "... and standard deviation sigma (all finite: %d)",
		          finite);
		ops->free(o.state);
		rc = opt_create(&o, &p, 4, nrm, err);
		ops->ask(o.state, big, &n, err, sizeof err);
		ok(rc == 0 && first[0] != big[0], "another seed shifts the sequence");
		ops->free(o.state);

		const char *sobol[] = { "distribution=uniform-sobol", NULL };
		p = box_params(41, 0, 1);
		rc = opt_create(&o, &p, 1, sobol, err);
		ok(rc == BBT_EINVAL && o.state == NULL, "sobol in 41 dimensions refused");
		like(err, "at most 40 dimensions", "naming GSL's limit");
		like(err, "reversehalton goes up to 1229", "and the sequence that goes further");
		const char *rh1230[] = { "distribution=uniform-reversehalton", NULL };
		p = box_params(1230, 0, 1);
		rc = opt_create(&o, &p, 1, rh1230, err);
		ok(rc == BBT_EINVAL && strstr(err, "at most 1229 dimensions"),
		   "reversehalton in 1230 dimensions refused (%s)", err);
	}

	plugin_host_release(&o.ph);
	plugin_host_release(&o2.ph);
	return done_testing();
}
