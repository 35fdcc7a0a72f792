/*
 * t/native_grad.c - the native backend's prompt gradient on the tiny random
 * models of t/native_tiny.h (BERT in cat and add modes, RoBERTa, GPT-2,
 * Llama; embedding-layer and deep prompts; three sequences of different
 * lengths packed without padding rows; V prompt variants), against central
 * finite differences of the loss along a few directions.
 *
 * The check: for a unit direction u over all the prompt values of a call,
 * the directional derivative <grad, u> against the derivative of the loss
 * along u computed in double from score's float32 logits: the linear
 * coefficient of an odd polynomial (degree 7) fitted by least squares to
 * (L(p + t u) - L(p - t u)) / 2 at 32 steps t in (0, 0.25] (the prompt's
 * norm is about 10). Why 1e-3 is the right bound for float32: L carries
 * the forward pass's rounding noise, some 5e-6 on losses of order 1-10
 * (a few ulps of the logits, grown through the layers; measured: a plain
 * central difference wobbles by 1e-4 at t = 0.025), so a two-point
 * difference cannot do better than about 1e-3 relative with a step short
 * enough for the curvature; the fit over 32 steps averages that noise down
 * and models the curvature up to t^7, leaving 1e-4 - 4e-4 here (25 draws
 * of models and directions). The backward pass's own float32 error is
 * some 1e-6. So 1e-3 passes a correct gradient with a margin of 2.5x,
 * while a wrong term anywhere (a missing residual, a transposed weight,
 * the wrong GELU's derivative) shows as 1e-2 - 1. Random directions'
 * derivatives scatter around |grad| / sqrt(n) (n values): the error is
 * relative to the larger of that and |<grad, u>|, which makes it the
 * relative error of the gradient vector without letting a direction
 * nearly orthogonal to the gradient blow it up; the gradient's own
 * direction (the largest derivative) is one of the four checked.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "native_tiny.h"
#include "tap.h"

#define MAXV 3
enum { P = 4, MAXN = MAXV * NL * P * H, NLOG = MAXV * NSEQ * NLAB };

/* The test's losses, as the host would hand them to the backend: the sum
 * over variants and sequences of the cross-entropy against label i % NLAB,
 * or a fixed random linear functional of the logits. */
struct loss {
	int linear;
	double coef[NLOG];
	int calls;
};

static double loss_value(const struct loss *ls, const float *z, size_t V, double *dz)
{
	double L = 0;
	for (size_t s = 0; s < V * NSEQ; s++) {
		const float *zs = z + s * NLAB;
		size_t y = (s % NSEQ) % NLAB;
		if (ls->linear) {
			for (size_t c = 0; c < NLAB; c++) {
				L += ls->coef[s * NLAB + c] * zs[c];
				if (dz)
					dz[s * NLAB + c] = ls->coef[s * NLAB + c];
			}
			continue;
		}
		double mx = zs[0], sum = 0;
		for (size_t c = 1; c < NLAB; c++)
			mx = fmax(mx, zs[c]);
		for (size_t c = 0; c < NLAB; c++)
			sum += exp(zs[c] - mx);
		L += mx + log(sum) - zs[y];
		for (size_t c = 0; dz && c < NLAB; c++)
			dz[s * NLAB + c] = exp(zs[c] - mx) / sum - (c == y);
	}
	return L;
}

static int dloss(void *ctx, const float *logits, size_t V, size_t n_seq, size_t n_labels,
                 float *dlogits)
{
	struct loss *ls = ctx;
	double dz[NLOG];
	if (n_seq != NSEQ || n_labels != NLAB || V > MAXV)
		return BBT_EINVAL;
	loss_value(ls, logits, V, dz);
	for (size_t i = 0; i < V * n_seq * n_labels; i++)
		dlogits[i] = (float)dz[i];
	ls->calls++;
	return 0;
}

static int failing_dloss(void *ctx, const float *logits, size_t V, size_t n_seq, size_t n_labels,
                         float *dlogits)
{
	(void)ctx, (void)logits, (void)V, (void)n_seq, (void)n_labels, (void)dlogits;
	return BBT_EINTR;
}

/* Decoders predict at the last token and take the prompt at the start. */
static const size_t dec_pred[NSEQ] = { 5, 5, 8 }, dec_pp[NSEQ] = { 0, 0, 0 };

static void batch_for(struct bbt_batch *bt, int causal, size_t Lp)
{
	batch_of(bt, P, Lp);
	if (causal) {
		bt->predict_pos = dec_pred;
		bt->prompt_pos = dec_pp;
	}
}

static double L_at(struct be *b, const struct bbt_batch *bt, const struct loss *ls,
                   const float *prompts, size_t V)
{
	float z[NLOG];
	char err[BBT_ERRLEN];
	if (bbt_plugin.backend->score(b->st, bt, prompts, V, z, err, sizeof err) != 0) {
		diag("score: %s", err);
		return NAN;
	}
	return loss_value(ls, z, V, NULL);
}

/* The derivative of L along u at the prompts, in double: the least-squares
 * fit of an odd polynomial c1 s + c3 s^3 + c5 s^5 + c7 s^7 (s = t / T) to
 * the odd part (L(p + t u) - L(p - t u)) / 2 at NT steps t in (0, T];
 * returns c1 / T. */
