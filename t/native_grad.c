/*
 * t/native_grad.c - the native backend's prompt gradient on the tiny random
 * models of t/tinymodel.h (BERT in cat and add modes, RoBERTa, GPT-2,
 * Llama; embedding-layer and deep prompts; three sequences of different
 * lengths packed without padding rows; V prompt variants), against central
 * finite differences of the loss along a few directions.
 *
 * The check and why its bound of 1e-3 is right for float32: t/native_fd.h.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

#include "native_fd.h"
#include "plugin_host.h"
#include "tap.h"
#include "tinymodel.h"

extern const struct bbt_plugin bbt_plugin;

#define MAXV 3

static uint64_t rs = 99;   /* the finite-difference directions' stream */
enum { P = 4, MAXN = MAXV * NL * P * H, NLOG = MAXV * NSEQ * NLAB };   /* the largest call */

static int failing_dloss(void *ctx, const float *logits, size_t V, size_t n_seq, size_t n_labels,
                         float *dlogits)
{
	(void)ctx, (void)logits, (void)V, (void)n_seq, (void)n_labels, (void)dlogits;
	return BBT_EINTR;
}

/* The backend opened on the host's real services. */
struct be {
	struct plugin_host ph;
	void *st;
	struct bbt_model_info info;
};

static int be_open(struct be *b, const char *path, const char *over, size_t Pb, size_t Lp,
                   char *err)
{
	const char *ov[2] = { over, NULL };
	struct bbt_backend_params p = { path, Pb, Lp, 1 };
	memset(b, 0, sizeof *b);
	const bbt_host_t *h = plugin_host_init(&b->ph, &bbt_plugin, 1, ov);
	if (h == NULL) {
		snprintf(err, BBT_ERRLEN, "%s", b->ph.err);
		return BBT_EINVAL;
	}
	b->ph.quiet = 1;
	return bbt_plugin.backend->open(h, &p, &b->st, &b->info, err, BBT_ERRLEN);
}

static void be_close(struct be *b)
{
	bbt_plugin.backend->close(b->st);
	plugin_host_release(&b->ph);
}

struct cfg {
	const char *name;
	int family;          /* 0 BERT, 1 RoBERTa, 2 GPT-2, 3 Llama */
	const char *over;    /* backend option */
	size_t Lp, V;
};

static const struct cfg cfgs[] = {
	{ "BERT cat", 0, NULL, 1, 3 },
	{ "BERT add", 0, "prompt_mode=add", 1, 3 },
	{ "BERT cat, deep", 0, NULL, NL, 2 },
	{ "BERT add, deep", 0, "prompt_mode=add", NL, 2 },
	{ "RoBERTa cat", 1, NULL, 1, 2 },
	{ "GPT-2", 2, NULL, 1, 3 },
	{ "GPT-2, deep", 2, NULL, NL, 2 },
	{ "Llama", 3, NULL, 1, 3 },
	{ "Llama add, deep", 3, "prompt_mode=add", NL, 2 },
};

