/*
 * state_check.h - the ABI 1.3 state functions of an optimizer compiled into
 * a test program:
 *
 *     check_state(&bbt_plugin, &params, over, 4);
 *
 * runs the optimizer 4 generations on a quadratic, saves its state and its
 * host's random stream, loads both into a fresh instance, and checks that
 * the two then ask the same points, bit for bit, for 3 more generations;
 * then that an empty blob, a truncated one, one with bytes after its end
 * and another plugin's are each refused with BBT_EFORMAT and one line
 * naming the plugin. STATE_CHECK_TESTS TAP tests.
 */
#ifndef BBT_T_STATE_CHECK_H
#define BBT_T_STATE_CHECK_H

#include "core/rng.h"
#include "plugin_host.h"

#define STATE_CHECK_TESTS 6

struct state_blob {
	unsigned char *d;
	size_t len, cap;
};

TAP_FN int state_blob_write(void *ctx, const void *bytes, size_t n)
{
	struct state_blob *b = ctx;
	if (b->len + n > b->cap) {
		size_t cap = 2 * (b->len + n);
		unsigned char *d = realloc(b->d, cap);
		if (d == NULL)
			return BBT_ENOMEM;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->len, bytes, n);
	b->len += n;
	return BBT_OK;
}

/* One generation: ask, losses (and gradients) of a quadratic around 0.3,
 * tell. The candidates in x; 0 or the first failure. */
TAP_FN int state_check_step(const struct bbt_optimizer_ops *ops, void *st, size_t dim, double *x,
                            size_t *n, double *loss, double *grad)
{
	char err[BBT_ERRLEN];
	int rc = ops->ask(st, x, n, err, sizeof err);
	for (size_t k = 0; rc == BBT_OK && k < *n; k++) {
		loss[k] = 0;
		for (size_t i = 0; i < dim; i++) {
			double v = x[k * dim + i] - 0.3;
			loss[k] += v * v;
			grad[k * dim + i] = 2 * v;
		}
	}
	if (rc == BBT_OK)
		rc = ops->tell(st, x, *n, loss, grad, err, sizeof err);
	if (rc < 0)
		diag("step: %s", err);
	return rc < 0 ? rc : BBT_OK;
}

/* A bad blob into a fresh instance: refused with BBT_EFORMAT, one line
 * that names the plugin. */
TAP_FN void state_check_refused(const struct bbt_plugin *pl, const struct bbt_optimizer_params *p,
                                const char *const *over, const void *blob, size_t len,
                                const char *what)
{
	struct plugin_host ph;
	struct bbt_optimizer_info info;
	char err[BBT_ERRLEN] = "";
	void *st = NULL;
	const bbt_host_t *h = plugin_host_init(&ph, pl, 7, over);
	int rc = h ? pl->optimizer->create(h, p, &st, &info, err, sizeof err) : BBT_ENOMEM;
	if (rc == BBT_OK)
		rc = pl->optimizer->load_state(st, blob, len, err, sizeof err);
	ok(rc == BBT_EFORMAT && strchr(err, '\n') == NULL && strstr(err, pl->name) != NULL,
	   "%s: %s refused in one line naming it (%s)", pl->name, what, err);
	pl->optimizer->free(st);
	plugin_host_release(&ph);
}

TAP_FN void check_state(const struct bbt_plugin *pl, const struct bbt_optimizer_params *p,
                        const char *const *over, size_t gens)
{
	const struct bbt_optimizer_ops *ops = pl->optimizer;
	struct plugin_host pa, pb;
	struct bbt_optimizer_info ia = { 0 }, ib = { 0 };
	char err[BBT_ERRLEN] = "";
	void *a = NULL, *b = NULL;
	struct state_blob blob = { 0 };
	uint64_t words[BBT_RNG_STATE_WORDS];
	const bbt_host_t *ha = plugin_host_init(&pa, pl, 7, over);
	const bbt_host_t *hb = plugin_host_init(&pb, pl, 7, over);
	pa.quiet = pb.quiet = 1;
	int rc = ha && hb ? ops->create(ha, p, &a, &ia, err, sizeof err) : BBT_ENOMEM;
	if (rc == BBT_OK)
		rc = ops->create(hb, p, &b, &ib, err, sizeof err);
	size_t dim = p->space.dim, batch = ia.batch, na = 0, nb = 0;
	double *xa = calloc(batch * dim + 1, sizeof *xa), *xb = calloc(batch * dim + 1, sizeof *xb);
	double *loss = calloc(batch + 1, sizeof *loss), *grad = calloc(batch * dim + 1, sizeof *grad);
	if (rc == BBT_OK && (!xa || !xb || !loss || !grad))
		rc = BBT_ENOMEM;
	for (size_t g = 0; rc == BBT_OK && g < gens; g++)
		rc = state_check_step(ops, a, dim, xa, &na, loss, grad);
	if (rc == BBT_OK)
		rc = ops->save_state(a, state_blob_write, &blob, err, sizeof err);
	if (rc == BBT_OK) {
		bbt_rng_get_state(bbt_hostsvc_rng(pa.svc), words);
		rc = ops->load_state(b, blob.d, blob.len, err, sizeof err);
		bbt_rng_set_state(bbt_hostsvc_rng(pb.svc), words);
	}
	ok(rc == BBT_OK, "%s: its state (%zu bytes after %zu generations) loads into a fresh "
	   "instance (%s)", pl->name, blob.len, gens, err);
	int same = rc == BBT_OK;
	for (size_t g = 0; same && g < 3; g++) {
		same = state_check_step(ops, a, dim, xa, &na, loss, grad) == BBT_OK &&
		       state_check_step(ops, b, dim, xb, &nb, loss, grad) == BBT_OK && na == nb &&
		       memcmp(xa, xb, na * dim * sizeof *xa) == 0;
	}
	ok(same, "%s: the loaded instance asks what the saved one asks, bit for bit", pl->name);
	ops->free(a);
	ops->free(b);
	plugin_host_release(&pa);
	plugin_host_release(&pb);

	state_check_refused(pl, p, over, blob.d, 0, "an empty blob");
	state_check_refused(pl, p, over, blob.d, blob.len ? blob.len - 1 : 0, "a truncated blob");
	if (state_blob_write(&blob, "", 1) == BBT_OK)
		state_check_refused(pl, p, over, blob.d, blob.len, "a blob with a byte after its end");
	else
		ok(0, "out of memory");
	struct state_blob other = { 0 };
	struct bbt_state_writer w = bbt_state_writer(state_blob_write, &other);
	bbt_state_begin(&w, "another", 1);
	state_check_refused(pl, p, over, other.d, other.len, "another optimizer's blob");
	free(other.d);
	free(blob.d);
	free(xa);
	free(xb);
	free(loss);
	free(grad);
}

#endif /* BBT_T_STATE_CHECK_H */