#define NT 32
static double odd_fit(struct be *b, const struct bbt_batch *bt, const struct loss *ls,
                      const float *prompts, const double *u, size_t V, size_t n)
{
	static float pp[MAXN];
	const double T = 0.25;
	double A[4][5] = { { 0 } };
	for (int k = 1; k <= NT; k++) {
		double t = T * k / NT, s = t / T, Lp, Lm, phi[4];
		for (size_t i = 0; i < n; i++)
			pp[i] = (float)(prompts[i] + t * u[i]);
		Lp = L_at(b, bt, ls, pp, V);
		for (size_t i = 0; i < n; i++)
			pp[i] = (float)(prompts[i] - t * u[i]);
		Lm = L_at(b, bt, ls, pp, V);
		phi[0] = s;
		for (int j = 1; j < 4; j++)
			phi[j] = phi[j - 1] * s * s;
		for (int r = 0; r < 4; r++) {
			for (int c = 0; c < 4; c++)
				A[r][c] += phi[r] * phi[c];
			A[r][4] += phi[r] * (Lp - Lm) / 2;
		}
	}
	/* Gaussian elimination; the matrix is positive definite */
	for (int r = 0; r < 4; r++)
		for (int q = r + 1; q < 4; q++) {
			double f = A[q][r] / A[r][r];
			for (int c = r; c < 5; c++)
				A[q][c] -= f * A[r][c];
		}
	double c[4];
	for (int r = 3; r >= 0; r--) {
		c[r] = A[r][4];
		for (int q = r + 1; q < 4; q++)
			c[r] -= A[r][q] * c[q];
		c[r] /= A[r][r];
	}
	return c[0] / T;
}

/* Largest relative error of <grad, u> against the extrapolated central
 * difference over 3 random unit directions and the gradient's own. */
static double fd_check(struct be *b, const struct bbt_batch *bt, const struct loss *ls,
                       const float *prompts, const float *grad, size_t V, size_t n)
{
	double u[MAXN], gn = 0, worst = 0;
	for (size_t i = 0; i < n; i++)
		gn += (double)grad[i] * grad[i];
	gn = sqrt(gn);
	for (int d = 0; d < 4; d++) {
		double un = 0, an = 0;
		for (size_t i = 0; i < n; i++) {
			u[i] = d < 3 ? rnd_normal() : grad[i];
			un += u[i] * u[i];
		}
		un = sqrt(un);
		for (size_t i = 0; i < n; i++) {
			u[i] /= un;
			an += grad[i] * u[i];
		}
		double fd = odd_fit(b, bt, ls, prompts, u, V, n);
		double err = fabs(fd - an) / fmax(fabs(an), gn / sqrt((double)n));
		if (!(err <= worst))
			worst = err;   /* NaN sticks */
	}
	return worst;
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
	batch_for(&bt, causal, c->Lp);
	size_t V = c->V, per = c->Lp * P * H, n = V * per;
	static float grad[MAXN], g1[MAXN];
	float z[NLOG], zs[NLOG];
	for (int lin = 0; lin <= 1; lin++) {
		struct loss ls = { .linear = lin };
		for (size_t i = 0; i < NLOG; i++)
			ls.coef[i] = rnd_normal();
		rc = bbt_plugin.backend->gradient(b.st, &bt, prompts, V, dloss, &ls, z, grad, err,
		                                  sizeof err);
		if (rc != 0 || ls.calls != 1) {
			ok(0, "%s: gradient: %s (dloss called %d times)", c->name, rc ? err : "ok", ls.calls);
			continue;
		}
		double e = fd_check(&b, &bt, &ls, prompts, grad, V, n);
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
		rc = bbt_plugin.backend->gradient(b.st, &bt, prompts + (V - 1) * per, 1, dloss, &ls, z, g1,
		                                  err, sizeof err);
		double dg = 0, gmax = 0;
		for (size_t i = 0; i < per; i++) {
			dg = fmax(dg, fabs(g1[i] - grad[(V - 1) * per + i]));
			gmax = fmax(gmax, fabs(g1[i]));
		}
		ok(rc == 0 && dg <= 1e-5 * gmax, "%s: variant %zu alone has the gradient it had among %zu "
		   "(max diff %.2g of %.2g)", c->name, V - 1, V, dg, gmax);
	}
	bbt_plugin.backend->close(b.st);
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
			if ((c->family < 2 ? tiny_write(&t, path, &dm) : tdec_write(&d, path)) != 0) {
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
	struct loss ls = { 0 };
	batch_for(&bt, 1, 1);
	int rc = be_open(&b, path, NULL, P, 1, err);
	rc |= bbt_plugin.backend->gradient(b.st, &bt, prompts, 3, dloss, &ls, z, g_one, err, sizeof err);
	bbt_plugin.backend->close(b.st);
	rc |= be_open(&b, path, "max_rows=1", P, 1, err);
	rc |= bbt_plugin.backend->gradient(b.st, &bt, prompts, 3, dloss, &ls, z, g_many, err, sizeof err);
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
	rc = bbt_plugin.backend->gradient(b.st, &bt, NULL, 1, dloss, &ls, z, g_many, err, sizeof err);
	ok(rc == BBT_EINVAL, "a gradient without a prompt is refused");
	like(err, "needs a continuous prompt", "and the message says why");
	bbt_plugin.backend->close(b.st);

	tiny_free(&d.mem);
	tiny_free(&t);
	unlink(path);
	return done_testing();
}
