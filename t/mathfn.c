/*
 * t/mathfn.c - the native backend's vector exp, erf and GELU against
 * double-precision libm over dense grids, including array lengths that
 * leave a remainder after the SIMD body.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "plugins/backends/native/mathfn.h"
#include "tap.h"

#define CHUNK 4096

/* Largest error of f over [lo, hi] in steps of `step`, absolute when rel is
 * 0, else relative; the x where it was, in *at. */
static double sweep(void (*f)(float *, size_t), double (*ref)(double), double lo, double hi,
                    double step, int rel, double *at)
{
	float x[CHUNK], y[CHUNK];
	double worst = 0;
	size_t n = 0;
	for (double t = lo;; t += step) {
		int last = t > hi;
		if (!last)
			x[n] = y[n] = (float)t, n++;
		if (n == CHUNK || (last && n > 0)) {
			f(y, n);
			for (size_t i = 0; i < n; i++) {
				double want = ref(x[i]), e = fabs(y[i] - want);
				if (rel)
					e /= fabs(want);
				if (e > worst || isnan(e))
					worst = e, *at = x[i];
			}
			n = 0;
		}
		if (last)
			break;
	}
	return worst;
}

static double gelu_ref(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }

/* GELU's error relative to |x| (its slope far out), so that the tails,
 * where gelu is nearly 0 or nearly x, count alike. */
static double gelu_scaled(double x) { return gelu_ref(x) / fabs(x); }

static void gelu_div(float *y, size_t n)
{
	float x[CHUNK];
	for (size_t i = 0; i < n; i++)
		x[i] = y[i];
	nat_gelu(y, NULL, n);
	for (size_t i = 0; i < n; i++)
		y[i] = (float)((double)y[i] / fabs((double)x[i]));
}

int main(void)
{
	plan(9);
	double at = 0, at2 = 0, e, e2;

	e = sweep(nat_exp, exp, -87, 88, 1e-4, 1, &at);
	ok(e < 2.4e-7, "exp on [-87, 88]: max relative error %.3g (at %g) under 2 ulp", e, at);

	e = sweep(nat_erf, erf, -10, 10, 2e-6, 0, &at);
	ok(e < 2e-7, "erf on [-10, 10]: max absolute error %.3g (at %g) under 2e-7", e, at);

	e = sweep(gelu_div, gelu_scaled, 1e-6, 3, 1e-6, 0, &at);
	e2 = sweep(gelu_div, gelu_scaled, -3, -1e-6, 1e-6, 0, &at2);
	ok(e < 2e-7 && e2 < 2e-7, "gelu on 1e-6 < |x| < 3: max error / |x| %.3g (at %g), %.3g (at %g) "
	   "under 2e-7", e, at, e2, at2);

	e = sweep(gelu_div, gelu_scaled, 3, 60, 1e-5, 0, &at);
	e2 = sweep(gelu_div, gelu_scaled, -60, -3, 1e-5, 0, &at2);
	ok(e < 2e-7 && e2 < 2e-7, "gelu on 3 < |x| < 60: max error / |x| %.3g (at %g), %.3g (at %g) "
	   "under 2e-7", e, at, e2, at2);

	float z[3] = { 0.0f, -0.0f, 0.0f }, big[2] = { -100.0f, 100.0f };
	nat_erf(z, 2);
	ok(z[0] == 0 && z[1] == 0, "erf(+-0) = 0");
	nat_gelu(big, NULL, 2);
	ok(fabsf(big[0]) < 1e-30f && big[1] == 100.0f, "gelu(-100) = 0, gelu(100) = 100 (got %g, %g)",
	   big[0], big[1]);
	z[0] = NAN;
	nat_gelu(z, NULL, 1);
	ok(isnan(z[0]), "gelu(NaN) is NaN");

	/* The bias is added before: gelu(y + b) = gelu of the sum. */
	float y[37], b[37], s[37];
	for (int i = 0; i < 37; i++) {
		y[i] = 0.3f * (float)i - 5.0f;
		b[i] = 0.1f * (float)(i % 7) - 0.3f;
		s[i] = y[i] + b[i];
	}
	nat_gelu(y, b, 37);
	nat_gelu(s, NULL, 37);
	int same = 1;
	for (int i = 0; i < 37; i++)
		same &= y[i] == s[i];
	ok(same, "gelu with a bias = gelu of the sums");

	/* Every length 1..37 (vector body and remainder alike) agrees with
	 * the values computed one by one. */
	int agree = 1;
	for (size_t n = 1; n <= 37; n++) {
		float v[37], one[1];
		for (size_t i = 0; i < n; i++)
			v[i] = 0.7f * (float)i - 9.0f;
		nat_gelu(v, NULL, n);
		for (size_t i = 0; i < n; i++) {
			one[0] = 0.7f * (float)i - 9.0f;
			nat_gelu(one, NULL, 1);
			agree &= fabsf(one[0] - v[i]) <= 2e-7f * fabsf(v[i]) + 1e-30f;
		}
	}
	ok(agree, "gelu of arrays of lengths 1..37 = element by element");
	return done_testing();
}
