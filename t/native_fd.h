/*
 * t/native_fd.h - the native backend's gradient against the loss's
 * derivative along a few directions, by finite differences of score's
 * logits in double; used by t/native_grad.c (tiny models) and
 * t/native_shared.c (the shared BERT model). Header-only; the backend's
 * descriptor is the caller's bbt_plugin.
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
#ifndef BBT_T_NATIVE_FD_H
#define BBT_T_NATIVE_FD_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <bbtbench/plugin.h>

#include "tap.h"

extern const struct bbt_plugin bbt_plugin;

/* The test's losses, as the host would hand them to the backend: the sum
 * over variants and sequences of the cross-entropy against label i %
 * n_labels (i the sequence), or the linear functional coef of the logits. */
struct fd_loss {
	size_t n_seq, n_labels;
	const double *coef;   /* NULL: cross-entropy; else [V][n_seq][n_labels] */
	int calls;            /* of fd_dloss */
};

static double fd_loss_value(const struct fd_loss *ls, const float *z, size_t V, double *dz)
{
	size_t NL_ = ls->n_labels;
	double L = 0;
	for (size_t s = 0; s < V * ls->n_seq; s++) {
		const float *zs = z + s * NL_;
		size_t y = (s % ls->n_seq) % NL_;
		if (ls->coef != NULL) {
			for (size_t c = 0; c < NL_; c++) {
				L += ls->coef[s * NL_ + c] * zs[c];
				if (dz)
					dz[s * NL_ + c] = ls->coef[s * NL_ + c];
			}
			continue;
		}
		double mx = zs[0], sum = 0;
		for (size_t c = 1; c < NL_; c++)
			mx = fmax(mx, zs[c]);
		for (size_t c = 0; c < NL_; c++)
			sum += exp(zs[c] - mx);
		L += mx + log(sum) - zs[y];
		for (size_t c = 0; dz && c < NL_; c++)
			dz[s * NL_ + c] = exp(zs[c] - mx) / sum - (c == y);
	}
	return L;
}

/* The bbt_logit_grad_fn of an fd_loss. */
static int fd_dloss(void *ctx, const float *logits, size_t V, size_t n_seq, size_t n_labels,
                    float *dlogits)
{
	struct fd_loss *ls = ctx;
	if (n_seq != ls->n_seq || n_labels != ls->n_labels)
		return BBT_EINVAL;
	double *dz = malloc(V * n_seq * n_labels * sizeof *dz);
	if (dz == NULL)
		return BBT_ENOMEM;
	fd_loss_value(ls, logits, V, dz);
	for (size_t i = 0; i < V * n_seq * n_labels; i++)
		dlogits[i] = (float)dz[i];
	free(dz);
	ls->calls++;
	return 0;
}

static double fd_loss_at(void *st, const struct bbt_batch *bt, const struct fd_loss *ls,
                         const float *prompts, size_t V, float *z)
{
	char err[BBT_ERRLEN];
	if (bbt_plugin.backend->score(st, bt, prompts, V, z, err, sizeof err) != 0) {
		diag("score: %s", err);
		return NAN;
	}
	return fd_loss_value(ls, z, V, NULL);
}

/* The derivative of L along u at the prompts, in double: the least-squares
 * fit of an odd polynomial c1 s + c3 s^3 + c5 s^5 + c7 s^7 (s = t / T) to
 * the odd part (L(p + t u) - L(p - t u)) / 2 at FD_STEPS steps t in (0, T];
 * returns c1 / T. */
#define FD_STEPS 32
static double fd_odd_fit(void *st, const struct bbt_batch *bt, const struct fd_loss *ls,
                         const float *prompts, const double *u, size_t V, size_t n, double T)
{
	float *pp = malloc(n * sizeof *pp), *z = malloc(V * ls->n_seq * ls->n_labels * sizeof *z);
	double A[4][5] = { { 0 } };
	for (int k = 1; k <= FD_STEPS; k++) {
		double t = T * k / FD_STEPS, s = t / T, Lp, Lm, phi[4];
		for (size_t i = 0; i < n; i++)
			pp[i] = (float)(prompts[i] + t * u[i]);
		Lp = fd_loss_at(st, bt, ls, pp, V, z);
		for (size_t i = 0; i < n; i++)
			pp[i] = (float)(prompts[i] - t * u[i]);
		Lm = fd_loss_at(st, bt, ls, pp, V, z);
		phi[0] = s;
		for (int j = 1; j < 4; j++)
			phi[j] = phi[j - 1] * s * s;
		for (int r = 0; r < 4; r++) {
			for (int c = 0; c < 4; c++)
				A[r][c] += phi[r] * phi[c];
			A[r][4] += phi[r] * (Lp - Lm) / 2;
		}
	}
	free(pp);
	free(z);
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

/* A standard normal draw (splitmix64, Box-Muller). */
static double fd_normal(uint64_t *rs)
{
	uint64_t v[2];
	for (int i = 0; i < 2; i++) {
		uint64_t z = (*rs += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		v[i] = z ^ (z >> 31);
	}
	double u1 = ((v[0] >> 11) + 1) * 0x1.0p-53, u2 = (v[1] >> 11) * 0x1.0p-53;
	return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Largest relative error of <grad, u> against the fitted derivative over
 * 3 random unit directions (drawn from *rs) and the gradient's own; T: the
 * longest step. */
static double fd_check(void *st, const struct bbt_batch *bt, const struct fd_loss *ls,
                       const float *prompts, const float *grad, size_t V, size_t n, double T,
                       uint64_t *rs)
{
	double *u = malloc(n * sizeof *u), gn = 0, worst = 0;
	for (size_t i = 0; i < n; i++)
		gn += (double)grad[i] * grad[i];
	gn = sqrt(gn);
	for (int d = 0; d < 4; d++) {
		double un = 0, an = 0;
		for (size_t i = 0; i < n; i++) {
			u[i] = d < 3 ? fd_normal(rs) : grad[i];
			un += u[i] * u[i];
		}
		un = sqrt(un);
		for (size_t i = 0; i < n; i++) {
			u[i] /= un;
			an += grad[i] * u[i];
		}
		double fd = fd_odd_fit(st, bt, ls, prompts, u, V, n, T);
		double err = fabs(fd - an) / fmax(fabs(an), gn / sqrt((double)n));
		if (!(err <= worst))
			worst = err;   /* NaN sticks */
	}
	free(u);
	return worst;
}

#endif /* BBT_T_NATIVE_FD_H */
