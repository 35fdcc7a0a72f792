/*
 * oneplusone.c - an optimizer plugin built outside the bbtbench tree, from
 * the installed headers alone: the (1+1) evolution strategy with the
 * one-fifth success rule (Rechenberg 1973; Kern et al., Natural Computing
 * 2004).
 *
 *     cc -shared -fPIC $(pkg-config --cflags bbtbench) -o optimizer_oneplusone.so \
 *        oneplusone.c $(pkg-config --libs bbtbench) -lm
 *
 * One parent x; each ask proposes one child y = x + sigma * N(0, I), kept
 * inside the search box when it is bounded; the first ask evaluates the
 * start point itself. A child at least as good as the parent replaces it.
 * sigma grows by exp(0.8 / D) after a success and shrinks by exp(-0.2 / D)
 * after a failure, so it stays put at a success rate of one in five
 * (D = sqrt(dim + 1) unless the `damping` option says otherwise). The run
 * stops with pycma's "tolx" when sigma falls below `tolx`.
 *
 * Everything random comes from the host's stream, so a run seed gives the
 * same run every time. Box spaces only: a categorical space is refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

static const struct bbt_option_spec options[] = {
	{ "damping", BBT_OPT_DOUBLE, "0", NULL, 0, 1e9,
	  "D of the step-size update; 0: sqrt(dim + 1)" },
	{ "tolx", BBT_OPT_DOUBLE, "1e-12", NULL, 0, 1, "stop when sigma falls below this" },
	{ 0 },
};

struct es {
	const bbt_host_t *host;
	size_t dim;
	double bound;         /* 0: unbounded */
	double sigma, damping, tolx;
	double *x, fx;        /* parent and its loss (+inf before it is evaluated) */
	int parent_scored;
	size_t countevals;
	const char *stop;
};

static void es_free(void *state)
{
	struct es *s = state;
	if (s != NULL)
		free(s->x);
	free(s);
}

static int es_create(const bbt_host_t *host, const struct bbt_optimizer_params *p, void **state,
                     struct bbt_optimizer_info *info, char *err, size_t errlen)
{
	*state = NULL;
	if (p->space.kind != BBT_SPACE_BOX || p->space.dim == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "oneplusone: needs a box search space of dimension >= 1");
	if (!(p->sigma > 0) || !isfinite(p->sigma))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "oneplusone: sigma %g is not a positive number", p->sigma);
	struct es *s = calloc(1, sizeof *s);
	if (s == NULL || (s->x = calloc(p->space.dim, sizeof *s->x)) == NULL) {
		es_free(s);
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "oneplusone: out of memory for dimension %zu", p->space.dim);
	}
	s->host = host;
	s->dim = p->space.dim;
	s->bound = p->space.bound;
	s->sigma = p->sigma;
	s->damping = host->opt_double(host->ctx, "damping");
	if (s->damping == 0)
		s->damping = sqrt((double)s->dim + 1.0);
	s->tolx = host->opt_double(host->ctx, "tolx");
	s->fx = HUGE_VAL;
	if (p->x0 != NULL)
		memcpy(s->x, p->x0, s->dim * sizeof *s->x);
	info->batch = 1;
	*state = s;
	return BBT_OK;
}

static int es_ask(void *state, double *y, size_t *n, char *err, size_t errlen)
{
	struct es *s = state;
	const bbt_host_t *h = s->host;
	(void)err, (void)errlen;   /* nothing can fail */
	for (size_t i = 0; i < s->dim; i++) {
		double v = s->x[i];
		if (s->parent_scored)
			v += s->sigma * h->rng_normal(h->ctx);
		if (s->bound > 0)
			v = v > s->bound ? s->bound : v < -s->bound ? -s->bound : v;
		y[i] = v;
	}
	*n = 1;
	return BBT_OK;
}

static int es_tell(void *state, const double *y, size_t n, const double *loss,
                   const double *grad, char *err, size_t errlen)
{
	struct es *s = state;
	(void)grad;
	if (n != 1) {
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "oneplusone: tell with %zu losses; it asks for one at a time", n);
	}
	s->countevals++;
	if (!s->parent_scored) {
		s->parent_scored = 1;
		s->fx = loss[0];
		return BBT_OK;
	}
	int success = loss[0] <= s->fx;   /* NaN: a failure */
	if (success) {
		memcpy(s->x, y, s->dim * sizeof *s->x);
		s->fx = loss[0];
	}
	s->sigma *= exp((success ? 0.8 : -0.2) / s->damping);
	if (s->sigma < s->tolx) {
		s->stop = "tolx";
		return BBT_STOP;
	}
	return BBT_OK;
}

static void es_recommend(void *state, double *x)
{
	const struct es *s = state;
	memcpy(x, s->x, s->dim * sizeof *x);
}

static const char *es_stop_reason(void *state)
{
	return ((const struct es *)state)->stop;
}

static size_t es_stats(void *state, struct bbt_optimizer_stat *out, size_t cap)
{
	const struct es *s = state;
	const struct bbt_optimizer_stat all[] = {
		{ "countevals", (double)s->countevals },
		{ "sigma", s->sigma },
		{ "best_loss", s->fx },
	};
	size_t k = sizeof all / sizeof all[0] < cap ? sizeof all / sizeof all[0] : cap;
	memcpy(out, all, k * sizeof *out);
	return k;
}

static const struct bbt_optimizer_ops ops = {
	.create = es_create,
	.ask = es_ask,
	.tell = es_tell,
	.recommend = es_recommend,
	.stop_reason = es_stop_reason,
	.stats = es_stats,
	.free = es_free,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "oneplusone",
	.version = "1.0",
	.description = "(1+1)-ES with the one-fifth success rule (SDK example, built out of tree)",
	.options = options,
	.optimizer = &ops,
};