static void run_cfg(const struct cfg *c, const char *path, const float *prompts)
{
	struct be b;
	char err[BBT_ERRLEN];
	int rc = be_open(&b, path, c->over, P, c->Lp, err);
	if (rc != 0) {
		ok(0, "%s: open: %s", c->name, err);
		return;
	}
	int causal = c->family >= 2;
	struct bbt_batch bt;
	tiny_batch(&bt, causal, P, c->Lp);
	size_t V = c->V, per = c->Lp * P * H, n = V * per;
	static float grad[MAXN], g1[MAXN];
	float z[NLOG], zs[NLOG];
	for (int lin = 0; lin <= 1; lin++) {
		double coef[NLOG];
		for (size_t i = 0; i < NLOG; i++)
			coef[i] = rnd_normal();
		struct fd_loss ls = { NSEQ, NLAB, lin ? coef : NULL, 0 };
		rc = bbt_plugin.backend->gradient(b.st, &bt, prompts, V, fd_dloss, &ls, z, grad, err,
		                                  sizeof err);
		if (rc != 0 || ls.calls != 1) {
			ok(0, "%s: gradient: %s (dloss called %d times)", c->name, rc ? err : "ok", ls.calls);
			continue;
		}
		double e = fd_check(b.st, &bt, &ls, prompts, grad, V, n, 0.25, &rs);
		ok(e <= 1e-3, "%s, V=%zu, %s loss: gradient = finite differences (max rel err %.2g)",
		   c->name, V, lin ? "linear" : "cross-entropy", e);
		if (lin)
			continue;
		bbt_plugin.backend->score(b.st, &bt, prompts, V, zs, err, sizeof err);
		double dz = 0;
		for (size_t i = 0; i < V * NSEQ * NLAB; i++)
			dz = fmax(dz, fabs(z[i] - zs[i]));
		ok(dz == 0, "%s: gradient's logits = score's (max diff %.2g)", c->name, dz);
		/* each variant's gradient is its own: the last one alone */
		ls.calls = 0;
		rc = bbt_plugin.backend->gradient(b.st, &bt, prompts + (V - 1) * per, 1, fd_dloss, &ls, z, g1,
		                                  err, sizeof err);
		double dg = 0, gmax = 0;
		for (size_t i = 0; i < per; i++) {
			dg = fmax(dg, fabs(g1[i] - grad[(V - 1) * per + i]));
			gmax = fmax(gmax, fabs(g1[i]));
		}
		ok(rc == 0 && dg <= 1e-5 * gmax, "%s: variant %zu alone has the gradient it had among %zu "
		   "(max diff %.2g of %.2g)", c->name, V - 1, V, dg, gmax);
	}
	be_close(&b);
}

int main(void)
{
	char path[] = "/tmp/bbt-native-grad-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		skip_all("cannot create a temporary file");
	close(fd);
	static float prompts[MAXN];
	for (size_t i = 0; i < MAXN; i++)
		prompts[i] = (float)(0.5 * rnd_normal());
	struct tiny t;
	struct tdec d;
	tiny_init(&t);
	int written = -1;
	for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
		const struct cfg *c = &cfgs[k];
		if (c->family != written) {
			struct damage dm = { .roberta = c->family == 1 };
			if (c->family >= 2) {
				if (written >= 2)
					tiny_free(&d.mem);
				tdec_init(&d, c->family == 3);
			}
			if ((c->family < 2 ? tiny_write(&t, path, &dm) : tdec_write(&d, path, 0, 0)) != 0) {
				ok(0, "write a tiny %s", c->name);
				continue;
			}
			written = c->family;
		}
		run_cfg(c, path, prompts);
	}

	/* more chunks than one: the forward pass runs again per chunk */
	struct be b;
	char err[BBT_ERRLEN];
	struct bbt_batch bt;
	static float g_one[MAXN], g_many[MAXN];
	float z[NLOG];
	struct fd_loss ls = { NSEQ, NLAB, NULL, 0 };
	tiny_batch(&bt, 1, P, 1);
	int rc = be_open(&b, path, NULL, P, 1, err);
	rc |= bbt_plugin.backend->gradient(b.st, &bt, prompts, 3, fd_dloss, &ls, z, g_one, err, sizeof err);
	be_close(&b);
	rc |= be_open(&b, path, "max_rows=1", P, 1, err);
	rc |= bbt_plugin.backend->gradient(b.st, &bt, prompts, 3, fd_dloss, &ls, z, g_many, err, sizeof err);
	double diff = 0, gmax = 0;
	for (size_t i = 0; i < 3 * P * H; i++) {
		diff = fmax(diff, fabs(g_one[i] - g_many[i]));
		gmax = fmax(gmax, fabs(g_one[i]));
	}
	ok(rc == 0 && diff <= 1e-5 * gmax,
	   "Llama: one sequence per chunk (max_rows=1) gives the same gradient (max diff %.2g of %.2g)",
	   diff, gmax);
	rc = bbt_plugin.backend->gradient(b.st, &bt, prompts, 3, failing_dloss, NULL, z, g_many, err,
	                                  sizeof err);
	ok(rc == BBT_EINTR, "the loss's error status is passed on");
	like(err, "loss's derivative failed", "with a message");
	rc = bbt_plugin.backend->gradient(b.st, &bt, NULL, 1, fd_dloss, &ls, z, g_many, err, sizeof err);
	ok(rc == BBT_EINVAL, "a gradient without a prompt is refused");
	like(err, "needs a continuous prompt", "and the message says why");
	be_close(&b);

	tiny_free(&d.mem);
	tiny_free(&t);
	unlink(path);
	return done_testing();
}
