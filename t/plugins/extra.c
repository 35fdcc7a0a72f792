/* A complete, minimal optimizer outside the project's plugin folders, for
 * the drop-in test: copied into a directory on BBTBENCH_PLUGIN_PATH it
 * must appear in `bbtbench list` and run, with no rebuild of the host. It
 * always proposes the origin and stops after three rounds ("tolfun"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

struct state {
	size_t dim, batch, rounds;
};

static int create(const bbt_host_t *host, const struct bbt_optimizer_params *p, void **out,
                  struct bbt_optimizer_info *info, char *err, size_t errlen)
{
	struct state *s = calloc(1, sizeof *s);
	if (s == NULL)
		return BBT_ENOMEM;
	s->dim = p->space.dim;
	s->batch = p->popsize ? p->popsize : 4;
	info->batch = s->batch;
	*out = s;
	return BBT_OK;
}

static int ask(void *state, double *x, size_t *n, char *err, size_t errlen)
{
	struct state *s = state;
	memset(x, 0, s->batch * s->dim * sizeof *x);
	*n = s->batch;
	return BBT_OK;
}

static int tell(void *state, const double *x, size_t n, const double *loss, const double *grad,
                char *err, size_t errlen)
{
	struct state *s = state;
	return ++s->rounds >= 3 ? BBT_STOP : BBT_OK;
}

static void recommend(void *state, double *x)
{
	struct state *s = state;
	memset(x, 0, s->dim * sizeof *x);
}

static const char *stop_reason(void *state)
{
	return ((struct state *)state)->rounds >= 3 ? "tolfun" : NULL;
}

static void destroy(void *state)
{
	free(state);
}

static const struct bbt_optimizer_ops ops = {
	.create = create, .ask = ask, .tell = tell, .recommend = recommend,
	.stop_reason = stop_reason, .free = destroy,
};

/* Built as an ABI 1.0 plugin: an older minor version must keep loading. */

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = 0,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "extra",
	.version = "0",
	.description = "test module: proposes the origin, stops after 3 rounds",
	.optimizer = &ops,
};
