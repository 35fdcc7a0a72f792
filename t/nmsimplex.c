/*
 * t/nmsimplex.c - the nmsimplex optimizer (GSL's Nelder-Mead simplex behind
 * ask/tell), linked in directly and driven through its descriptor on the
 * real host services.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include <bbtbench/plugin.h>

#include "plugin_host.h"
#include "state_check.h"
#include "tap.h"
#include "testfun.h"

extern const struct bbt_plugin bbt_plugin;

static struct bbt_optimizer_params box(size_t dim, double bound, double sigma)
{
	struct bbt_optimizer_params p;
	memset(&p, 0, sizeof p);
	p.space.kind = BBT_SPACE_BOX;
	p.space.dim = dim;
	p.space.bound = bound;
	p.sigma = sigma;
	p.popsize = 20;  /* the host's default; a simplex asks one point anyway */
	p.seed = 42;
	return p;
}

/* create on the real host services with option overrides; *st NULL on failure. */
static int create(struct plugin_host *ph, const struct bbt_optimizer_params *p,
                  const char *const *over, void **st, struct bbt_optimizer_info *info,
                  char *err)
{
	const bbt_host_t *h = plugin_host_init(ph, &bbt_plugin, 1, over);
	err[0] = '\0';
	*st = (void *)ph; /* must come back NULL on failure */
	if (h == NULL) {
		*st = NULL;
		return BBT_EINVAL;
	}
	ph->quiet = 1;
	return bbt_plugin.optimizer->create(h, p, st, info, err, BBT_ERRLEN);
}

static double sum_sq(const double *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i] * x[i];
	return s;
}

