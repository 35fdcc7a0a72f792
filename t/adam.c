/*
 * t/adam.c - the white-box `adam` optimizer, linked in directly and driven
 * as the host drives it, with the exact gradient of test functions.
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

#define D 10

/* A convex quadratic with coupling: f = 1/2 sum a_i (z_i - c_i)^2 +
 * b sum z_i z_{i+1}, diagonally dominant (a_i >= 1 > 2b), so positive
 * definite; the optimum is away from the start (the origin). */
static double quad(const double *z, double *grad)
{
	const double b = 0.2;
	double f = 0;
	for (size_t i = 0; i < D; i++) {
		double a = 1.0 + 0.5 * (double)i, c = 1.0 + 0.1 * (double)i;
		f += 0.5 * a * (z[i] - c) * (z[i] - c);
		grad[i] = a * (z[i] - c);
	}
	for (size_t i = 0; i + 1 < D; i++) {
		f += b * z[i] * z[i + 1];
		grad[i] += b * z[i + 1];
		grad[i + 1] += b * z[i];
	}
	return f;
}

int main(void)
{
	const struct bbt_optimizer_ops *ops = bbt_plugin.optimizer;
	char err[BBT_ERRLEN];
	struct plugin_host ph = { 0 };
	plan(12 + STATE_CHECK_TESTS);

	/* ABI 1.3 state */
	{
		struct bbt_optimizer_params sp = (struct bbt_optimizer_params){ .space = { BBT_SPACE_BOX, 5, 0, 0 }, .popsize = 0, .sigma = 0.5, .budget = 1000, .seed = 7 };
		check_state(&bbt_plugin, &sp, NULL, 4);
	}

	ok(bbt_plugin.kind == BBT_PLUGIN_OPTIMIZER && strcmp(bbt_plugin.name, "adam") == 0 &&
	   (bbt_plugin.flags & BBT_OPTIMIZER_WANTS_GRADIENT) && bbt_plugin.abi_minor >= 1,
	   "descriptor: adam, white-box (wants gradients), ABI 1.1");
	int has_lr = 0, has_q = 0;
	for (const struct bbt_option_spec *s = bbt_plugin.options; s->name; s++) {
		has_lr |= strcmp(s->name, "lr") == 0 && strcmp(s->def, "1e-3") == 0;
		has_q |= strcmp(s->name, "q") == 0 || strcmp(s->name, "mu") == 0;
	}
	ok(has_lr && !has_q, "options: lr (default 1e-3), no finite-difference options");
	ok(ops->gradient_estimate == NULL, "no estimate to --grad-check: its gradient is the true one");

	const char *const over[] = { "lr=0.02", NULL };
	const bbt_host_t *host = plugin_host_init(&ph, &bbt_plugin, 1, over);
	struct bbt_optimizer_params p = { .space = { BBT_SPACE_BOX, D, 0, 0 }, .sigma = 1 };
	struct bbt_optimizer_info info = { 0 };
	void *st = NULL;
	int rc = host ? ops->create(host, &p, &st, &info, err, sizeof err) : -1;
	ok(rc == 0 && info.batch == 1, "create: one candidate per step (one gradient call)");

	double x[D], g[D], z[D], f;
	size_t n = 0;
	rc = ops->ask(st, x, &n, err, sizeof err);
	int origin = rc == 0 && n == 1;
	for (size_t i = 0; i < D; i++)
		origin &= x[i] == 0;
	ok(origin, "the first ask is the start point");
	f = quad(x, g);
	rc = ops->tell(st, x, 1, &f, NULL, err, sizeof err);
	ok(rc == BBT_EINVAL, "tell without a gradient is refused");
	like(err, "without the gradient", "message");

	/* Monotone descent: lr 0.02 moves each coordinate by at most ~lr per
	 * step, and the nearest optimum coordinate is 1.0 away, so for 40
	 * steps no coordinate reaches (or overshoots) its minimum. */
	double prev = INFINITY, f0 = NAN;
	int monotone = 1;
	for (int t = 0; t < 40; t++) {
		ops->ask(st, x, &n, err, sizeof err);
		f = quad(x, g);
		if (t == 0)
			f0 = f;
		monotone &= f < prev;
		prev = f;
		if ((rc = ops->tell(st, x, 1, &f, g, err, sizeof err)) != 0)
			break;
	}
	ok(rc == 0 && monotone, "40 steps on a convex quadratic: the loss falls at every step");
	ok(prev < 0.6 * f0, "and falls substantially (%.3f -> %.3f)", f0, prev);
	for (int t = 0; t < 1500; t++) {
		ops->ask(st, x, &n, err, sizeof err);
		f = quad(x, g);
		ops->tell(st, x, 1, &f, g, err, sizeof err);
	}
	ops->recommend(st, z);
	double gz[D], gn = 0;
	quad(z, gz);
	for (size_t i = 0; i < D; i++)
		gn += gz[i] * gz[i];
	ok(sqrt(gn) < 0.05, "1540 steps: near the optimum (|grad| %.2g)", sqrt(gn));

	struct bbt_optimizer_stat stats[16];
	size_t ns = ops->stats(st, stats, 16);
	double iters = -1;
	for (size_t i = 0; i < ns; i++)
		if (strcmp(stats[i].name, "countiter") == 0)
			iters = stats[i].value;
	is_double(iters, 1540, 0, "countiter counts gradient steps");

	/* A non-finite gradient is a skipped step, not a poisoned iterate. */
	ops->ask(st, x, &n, err, sizeof err);
	f = quad(x, g);
	g[3] = NAN;
	rc = ops->tell(st, x, 1, &f, g, err, sizeof err);
	ops->recommend(st, z);
	ok(rc == 0 && memcmp(z, x, sizeof z) == 0, "a NaN in the gradient skips the step");

	ops->free(st);
	plugin_host_release(&ph);
	return done_testing();
}