int main(void)
{
	const struct bbt_optimizer_ops *ops = bbt_plugin.optimizer;
	struct plugin_host ph;
	struct bbt_optimizer_info info;
	char err[BBT_ERRLEN];
	double x[8], rec[8];
	void *st;
	size_t n;
	int rc;

	gsl_set_error_handler_off(); /* as bbtbench's main does */
	plan(28 + 2 * STATE_CHECK_TESTS);

	/* ABI 1.3 state: replayed losses, in the simplex's set-up and after it. */
	{
		struct bbt_optimizer_params sp = (struct bbt_optimizer_params){ .space = { BBT_SPACE_BOX, 5, 1, 0 }, .popsize = 0, .sigma = 0.5, .budget = 1000, .seed = 7 };
		check_state(&bbt_plugin, &sp, NULL, 3);
		check_state(&bbt_plugin, &sp, NULL, 40);
	}

	/* Descriptor */
	is_string(bbt_plugin.name, "nmsimplex", "name");
	is_int(bbt_plugin.kind, BBT_PLUGIN_OPTIMIZER, "kind optimizer");
	is_int(bbt_plugin.flags, 0, "no flags: black-box, box spaces");
	ok(bbt_plugin.options && strcmp(bbt_plugin.options[0].name, "step") == 0 &&
	   strcmp(bbt_plugin.options[1].name, "tolx") == 0 && bbt_plugin.options[2].name == NULL,
	   "options: step, tolx");
	ops->free(NULL);
	ok(1, "free(NULL) is a no-op");

	/* Refusals */
	{
		struct bbt_optimizer_params p = box(3, 0, 1);
		p.space.kind = BBT_SPACE_CATEGORICAL;
		p.space.choices = 4;
		rc = create(&ph, &p, NULL, &st, &info, err);
		ok(rc == BBT_EINVAL && st == NULL && strstr(err, "categorical"),
		   "a categorical space is refused (%s)", err);
		plugin_host_release(&ph);
		p = box(3, 0, 0);
		rc = create(&ph, &p, NULL, &st, &info, err);
		ok(rc == BBT_EINVAL && st == NULL && strstr(err, "step"),
		   "no step: step=0 and sigma 0 refused (%s)", err);
		plugin_host_release(&ph);
		const char *neg[] = { "step=-1", NULL };
		p = box(3, 0, 1);
		rc = create(&ph, &p, neg, &st, &info, err);
		ok(rc < 0 && st == NULL, "step=-1 refused by the host's option table");
		plugin_host_release(&ph);
	}

	/* The first d + 1 points are GSL's initial simplex: x0, then x0 plus
	 * one step along each axis (step=0.5 overrides sigma 2). */
	{
		struct bbt_optimizer_params p = box(3, 0, 2);
		const double x0[3] = { 1, -1, 0.25 };
		const char *half[] = { "step=0.5", NULL };
		p.x0 = x0;
		rc = create(&ph, &p, half, &st, &info, err);
		ok(rc == 0 && st != NULL, "create on a 3-dimensional box");
		is_int((long long)info.batch, 1, "batch 1: the simplex evaluates one point at a time");
		int simplex = 1;
		for (size_t v = 0; v < 4; v++) {
			n = 0;
			rc = ops->ask(st, x, &n, err, sizeof err);
			for (size_t i = 0; i < 3; i++)
				simplex &= rc == 0 && n == 1 &&
				           x[i] == x0[i] + (v > 0 && i == v - 1 ? 0.5 : 0);
			double f = sum_sq(x, 3);
			rc = ops->tell(st, x, 1, &f, NULL, err, sizeof err);
			simplex &= rc == 0;
		}
		ok(simplex, "asks x0 and x0 + 0.5 e_i: GSL's nmsimplex2 builds the simplex");
		ops->recommend(st, rec);
		ok(rec[0] == 1 && rec[1] == -0.5 && rec[2] == 0.25,
		   "recommend: the best vertex told (%g %g %g)", rec[0], rec[1], rec[2]);
		/* Freed between an ask and its tell, as the host does when the
		 * budget runs out: valgrind sees the suspended GSL side go. */
		rc = ops->ask(st, x, &n, err, sizeof err);
		ok(rc == 0, "ask during an iteration");
		rc = ops->tell(st, x, 2, rec, NULL, err, sizeof err);
		ok(rc == BBT_EINVAL && strstr(err, "2 losses"), "tell with 2 losses refused (%s)", err);
		ops->free(st);
		plugin_host_release(&ph);
	}

	/* It minimises: the shifted sphere and ellipsoid (condition 1e6) of
	 * t/testfun.h from the origin with step 1 (sigma0). */
	{
		struct tf_problem pr;
		struct tf_result res;
		memset(&pr, 0, sizeof pr);
		ok(tf_init(&pr, TF_SPHERE, 4) == 0, "sphere, n = 4");
		rc = tf_run(&bbt_plugin, &pr, 1, 0, 1e-6, 300, NULL, &res);
		ok(rc == 0 && res.reached, "sphere n=4: f < 1e-6 in %zu evaluations (at most 300)",
		   res.evals);
		tf_release(&pr);
		ok(tf_init(&pr, TF_ELLI, 3) == 0, "ellipsoid, n = 3");
		rc = tf_run(&bbt_plugin, &pr, 1, 0, 1e-6, 400, NULL, &res);
		ok(rc == 0 && res.reached, "ellipsoid n=3: f < 1e-6 in %zu evaluations (at most 400)",
		   res.evals);
		tf_release(&pr);
		/* tolx: a coarse tolerance stops it long before the budget. */
		const char *coarse[] = { "tolx=1e-3", NULL };
		ok(tf_init(&pr, TF_SPHERE, 3) == 0, "sphere, n = 3");
		rc = tf_run(&bbt_plugin, &pr, 1, 0, -1, 5000, coarse, &res);
		ok(rc == 0 && res.stop != NULL && strcmp(res.stop, "tolx") == 0 && res.evals < 5000,
		   "tolx=1e-3: stops itself, \"tolx\", after %zu evaluations", res.evals);
		ok(res.best < 1e-4, "... near the optimum (best f %.3g)", res.best);
		tf_release(&pr);
	}

	/* Stats after a few evaluations; a bounded space keeps every point in. */
	{
		struct bbt_optimizer_params p = box(2, 0.3, 1);
		struct bbt_optimizer_stat stat[8];
		rc = create(&ph, &p, NULL, &st, &info, err);
		ok(rc == 0, "create on [-0.3, 0.3]^2 with step 1");
		int inside = 1;
		for (int k = 0; k < 30 && rc == 0; k++) {
			rc = ops->ask(st, x, &n, err, sizeof err);
			inside &= fabs(x[0]) <= 0.3 && fabs(x[1]) <= 0.3;
			double f = (x[0] - 1) * (x[0] - 1) + (x[1] + 1) * (x[1] + 1);
			if (rc == 0)
				rc = ops->tell(st, x, 1, &f, NULL, err, sizeof err);
		}
		ok(rc == 0 && inside, "30 points, all clipped into the box");
		ops->recommend(st, rec);
		is_double(rec[0], 0.3, 1e-12, "the best point is the box's corner nearest (1, -1): x");
		is_double(rec[1], -0.3, 1e-12, "... and y");
		size_t ns = ops->stats(st, stat, 8);
		ok(ns == 4 && strcmp(stat[0].name, "countevals") == 0 && stat[0].value == 30 &&
		   strcmp(stat[1].name, "countiter") == 0 && stat[1].value > 0 &&
		   strcmp(stat[2].name, "size") == 0 && isfinite(stat[2].value),
		   "stats: countevals 30, countiter %g, size %g", stat[1].value, stat[2].value);
		ops->free(st);
		plugin_host_release(&ph);
	}

	/* A loss that is not a number while the simplex is built: GSL refuses
	 * it, and tell says so instead of aborting. */
	{
		struct bbt_optimizer_params p = box(2, 0, 1);
		rc = create(&ph, &p, NULL, &st, &info, err);
		double nan = NAN;
		rc = ops->ask(st, x, &n, err, sizeof err);
		rc = ops->tell(st, x, 1, &nan, NULL, err, sizeof err);
		ok(rc < 0 && strstr(err, "not a finite number"), "a NaN loss fails the run (%s)", err);
		rc = ops->ask(st, x, &n, err, sizeof err);
		ok(rc < 0, "and no point is asked after it");
		ops->free(st);
		plugin_host_release(&ph);
	}
	return done_testing();
}
